"""One consistent snapshot of the indexed gallery folders, searched as one: each folder's part
(its rows, vectors, ranker and what the policy withholds) and the view over them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from inference.store.ranking import Ranker
from inference.store.vectors import Int8Rows


@dataclass(frozen=True)
class GalleryPart:
    """One gallery folder's rows, each field row-aligned, with its own ranker: a
    refresh of one folder (an upload) rebuilds only its part."""

    gallery: Path | None  # None: vectors indexed elsewhere (benchmarks)
    paths: Sequence[Path]
    stamps: Sequence[tuple[int, int] | None]  # (size, mtime_ns) of each file when indexed; None: no file
    vectors: Int8Rows  # [n, D]
    restricted: np.ndarray  # [n] bool
    skipped: list[str]
    ranker: Ranker  # over `vectors`: exact, or approximate for large galleries
    flagged: np.ndarray  # [n] bool: no caption, and the detector says child (released or not)
    child_probability: np.ndarray  # [n] the detector's P(child)
    signals: np.ndarray | None = None  # [n, SIGNALS] its inputs where recorded (inference/store/index.py)
    # the releases and captions files as `restricted` was decided (inference/review/decisions.py)
    stamp: tuple = ()


@dataclass(frozen=True)
class GalleryView:
    """One consistent snapshot of the indexed galleries: rows numbered across its
    parts in order. Searches read one snapshot; a refresh swaps in a new one, so
    concurrent searches never see half-updated arrays. Vectors stay in their parts
    (no concatenated copy of a million rows)."""

    parts: tuple[GalleryPart, ...]

    @cached_property
    def paths(self) -> Sequence[Path]:
        """[N] across parts; one part's own (lazy) sequence when there is one part."""
        if len(self.parts) == 1:
            return self.parts[0].paths
        return [path for part in self.parts for path in part.paths]

    @cached_property
    def stamps(self) -> Sequence[tuple[int, int] | None]:
        """[N] across parts; one part's own (lazy) sequence when there is one part."""
        if len(self.parts) == 1:
            return self.parts[0].stamps
        return [stamp for part in self.parts for stamp in part.stamps]

    @cached_property
    def restricted(self) -> np.ndarray:
        """[N] bool."""
        return np.concatenate([part.restricted for part in self.parts] or [np.zeros(0, bool)]).astype(bool)

    @cached_property
    def skipped(self) -> list[str]:
        return [line for part in self.parts for line in part.skipped]

    @cached_property
    def _starts(self) -> np.ndarray:
        """[P + 1] first row of each part, then the row count."""
        return np.cumsum([0, *(len(part.paths) for part in self.parts)])

    @cached_property
    def row_of(self) -> dict[Path, int]:
        """Resolved path -> row, built once per snapshot (not per query)."""
        return {path.resolve(): row for row, path in enumerate(self.paths)}

    @property
    def approximate(self) -> bool:
        return any(part.ranker.approximate for part in self.parts)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def part_row(self, row: int) -> tuple[GalleryPart, int]:
        """(the part holding view row `row`, its row in that part)."""
        part = int(self.part_of(np.array([row]))[0])
        return self.parts[part], row - int(self._starts[part])

    def part_of(self, rows: np.ndarray) -> np.ndarray:
        """Index of the part holding each of `rows` [R]; a row's place in it is row - _starts[part]."""
        return np.searchsorted(self._starts, rows, side="right") - 1

    def vectors_at(self, rows: np.ndarray | list[int]) -> np.ndarray:
        """Image vectors [len(rows), D] of the given rows."""
        rows = np.asarray(rows, dtype=np.int64)
        part = self.part_of(rows)
        out = np.empty((len(rows), self.parts[0].vectors.shape[1]), np.float32)
        for p in np.unique(part):
            mask = part == p
            out[mask] = self.parts[p].vectors[rows[mask] - self._starts[p]]
        return out

    def top(self, query: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
        """Rows of the k best images for query [D] across parts, best first."""
        found, scores = [], []
        for p, part in enumerate(self.parts):
            if not len(part.paths):
                continue
            start = int(self._starts[p])
            local = None
            if exclude is not None and 0 <= exclude - start < len(part.paths):
                local = exclude - start
            rows = part.ranker.top(query, min(k, len(part.paths)), exclude=local)
            if len(self.parts) == 1:
                return rows
            found.append(rows + start)
            scores.append(part.vectors[rows] @ query)
        if not found:
            return np.zeros(0, dtype=np.int64)
        merged, merged_scores = np.concatenate(found), np.concatenate(scores)
        return merged[np.argsort(-merged_scores, kind="stable")[:k]]


def row_name(part: GalleryPart, row: int) -> str:
    """A row's path relative to its gallery folder, as the index names it."""
    assert part.gallery is not None
    return part.paths[row].relative_to(part.gallery).as_posix()
