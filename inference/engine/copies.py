"""A library's groups of copies, listed (`python -m inference duplicates`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.engine.view import GalleryView


@dataclass(frozen=True)
class CopyGroup:
    """Photos that are one photo: `exact` when all have the same bytes. `restricted`: the group
    is withheld (copies share one verdict, inference/review/decisions.py)."""

    photos: list[Path]
    exact: bool
    restricted: bool

    def to_json(self) -> dict:
        return {"photos": [str(p) for p in self.photos], "exact": self.exact, "restricted": self.restricted}


def copy_groups(view: GalleryView) -> list[CopyGroup]:
    """Groups of two or more, largest first, then by their first photo's path."""
    if view.facts is None:
        return []
    groups = [
        CopyGroup(
            [view.paths[row] for row in rows.tolist()],
            len(np.unique(view.facts.content[rows])) == 1,
            bool(view.restricted[rows].any()),
        )
        for rows in view.copies.values()
    ]
    return sorted(groups, key=lambda group: (-len(group.photos), str(group.photos[0])))
