"""One consistent snapshot of the indexed gallery folders, searched as one: each folder's part
(its rows, vectors, ranker and what the policy withholds) and the view over them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from inference.engine.filters import Filters, filter_mask
from inference.engine.words import WordIndex
from inference.review.decisions import known_captions
from inference.store.facts import RowFacts, taken_text
from inference.store.index import GalleryPaths
from inference.store.ranking import ApproximateRanker, Ranker, top_k
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
    facts: RowFacts | None = None  # [n] when taken, hashes, groups of copies; None: vectors only


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

    @cached_property
    def names(self) -> list[str]:
        """[N] each row's path relative to its gallery folder ("2021/Lisbon/IMG_2041.jpg"); the
        whole path for vectors indexed elsewhere."""
        return [name for part in self.parts for name in _part_names(part)]

    @cached_property
    def facts(self) -> RowFacts | None:
        """[N] across parts, group ids numbered across parts too; None where a part has none."""
        if not self.parts or any(part.facts is None for part in self.parts):
            return None
        parts = []
        for start, part in zip(self._starts, self.parts, strict=False):
            assert part.facts is not None
            parts.append(replace(part.facts, group=part.facts.group + start))
        return RowFacts.concatenate(parts)

    @cached_property
    def copies(self) -> dict[int, np.ndarray]:
        """Group id -> its rows [m], for the groups of two or more."""
        if self.facts is None:
            return {}
        groups = self.facts.group
        shared = np.nonzero(np.bincount(groups, minlength=len(groups)) > 1)[0]
        members = np.nonzero(np.isin(groups, shared))[0]
        return {int(g): members[groups[members] == g] for g in shared}

    @cached_property
    def name_words(self) -> WordIndex:
        """The rows' file and folder names as words."""
        return WordIndex(self.names)

    @cached_property
    def all_words(self) -> WordIndex:
        """The rows' names and captions as words (the captions as they were when this snapshot
        was decided: a caption written since makes a new snapshot)."""
        captions: list[list[str]] = []
        for part in self.parts:
            known = known_captions(part.gallery) if part.gallery is not None else {}
            captions += [known.get(name, []) for name in _part_names(part)]
        return WordIndex(self.names, captions)

    def copies_of(self, row: int) -> list[int]:
        """The other rows of `row`'s group of copies ([] for a photo with none)."""
        if self.facts is None:
            return []
        group = self.copies.get(int(self.facts.group[row]))
        return [] if group is None else [other for other in group.tolist() if other != row]

    def taken_of(self, row: int) -> str | None:
        """When `row` was taken (inference/store/facts.py `taken_text`); None where unknown."""
        if self.facts is None:
            return None
        facts = self.facts
        return taken_text(int(facts.taken[row]), int(facts.source[row]), int(facts.offset[row]))

    def folder_of(self, row: int) -> str:
        """The folder holding `row`, relative to its gallery folder ("" at its top)."""
        part, _ = self.part_row(row)
        return self.names[row].rpartition("/")[0] if part.gallery is not None else ""

    def mask(self, filters: Filters) -> np.ndarray | None:
        """[N] bool of the rows `filters` lets through; None: all of them."""
        return filter_mask(filters, self.names, None if self.facts is None else self.facts.taken)

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

    def top(
        self, query: np.ndarray, k: int, exclude: int | None = None, mask: np.ndarray | None = None
    ) -> np.ndarray:
        """Rows of the k best images for query [D] across parts, best first; `mask` [N] bool:
        only rows it sets (ranked before the cut, so k of them come back where k exist)."""
        found, scores = [], []
        for p, part in enumerate(self.parts):
            if not len(part.paths):
                continue
            start = int(self._starts[p])
            local = None
            if exclude is not None and 0 <= exclude - start < len(part.paths):
                local = exclude - start
            if mask is None:
                rows = part.ranker.top(query, min(k, len(part.paths)), exclude=local)
            else:
                rows = _masked_top(part, query, k, mask[start : start + len(part.paths)], local)
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


#: a filtered search scans its rows exactly up to this many (about 0.1 s here), and asks the
#: approximate index for the best rows that pass beyond it
EXACT_SUBSET_UP_TO = 100_000


def _masked_top(
    part: GalleryPart, query: np.ndarray, k: int, allowed: np.ndarray, exclude: int | None
) -> np.ndarray:
    """A part's k best rows among those `allowed` [n] sets, best first."""
    allowed = allowed.copy()
    if exclude is not None:
        allowed[exclude] = False
    rows = np.nonzero(allowed)[0]
    if len(rows) > EXACT_SUBSET_UP_TO and isinstance(part.ranker, ApproximateRanker):
        return part.ranker.top(query, k, allowed=allowed)
    return rows[top_k(part.vectors[rows], query, k)]


def _part_names(part: GalleryPart) -> list[str]:
    if isinstance(part.paths, GalleryPaths):
        return part.paths.names
    return [str(path) for path in part.paths]
