"""Top-K ranking over stored vectors by dot product: exact below a gallery
size, approximate (faiss IVF over a PCA projection, re-ranked exactly) above.

Why approximate at all: a gallery vector is 1,664 floats, so exact search
reads 6.6 MB per 1,000 images per query; on a 2-core laptop that is about
50 ms at 100k images and 0.6 s at 1M (see bench/results.md). The approximate
index scans 8-bit codes of a 192-d projection in an eighth of its lists instead, then
re-scores its best candidates with the full vectors, so the order of what it
returns is exact and only recall can suffer (measured: bench/results.md).
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import ThreadpoolController

from inference.atomic import atomic_write
from inference.errors import SettingError
from inference.store.projection import PROJECTED_DIM, principal_axes
from inference.store.vectors import Int8Rows, Vectors

#: Galleries at least this large use the approximate index. Chosen from
#: bench/results.md: a whole exact search (embedding the query included) takes
#: 3.6 ms at 1k images and 8.8 ms at 10k, about 0.5 ms more per 1,000 images, so
#: some 14 ms here, while the approximate one stays near 5 ms (recall@10 0.99+).
ANN_THRESHOLD = 20_000
ANN_THRESHOLD_ENV = "GALLERY_ANN_THRESHOLD"  # override, e.g. to test the switch
# Projection, probes and re-rank depth, from real-derived galleries (bench/augmented.py:
# a photo's crops and edits form tight clusters of near-duplicates, as bursts do), where
# the projection, not the probing, loses neighbours. recall@10 at 100k real-derived /
# 1M synthetic, and the ranker's own p95 at 1M: 128-d, a quarter of the lists, 512
# candidates: 0.842 / 0.979, 2.9 ms; 128-d, 2,048 candidates: 0.965 / 0.998, 5.3 ms;
# 192-d, an eighth of the lists, 1,024 candidates (kept): 0.957 / 0.979, 3.7 ms. A 256-d
# projection made a 1M gallery's restart 3.4 s (bench/results.md targets: 3 s, 10 ms).
ANN_FILE_VERSION = 2  # of the saved approximate index (ApproximateRanker.save); 2: lists apart
CANDIDATES = 1024  # re-ranked exactly; at least 4 * k
TRAIN_SAMPLE = 50_000  # vectors that fit the projection and the k-means lists
PROBE_FRACTION = 1 / 8  # share of lists scanned per query
MIN_PROBES = 32  # small galleries have few lists: an eighth of 128 missed a quarter of the top 10


@dataclass(frozen=True)
class AnnSettings:
    """The approximate index's settings; the defaults are the served ones (measured
    above; `python -m bench.ann_grid` compares others side by side)."""

    projected_dim: int = PROJECTED_DIM
    probe_fraction: float = PROBE_FRACTION  # share of lists scanned per query, at least MIN_PROBES
    candidates: int = CANDIDATES  # re-ranked exactly; at least 4 * k

    def probes(self, lists: int) -> int:
        """Lists scanned per query in an index of `lists` lists."""
        return min(lists, max(MIN_PROBES, round(lists * self.probe_fraction)))


@cache
def single_thread_blas() -> None:
    """Limit BLAS to one thread for the rest of this process (a search engine calls
    it once, when built). Waking BLAS threads while onnxruntime's threads still spin
    after embedding the query made exact search at 1k images take 4 ms instead of
    0.1 ms (bench/results.md); exact search runs only below ANN_THRESHOLD rows,
    where one thread is enough. Entered per search instead, the process-wide limit
    raced between concurrent searches (one's exit restored what another had set)."""
    ThreadpoolController().limit(limits=1, user_api="blas")


def top_k(vectors: Vectors, query: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
    """Row indices of the k largest vectors @ query, best first.

    vectors: [N, D]; query: [D]; exclude: a row never returned (the query image
    itself in "find similar"). Ties keep the lower row first.
    """
    scores = vectors @ query  # [N]
    if exclude is not None:
        scores[exclude] = -np.inf
    k = min(k, len(scores) - (exclude is not None))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]  # O(N), then sort only the k
    return top[np.lexsort((top, -scores[top]))]


class Ranker(Protocol):
    approximate: bool  # whether top() may miss a row the exact product would rank in
    loaded: bool  # whether its index was read from disk rather than built

    def top(self, query: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
        """Row indices of the (approximately) k best rows for query [D], best first."""
        ...

    def retire(self) -> None:
        """Called once a view serving this ranker has replaced the one before it: drop
        what only the earlier view needed (a shared store's old rows)."""
        ...


class ExactRanker:
    """Brute force: one matrix-vector product per query."""

    approximate = False
    loaded = False  # nothing to build

    def retire(self) -> None:
        """Nothing shared with an earlier view."""

    def __init__(self, vectors: Vectors) -> None:
        self.vectors = vectors

    def top(self, query: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
        return top_k(self.vectors, query, k, exclude)


class ApproximateRanker:
    """faiss IVF (8-bit codes) over a PCA projection of the centred vectors.

    Centring drops q . mean, the same for every row, so the projected inner
    product ranks like the full one up to the discarded components.
    """

    approximate = True

    def __init__(
        self,
        vectors: Vectors,
        seed: int = 0,
        saved: Path | None = None,
        key: str = "",
        settings: AnnSettings = AnnSettings(),
    ) -> None:
        """Build over vectors [N, D] with `settings`; or, with `saved` (a file `save` wrote
        for the same `key`: the gallery index's identity), load the trained index instead."""
        self.vectors = vectors  # [N, D], kept for the exact re-rank
        self.settings = settings
        self.loaded = saved is not None and self._load(saved, key)
        if not self.loaded:
            self._build(seed)
            if saved is not None:
                self.save(saved, key)

    def _build(self, seed: int) -> None:
        import faiss  # only large galleries need it

        vectors = self.vectors
        rng = np.random.default_rng(seed)
        sample = vectors[np.sort(rng.choice(len(vectors), min(len(vectors), TRAIN_SAMPLE), replace=False))]
        self.mean = sample.mean(axis=0)
        self.projection = principal_axes(sample - self.mean, self.settings.projected_dim)  # [D, d]
        dim = self.projection.shape[1]
        lists = max(1, min(int(4 * np.sqrt(len(vectors))), len(sample) // 39))
        self.index = faiss.index_factory(dim, f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
        self.index.train(self._project(sample))
        for block in _float_blocks(vectors, 16_384):  # bounded temporary memory (float rows: 6.6 kB each)
            self.index.add(self._project(block))
        faiss.extract_index_ivf(self.index).nprobe = self.settings.probes(lists)

    def save(self, path: Path, key: str) -> None:
        """Write the trained index beside `path`, then `path` (its projection, `key` and the
        index's file name), each atomically: a reader sees the old pair or the new one.

        The index goes to a file of its own, named afresh each time, so a restart maps its
        lists from disk (faiss IO_FLAG_MMAP_IFC) instead of copying them out of the .npz:
        at 1M images that took 0.5-1.2 s and 200 MB of memory, mapping takes 2 ms."""
        import faiss

        lists = path.with_name(f"{path.name}.{secrets.token_hex(8)}.faiss")
        with atomic_write(lists) as handle:
            handle.write(faiss.serialize_index(self.index).data)
        with atomic_write(path) as handle:
            np.savez(
                handle,
                version=ANN_FILE_VERSION,
                key=key,
                rows=len(self.vectors),
                mean=self.mean,
                projection=self.projection,
                lists_file=lists.name,
            )
        for old in path.parent.glob(f"{path.name}.*.faiss"):
            if old != lists:  # on Linux a process still searching one keeps its mapping
                with suppress(OSError):  # Windows refuses while one is mapped: left for the next save
                    old.unlink()

    def _load(self, path: Path, key: str) -> bool:
        """Read `path` if it was saved for `key` and these rows; False (rebuild) otherwise."""
        import faiss

        try:
            with np.load(path) as saved:
                if int(saved["version"]) != ANN_FILE_VERSION or str(saved["key"]) != key:
                    return False
                if int(saved["rows"]) != len(self.vectors):
                    return False
                mean, projection = saved["mean"], saved["projection"]
                lists = path.parent / Path(str(saved["lists_file"])).name
            index = faiss.read_index(str(lists), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        except (OSError, ValueError, KeyError, RuntimeError):  # missing, damaged or foreign: rebuild
            return False
        if index.ntotal != len(self.vectors) or index.d != projection.shape[1]:
            return False
        self.mean, self.projection, self.index = mean, projection, index
        return True

    def _project(self, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((rows - self.mean) @ self.projection, dtype=np.float32)

    def retire(self) -> None:
        """Nothing shared with an earlier view (its saved file is keyed to its own index)."""

    def top(
        self, query: np.ndarray, k: int, exclude: int | None = None, allowed: np.ndarray | None = None
    ) -> np.ndarray:
        """`allowed` [N] bool: only rows it sets (faiss skips the others while it scans its lists)."""
        import faiss

        wanted = max(self.settings.candidates, 4 * k) + (exclude is not None)
        projected = np.ascontiguousarray((query @ self.projection)[None], dtype=np.float32)
        params = None
        if allowed is not None:
            bits = np.packbits(allowed, bitorder="little")  # kept alive through the search
            ivf = faiss.extract_index_ivf(self.index)
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe)  # type: ignore[call-arg]
        _, found = self.index.search(projected, min(wanted, len(self.vectors)), params=params)
        candidates = found[0][found[0] >= 0]
        if exclude is not None:
            candidates = candidates[candidates != exclude]
        order = top_k(self.vectors[candidates], query, k)
        return candidates[order]


def _float_blocks(vectors: Vectors, rows: int = 65_536):
    """Float32 blocks [k, D] of all rows in order (codes read without mapping them all)."""
    if isinstance(vectors, Int8Rows):
        yield from vectors.float_blocks(rows)
        return
    for start in range(0, len(vectors), rows):
        yield vectors[start : start + rows]


def ann_threshold() -> int:
    """Gallery size from which search is approximate ($GALLERY_ANN_THRESHOLD overrides)."""
    value = os.environ.get(ANN_THRESHOLD_ENV, "")
    try:
        return int(value) if value else ANN_THRESHOLD
    except ValueError:
        raise SettingError(f"{ANN_THRESHOLD_ENV}={value!r}: expected a whole number of images") from None


def build_ranker(
    vectors: Vectors, threshold: int, saved: Path | None = None, key: str = ""
) -> ExactRanker | ApproximateRanker:
    """Exact search for galleries under `threshold` rows (`ann_threshold()`), approximate
    from it on; its trained index is kept in `saved` (loaded when `key` still matches)."""
    if len(vectors) < max(1, threshold):
        # as floats in memory (under 20k rows: at most 133 MB): converting codes on every
        # query made exact search at 10k images 40% slower
        return ExactRanker(vectors[:] if isinstance(vectors, Int8Rows) else vectors)
    return ApproximateRanker(vectors, saved=saved, key=key)
