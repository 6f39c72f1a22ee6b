"""Index and ranker upkeep: each gallery folder indexed (only new or changed files embedded) and
ranked, locally or in a shared Milvus store, as one part of the view."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from inference.engine.view import GalleryPart
from inference.models.exported import SearchModels
from inference.review.decisions import Decision
from inference.store.index import index_path, update_index
from inference.store.milvus import MilvusApproximateRanker, MilvusRanker, collection_name, gallery_key
from inference.store.ranking import Ranker, build_ranker
from inference.store.vectors import Int8Rows

#: How the policy decides a folder's rows: (folder, names, P(child) [n], groups [n]) -> its decision.
Decide = Callable[[Path, Sequence[str], np.ndarray, np.ndarray | None], Decision]


def saved_ranker(models: SearchModels, vectors: Int8Rows, threshold: int, index_file: Path) -> Ranker:
    """The ranker over an index file's vectors; an approximate one is trained once and
    kept beside the file (`.ann.npz`), keyed by the file's identity, so a restart over
    an unchanged gallery loads it instead of training again."""
    try:
        stat = index_file.stat()
    except OSError:  # no index file: nothing to key a saved index to
        return build_ranker(vectors, threshold)
    key = f"{models.model_id}|{stat.st_size}|{stat.st_mtime_ns}"
    return build_ranker(vectors, threshold, index_file.with_suffix(".ann.npz"), key)


class Folders:
    """Builds the view's part of a folder: its index brought up to date, its rows decided by
    `decide`, its ranker (exact, approximate from `ann_threshold` rows, or Milvus at `store`)."""

    def __init__(
        self, models: SearchModels, cache_dir: Path | None, ann_threshold: int, store: str | None, policy: str
    ) -> None:
        self.models, self.cache_dir = models, cache_dir
        self.ann_threshold, self.store, self.policy = ann_threshold, store, policy

    def part(self, gallery: Path, decide: Decide, progress: bool, on_progress=None) -> GalleryPart:
        index = update_index(self.models, gallery, self.cache_dir, progress, on_progress)
        groups = None if index.facts is None else index.facts.group
        decision = decide(gallery, index.names, index.child_probability, groups)
        ranker: Ranker
        if self.store is None:
            index_file = index_path(self.models, gallery, self.cache_dir)
            ranker = saved_ranker(self.models, index.vectors, self.ann_threshold, index_file)
        else:
            taken = None if index.facts is None else index.facts.taken
            ranker = self._store_ranker(
                gallery_key(gallery), index.paths, index.vectors, decision.restricted, index.stamps, taken
            )
        return GalleryPart(
            gallery,
            index.paths,
            index.stamps,
            index.vectors,
            decision.restricted,
            list(index.skipped),
            ranker,
            decision.flagged,
            index.child_probability,
            index.signals,
            decision.stamp,
            index.facts,
        )

    def vectors_part(
        self, paths: Sequence[Path], vectors: np.ndarray | Int8Rows, index_file: Path | None = None
    ) -> GalleryPart:
        """A part over vectors indexed elsewhere (benchmarks, synthetic galleries): nothing is
        withheld and nothing re-scanned. With `index_file` (where the vectors were read from) an
        approximate index is kept beside it; with a store, the rows are mirrored into it."""
        if not isinstance(vectors, Int8Rows):
            vectors = Int8Rows.quantize(vectors)  # stored as a gallery index stores them
        ranker: Ranker
        nothing = np.zeros(len(paths), bool)
        if self.store is not None:
            ranker = self._store_ranker(gallery_key(None), paths, vectors, nothing, [None] * len(paths))
            ranker.retire()
        elif index_file is not None:
            ranker = saved_ranker(self.models, vectors, self.ann_threshold, index_file)
        else:
            ranker = build_ranker(vectors, self.ann_threshold)
        return GalleryPart(
            None, paths, [None] * len(paths), vectors, nothing, [], ranker, nothing, nothing * 0.0
        )

    def _store_ranker(
        self, gallery: str, paths, vectors: Int8Rows, restricted, stamps, taken=None
    ) -> MilvusRanker:
        """The shared store's ranker for one gallery's rows: approximate in the model's projection
        where the model has one, exact over the full vectors for a model exported before it."""
        assert self.store is not None
        projection = self.models.projection
        if projection is None:
            name = collection_name(f"{self.models.model_id}|{self.policy}")
            return MilvusRanker(self.store, name, gallery, paths, vectors, restricted, stamps, taken)
        name = collection_name(f"{self.models.model_id}|{self.policy}|projected")
        return MilvusApproximateRanker(
            self.store, name, gallery, paths, vectors, restricted, stamps, taken, projection=projection
        )
