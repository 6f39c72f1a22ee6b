"""`PhotoSearch`: the library's front door. Open it over an exported model folder, index photo
folders, search them by words or by picture, and review what the content policy withholds:

    from inference import PhotoSearch

    library = PhotoSearch.open("models")        # reads the model folder: nothing else
    library.ensure_index("~/Pictures")          # embeds what is new or changed
    for result in library.search("two dogs playing in the snow", k=10).results:
        print(result.image, result.score, result.restricted)

Opening indexes nothing, starts no thread and changes no process-wide setting: each of those
is a call of its own (`ensure_index`, `warm_up_in_background`, `prepare_process`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from inference.engine import searching
from inference.engine.copies import CopyGroup, copy_groups
from inference.engine.filters import Filters
from inference.engine.folders import Folders
from inference.engine.options import SearchOptions
from inference.engine.responses import QueryError, SearchResponse
from inference.engine.view import GalleryView
from inference.engine.withholding import Withholding
from inference.errors import GalleryError, SettingError
from inference.models.exported import DEFAULT_MODELS_DIR, SearchModels
from inference.policy import POLICIES, warm_up, warm_up_in_background
from inference.review.detector import Explanation
from inference.review.releases import Withheld
from inference.store.milvus import parse_store
from inference.store.ranking import ann_threshold as ann_threshold_setting
from inference.store.ranking import single_thread_blas
from inference.store.vectors import Int8Rows


def prepare_process() -> None:
    """What a process that serves searches sets once, at its start (the app and the CLI call
    it): BLAS limited to one thread (inference/store/ranking.py `single_thread_blas`: exact
    ranking is one small matrix-vector product, and a pool woken beside onnxruntime's threads
    made it 40 times slower)."""
    single_thread_blas()


class PhotoSearch:
    """Text and image search over photo folders (a library and its uploads, say), each with its
    own cached index and ranker, under the content policy."""

    def __init__(
        self,
        models: SearchModels,
        *,
        policy: str = "strict",
        store: str | None = None,
        index_dir: Path | None = None,
        ann_threshold: int | None = None,
    ) -> None:
        """Over loaded `models`; `store`: None ranks over local index files, a Milvus URI mirrors
        each folder's rows into Milvus (inference/store/milvus.py); `index_dir`: where the index
        files go (default: the model folder's `index/`). Indexes nothing (`ensure_index`)."""
        if policy not in POLICIES:
            raise SettingError(f"unknown content policy {policy!r}; choose from {', '.join(POLICIES)}")
        self.models, self.policy, self.store = models, policy, store
        self.index_dir = index_dir or models.dir / "index"
        # read once: a refresh keeps the value this library was opened with
        self.ann_threshold = ann_threshold_setting() if ann_threshold is None else ann_threshold
        self._folders = Folders(models, self.index_dir, self.ann_threshold, store, policy)
        self._withholding = Withholding(models, policy)
        self.folders: list[Path] = []
        self._view = GalleryView(())
        self._refresh_lock = threading.Lock()  # one index writer at a time
        self._decide_lock = threading.RLock()  # one re-decision at a time (never waits on indexing)
        self._listeners: list[Callable[[GalleryView], None]] = []
        self._rescannable = True

    @classmethod
    def open(
        cls,
        models: str | Path | SearchModels = DEFAULT_MODELS_DIR,
        *,
        policy: str = "strict",
        store: str | None = None,
        index_dir: str | Path | None = None,
        int8: bool = False,
        ann_threshold: int | None = None,
    ) -> PhotoSearch:
        """Open over the exported model folder `models` (checked: ModelFilesError names what is
        missing or damaged); `store`: "local" (default), "milvus:FILE.db" or "milvus:http://HOST:19530";
        `int8`: the int8 text encoder (export --int8)."""
        loaded = models if isinstance(models, SearchModels) else SearchModels(Path(models), int8=int8)
        folder = None if index_dir is None else Path(index_dir).expanduser()
        return cls(
            loaded, policy=policy, store=parse_store(store), index_dir=folder, ann_threshold=ann_threshold
        )

    @classmethod
    def over_vectors(
        cls,
        models: SearchModels,
        paths: Sequence[Path],
        vectors: np.ndarray | Int8Rows,
        *,
        ann_threshold: int | None = None,
        index_file: Path | None = None,
        store: str | None = None,
    ) -> PhotoSearch:
        """Search over vectors indexed elsewhere (benchmarks, synthetic galleries): nothing is
        withheld, and there is no folder to index (`ensure_index` refuses)."""
        library = cls(models, store=store, ann_threshold=ann_threshold)
        library._view = GalleryView((library._folders.vectors_part(paths, vectors, index_file),))
        library._rescannable = False
        return library

    # the index

    def ensure_index(self, *folders: str | Path, progress: bool = False, on_progress=None) -> PhotoSearch:
        """Index `folders` (added to those searched), embedding only what is new or changed
        since their index was written; `on_progress(done, total)` after each batch. A folder
        after the first that does not exist yet (an uploads folder) is indexed once it does.
        Returns the library itself, so that calls chain."""
        for folder in (Path(f).expanduser() for f in folders):
            if folder not in self.folders:
                self.folders.append(folder)
        self.refresh(progress=progress, on_progress=on_progress)
        return self

    def refresh(self, progress: bool = False, on_progress=None, only: list[Path] | None = None) -> None:
        """Re-scan the folders (or `only` those), embedding only new or changed files; the other
        folders' parts, rankers included, are kept as they are."""
        if not self._rescannable:
            raise GalleryError("this library serves vectors indexed elsewhere: it has no folder to re-scan")
        with self._refresh_lock:
            kept = {part.gallery: part for part in self.view.parts}
            parts = []
            for folder in self.folders:
                if not (folder.is_dir() or folder == self.folders[0]):
                    continue
                rescan = only is None or folder in only or folder not in kept
                decide = self._withholding.decide
                parts.append(
                    self._folders.part(folder, decide, progress, on_progress) if rescan else kept[folder]
                )
            with self._decide_lock:
                self._swap(GalleryView(tuple(parts)))
            for part in parts:  # no search starts on the old view from here on
                part.ranker.retire()

    @property
    def view(self) -> GalleryView:
        """The current snapshot, its withheld photos decided on the releases and captions as they
        are now: a release, a revoke or a caption written by any process (the CLI, another app)
        is obeyed by the next read, without a restart (inference/review/decisions.py)."""
        view, withholding = self._view, self._withholding
        if not any(withholding.stale(part) for part in view.parts):
            return view
        with self._decide_lock:
            view = self._view  # another thread may have decided while this one waited
            parts = tuple(withholding.decided_again(p) if withholding.stale(p) else p for p in view.parts)
            if any(new is not old for new, old in zip(parts, view.parts, strict=True)):
                self._swap(GalleryView(parts))
        return self._view

    def on_view_change(self, listener: Callable[[GalleryView], None]) -> None:
        """Call `listener(view)` each time a new snapshot serves (a refresh, a re-decision): the
        app prunes the thumbnails of photos withheld since."""
        self._listeners.append(listener)

    def _swap(self, view: GalleryView) -> None:
        self._view = view
        for listener in self._listeners:
            listener(view)

    @property
    def gallery(self) -> Path:
        """The first folder searched."""
        return self.folders[0]

    def __len__(self) -> int:
        return len(self.view)

    # searching

    def search(
        self,
        query: str,
        k: int = 10,
        min_probability: float = 0.0,
        offset: int = 0,
        *,
        after: str | date | None = None,
        before: str | date | None = None,
        under: str | None = None,
        newest_first: int | None = None,
        words: str = "all",
        group_copies: bool = True,
    ) -> SearchResponse:
        """Top K photos for a text query, after the first `offset` (the next page), each with its
        match probability (None for a query in another language); a query the policy refuses
        comes back `restricted`, with no results.

        `after` / `before`: taken from / before a date ("2021-06-01"); `under`: a subfolder of the
        library ("2021/Lisbon"); `newest_first`: the best N matches ordered by date, newest first;
        `words`: "all" (file names, folder names and captions count as words beside the meaning),
        "names" or "off"; `group_copies`: each group of copies takes one place. QueryError names
        an option it cannot use."""
        if offset < 0:
            raise QueryError(f"offset must be 0 or more, not {offset}")
        filters = Filters.of(after, before, under)
        options = SearchOptions(filters, words, newest_first, group_copies)
        view = self.view
        return searching.search(view, self.models, self.policy, query, k, min_probability, offset, options)

    def duplicates(self) -> list[CopyGroup]:
        """The library's groups of copies (exact and near-duplicates), largest first."""
        return copy_groups(self.view)

    def similar(self, image: str | Path, k: int = 10) -> SearchResponse:
        """Photos most like `image` (one of the gallery's, or any picture), by cosine."""
        return searching.similar(self.view, self.models, image, k)

    def searchable(self, queries: list[str]) -> list[bool]:
        """Whether each of `queries` would be searched (the policy's verdict), in one batch."""
        return searching.searchable(self.models, self.policy, queries)

    def warm_up(self) -> None:
        """Load now what a first search would load: the policy's readings, the text encoder and
        the scoring head (sessions are made on first use), so a visitor's first answer after a
        start is no slower than the next."""
        warm_up()
        vectors = self.models.embed_queries(["a dog runs through the snow"]).vectors
        self.models.probabilities(vectors, vectors)

    @staticmethod
    def warm_up_in_background() -> None:
        """Start loading the policy's readings in a thread (while a gallery is indexed, say)."""
        warm_up_in_background()

    # review

    def review(self, order: str = "likeliest mistakes") -> list[Withheld]:
        """The photos the child-image detector withholds, each with P(child) and whether a person
        released it; `order`: "likeliest mistakes" (lowest P(child) first) or "name"."""
        return self._withholding.queue(self.view, order)

    def release(
        self, images: Sequence[str | Path], revoke: bool = False, tool: str = "library"
    ) -> list[Withheld]:
        """Record a person's release of withheld photos (`revoke`: take releases back), audited
        with `tool`; the changed photos as the queue now lists them. All or nothing: ReviewError,
        one line per photo that cannot be released."""
        changed = self._withholding.release(self.view, self.folders, images, revoke, tool)
        return [item for item in self.review() if item.name in changed.get(item.gallery, [])]

    def explain(self, item: Withheld) -> Explanation:
        """Which of the detector's signals withholds `item`, with its value and the threshold."""
        return self._withholding.explain(self.view, item)
