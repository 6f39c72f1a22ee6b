"""Policy and review over the view: what each folder withholds (decided by the one child rule,
inference/review/decisions.py, again whenever its releases or captions change), the owner's
review queue, releases and revokes with their audit, and why the detector withholds a photo."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from inference.engine.view import GalleryPart, GalleryView, row_name
from inference.models.exported import SearchModels
from inference.models.sessions import file_sha256
from inference.review.decisions import Decision, decide, decision_stamp
from inference.review.detector import Explanation
from inference.review.releases import (
    REVIEW_ORDERS,
    ReviewError,
    Withheld,
    append_audit,
    read_releases,
    release_for,
    who,
    write_releases,
)
from inference.store.index import GalleryPaths
from inference.store.milvus import MilvusRanker


class Withholding:
    """The content policy (`policy`: "strict" or "off") over views of `models`' galleries."""

    def __init__(self, models: SearchModels, policy: str) -> None:
        self.models, self.policy = models, policy
        self._explained: dict[tuple, Explanation] = {}  # review reasons, per file version
        self._explained_lock = threading.Lock()

    def decide(
        self, gallery: Path, names: Sequence[str], child_probability: np.ndarray, groups: np.ndarray | None
    ) -> Decision:
        """The folder's rows decided (inference/review/decisions.py); `groups`: their copies."""
        threshold = self.models.detector.threshold
        return decide(gallery, names, child_probability, threshold, self.policy, groups)

    @staticmethod
    def stale(part: GalleryPart) -> bool:
        """Whether `part`'s folder changed its releases or captions since `part` was decided."""
        return part.gallery is not None and part.stamp != decision_stamp(part.gallery)

    def decided_again(self, part: GalleryPart) -> GalleryPart:
        """`part` with its photos decided again (nothing re-read but the captions and releases).
        A shared store keeps its rows, their restricted flags written again where they changed."""
        assert part.gallery is not None and isinstance(part.paths, GalleryPaths)
        groups = None if part.facts is None else part.facts.group
        decision = self.decide(part.gallery, part.paths.names, part.child_probability, groups)
        if isinstance(part.ranker, MilvusRanker):  # the store's flags follow the verdict
            part.ranker.set_restricted(decision.restricted)
        return replace(part, restricted=decision.restricted, flagged=decision.flagged, stamp=decision.stamp)

    def queue(self, view: GalleryView, order: str = "likeliest mistakes") -> list[Withheld]:
        """Photos the detector withholds, each with P(child) and whether a person released it;
        `order`: "likeliest mistakes" (lowest P(child) first) or "name"."""
        if order not in REVIEW_ORDERS:
            raise ReviewError(f"unknown review order {order!r}; choose from {', '.join(REVIEW_ORDERS)}")
        threshold = self.models.detector.threshold
        queue = [
            Withheld(part.gallery, row_name(part, row), float(part.child_probability[row]), threshold,
                     not bool(part.restricted[row]))
            for part in view.parts
            if part.gallery is not None
            for row in np.nonzero(part.flagged)[0].tolist()
        ]  # fmt: skip
        return sorted(queue, key=REVIEW_ORDERS[order])

    def explain(self, view: GalleryView, item: Withheld) -> Explanation:
        """Which of the detector's signals withholds `item`, with its value: from the signals its
        index keeps, or (an index written before it kept them) computed from the photo once per
        version of the file (decoding it and searching its faces takes about 0.15 s)."""
        info = item.path.stat()
        key = (str(item.path), info.st_size, info.st_mtime_ns)
        with self._explained_lock:
            known = self._explained.get(key)
        if known is None:
            known = self.models.explain_detector(item.path, _signals(view, item.path))
            with self._explained_lock:
                self._explained[key] = known
        return known

    def release(
        self,
        view: GalleryView,
        folders: Sequence[Path],
        images: Sequence[str | Path],
        revoke: bool,
        tool: str,
    ) -> dict[Path, list[str]]:
        """Record a person's release of withheld photos (`revoke`: take releases back), each appended
        to its gallery's audit log with `tool` ("app", "cli": releases.who); the names recorded, per
        folder. `images`: names as the queue lists them (in `folders`), or paths. All or nothing:
        raises ReviewError, one line per photo that cannot be released, and records none."""
        located = [self._locate(view, folders, image) for image in images]
        problems = [found for found in located if isinstance(found, str)]
        if problems:
            raise ReviewError("\n".join(problems))
        by_gallery: dict[Path, list[str]] = {}
        for part, row in (found for found in located if not isinstance(found, str)):
            assert part.gallery is not None  # _locate finds rows of folders only
            by_gallery.setdefault(part.gallery, []).append(row_name(part, row))
        for gallery, names in by_gallery.items():
            releases = read_releases(gallery)
            for name in names:
                if revoke:
                    releases.pop(name, None)
                else:
                    releases[name] = release_for(gallery / name)
            write_releases(gallery, releases)
            hashes = [(name, releases[name].sha256 if name in releases else file_sha256(gallery / name))
                      for name in names]  # fmt: skip
            append_audit(gallery, "revoke" if revoke else "release", hashes, who(tool))
        return by_gallery

    def _locate(
        self, view: GalleryView, folders: Sequence[Path], image: str | Path
    ) -> tuple[GalleryPart, int] | str:
        """(part, row) of a withheld-by-detector photo, or a one-line reason it cannot be released."""
        if self.policy == "off":
            return f"{image}: the content policy is off, so nothing is withheld"
        candidates = [Path(image)] + [folder / image for folder in folders]
        row = next((view.row_of[c.resolve()] for c in candidates if c.resolve() in view.row_of), None)
        if row is None:
            return f"{image}: not in the gallery (use a name as `review` lists it)"
        part, local = view.part_row(row)
        if part.flagged[local]:
            return part, local
        if part.restricted[local]:
            return f"{image}: a caption names a child, and captions always withhold: it stays withheld"
        return f"{image}: not withheld, so there is nothing to release"


def _signals(view: GalleryView, path: Path) -> np.ndarray | None:
    """The detector's signals indexed for `path`, where the index has them."""
    row = view.row_of.get(path.resolve())
    if row is None:
        return None
    part, local = view.part_row(row)
    return None if part.signals is None else part.signals[local]
