"""What part of a library a search looks at: a date range and a subfolder. The filter applies
before the top K is cut, so a narrow range still fills its page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import PurePosixPath

import numpy as np

from inference.engine.responses import QueryError
from inference.store.facts import parse_day


@dataclass(frozen=True)
class Filters:
    """after: taken at or after (wall-clock seconds, inference/store/facts.py); before: taken
    before; under: a subfolder of a gallery folder ("2021/Lisbon")."""

    after: int | None = None
    before: int | None = None
    under: str | None = None

    @classmethod
    def of(
        cls,
        after: str | date | None = None,
        before: str | date | None = None,
        under: str | None = None,
    ) -> Filters:
        """From what a person types (dates as 2021-06-01 or 2021-06-01T12:30, or date objects);
        QueryError names a date it cannot read, or a range that holds nothing."""
        start, end = _moment(after, "after"), _moment(before, "before")
        if start is not None and end is not None and end <= start:
            raise QueryError(
                f"the date range is empty: 'before' ({before}) is not later than 'after' ({after})"
            )
        folder = _folder(under)
        return cls(start, end, folder)

    def describe(self) -> str:
        """The filters in words: "taken from 2021-01-01, under 2021/Lisbon"."""
        said = []
        if self.after is not None:
            said.append(f"taken from {_day(self.after)}")
        if self.before is not None:
            said.append(f"taken before {_day(self.before)}")
        if self.under is not None:
            said.append(f"under {self.under}")
        return ", ".join(said)

    @property
    def any(self) -> bool:
        return self.after is not None or self.before is not None or self.under is not None


def _moment(value: str | date | None, option: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        text = value.isoformat() if isinstance(value, datetime) else f"{value.isoformat()}T00:00"
        return parse_day(text, option)
    try:
        return parse_day(value, option)
    except ValueError as error:
        raise QueryError(str(error)) from None


def _folder(under: str | None) -> str | None:
    """`under` as a gallery-relative folder ("2021/Lisbon"), or None for the whole library."""
    if under is None or not under.strip(" /"):
        return None
    path = PurePosixPath(under.strip().replace("\\", "/").strip("/"))
    if path.is_absolute() or ".." in path.parts:
        raise QueryError(f"--under {under!r}: name a folder inside the gallery, such as 2021/Lisbon")
    return path.as_posix()


def filter_mask(filters: Filters, names: list[str], taken: np.ndarray | None) -> np.ndarray | None:
    """[n] bool: rows (gallery-relative `names`, `taken` [n] or None where unknown) that pass, or
    None when nothing is filtered. Rows with no date known never pass a date filter."""
    if not filters.any:
        return None
    keep = np.ones(len(names), bool)
    if filters.after is not None or filters.before is not None:
        if taken is None:
            return np.zeros(len(names), bool)
        if filters.after is not None:
            keep &= taken >= filters.after
        if filters.before is not None:
            keep &= taken < filters.before
    if filters.under is not None:
        prefix = filters.under + "/"
        keep &= np.array([name.startswith(prefix) for name in names], dtype=bool)
    return keep


def _day(moment: int) -> str:
    text = datetime.fromtimestamp(moment, UTC).isoformat(timespec="minutes").removesuffix("+00:00")
    return text.removesuffix("T00:00")
