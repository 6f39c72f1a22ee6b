"""The search engine: a gallery index, the ONNX models and the content policy.

Ranking is by the fused score text vector . image vector: one matrix product
over the stored image vectors for small galleries, an approximate index above
`ranking.ann_threshold()` images (see inference/ranking.py). The scoring head
turns the top K scores into calibrated probabilities.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from inference.detector import Explanation
from inference.index import GalleryPaths, index_path, update_index
from inference.language import language_notice, query_language
from inference.milvus_store import MilvusRanker, collection_name
from inference.models import QueryVectors, SearchModels
from inference.policy import (
    DISCLAIMER,
    POLICIES,
    query_verdict,
    query_verdicts,
    warm_up,
    warm_up_in_background,
)
from inference.preprocess import load_image
from inference.ranking import Ranker, build_ranker, single_thread_blas
from inference.ranking import ann_threshold as ann_threshold_setting
from inference.review import (
    REVIEW_ORDERS,
    ReviewError,
    Withheld,
    append_audit,
    read_releases,
    release_for,
    who,
    write_releases,
)
from inference.sessions import file_sha256
from inference.vectors import Int8Rows
from inference.withheld import Decision, decide, decision_stamp


class QueryError(ValueError):
    """A query that cannot be searched (blank); the message says why."""


@dataclass
class Result:
    image: Path
    score: float | None  # search: calibrated probability in [0, 1], None where it would mislead;
    # similar: cosine similarity in [-1, 1]
    restricted: bool
    stamp: tuple[int, int] | None = None  # (size, mtime_ns) of the file when indexed


@dataclass
class SearchResponse:
    query: str
    restricted: bool
    message: str | None
    results: list[Result] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    language: str | None = None  # set when the query is clearly not English
    notice: str | None = None  # what the user should know about these results
    weak: bool = False  # no image matches well: the best probability is under the model's no-match level
    refusal: str | None = None  # a refused query: the policy's reading that refused it (TextVerdict.reason)

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "restricted": self.restricted,
            "refusal": self.refusal,
            "message": self.message,
            "language": self.language,
            "notice": self.notice,
            "weak": self.weak,
            "results": [
                {"image": str(r.image), "score": r.score, "restricted": r.restricted} for r in self.results
            ],
            "skipped": self.skipped,
        }


def normalize_query(query: str) -> str:
    """Collapse whitespace and drop control characters; raise QueryError if blank."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in query)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QueryError("the query is empty: type a few words describing the picture")
    return cleaned


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
    signals: np.ndarray | None = None  # [n, SIGNALS] its inputs where recorded (inference/index.py)
    stamp: tuple = ()  # the releases and captions files as `restricted` was decided (withheld.py)


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


def _name(part: GalleryPart, row: int) -> str:
    """A row's path relative to its gallery folder, as the index names it."""
    assert part.gallery is not None
    return part.paths[row].relative_to(part.gallery).as_posix()


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


class SearchEngine:
    """Text and image search over one or more gallery folders (e.g. a photo
    folder plus an uploads folder), each with its own cached index and ranker."""

    def __init__(
        self,
        galleries: Path | list[Path],
        models: SearchModels,
        cache_dir: Path | None = None,
        progress: bool = True,
        ann_threshold: int | None = None,
        policy: str = "strict",
        view: GalleryView | None = None,
        store: str | None = None,
    ) -> None:
        """Index `galleries` now, or serve `view` (vectors indexed elsewhere; such an
        engine has no folder to re-scan and refuses to refresh). `store`: None ranks
        over the local index files; a Milvus URI (inference/milvus_store.py) mirrors
        each folder's rows into Milvus and ranks there."""
        if policy not in POLICIES:
            raise ValueError(f"unknown content policy {policy!r}; choose from {', '.join(POLICIES)}")
        self.policy, self.store = policy, store
        folders = galleries if isinstance(galleries, list) else [galleries]
        self.galleries = [Path(g) for g in folders]
        self.models, self.cache_dir = models, cache_dir
        self.index_dir = cache_dir or models.dir / "index"  # this instance's index files
        # settings are read once, here, and passed down
        self.ann_threshold = ann_threshold_setting() if ann_threshold is None else ann_threshold
        single_thread_blas()
        warm_up_in_background()  # the policy's dictionaries load while the gallery does
        self._refresh_lock = threading.Lock()  # one index writer at a time
        self._decide_lock = threading.RLock()  # one re-decision at a time (never waits on indexing)
        self._listeners: list[Callable[[GalleryView], None]] = []
        self._explained: dict[tuple, Explanation] = {}  # review reasons, per file version
        self._explained_lock = threading.Lock()
        self._view = view if view is not None else GalleryView(())
        if view is None:
            self.refresh(progress=progress)

    @property
    def gallery(self) -> Path:
        return self.galleries[0]

    @property
    def view(self) -> GalleryView:
        """The current snapshot, its withheld photos decided on the releases and captions as they
        are now: a release, a revoke or a caption written by any process (the CLI, another app)
        is obeyed by the next read, without a restart (inference/withheld.py)."""
        view = self._view
        if not any(self._stale(part) for part in view.parts):
            return view
        with self._decide_lock:
            view = self._view  # another thread may have decided while this one waited
            parts = tuple(self._redecided(part) if self._stale(part) else part for part in view.parts)
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

    @staticmethod
    def _stale(part: GalleryPart) -> bool:
        return part.gallery is not None and part.stamp != decision_stamp(part.gallery)

    def _redecided(self, part: GalleryPart) -> GalleryPart:
        """`part` with its photos decided again (nothing re-read but the captions and releases).
        A shared store keeps its rows: what is shown is read from the view's flags."""
        assert part.gallery is not None and isinstance(part.paths, GalleryPaths)
        decision = self._decision(part.gallery, part.paths.names, part.child_probability)
        return replace(part, restricted=decision.restricted, flagged=decision.flagged, stamp=decision.stamp)

    def _decision(self, gallery: Path, names: Sequence[str], child_probability: np.ndarray) -> Decision:
        return decide(gallery, names, child_probability, self.models.detector.threshold, self.policy)

    def refresh(self, progress: bool = True, on_progress=None, only: list[Path] | None = None) -> None:
        """Re-scan the folders (or `only` those), embedding only new or changed files;
        the other folders' parts, rankers included, are kept as they are."""
        if not self.galleries:
            raise ValueError("this engine serves vectors indexed elsewhere: it has no folder to re-scan")
        with self._refresh_lock:
            kept = {part.gallery: part for part in self.view.parts}
            parts = []
            for gallery in self.galleries:
                if not (gallery.is_dir() or gallery == self.galleries[0]):
                    continue
                rescan = only is None or gallery in only or gallery not in kept
                parts.append(self._part(gallery, progress, on_progress) if rescan else kept[gallery])
            with self._decide_lock:
                self._swap(GalleryView(tuple(parts)))
            for part in parts:  # no search starts on the old view from here on
                part.ranker.retire()

    def _part(self, gallery: Path, progress: bool, on_progress) -> GalleryPart:
        index = update_index(self.models, gallery, self.cache_dir, progress, on_progress)
        index_file = index_path(self.models, gallery, self.cache_dir)
        decision = self._decision(gallery, index.names, index.child_probability)
        if self.store is None:
            ranker: Ranker = saved_ranker(self.models, index.vectors, self.ann_threshold, index_file)
        else:
            name = collection_name(gallery, f"{self.models.model_id}|{self.policy}")
            ranker = MilvusRanker(
                self.store, name, index.paths, index.vectors, decision.restricted, index.stamps
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
        )

    @classmethod
    def from_vectors(
        cls,
        models: SearchModels,
        paths: Sequence[Path],
        vectors: np.ndarray | Int8Rows,
        ann_threshold: int | None = None,
        index_file: Path | None = None,
        store: str | None = None,
    ) -> SearchEngine:
        """An engine over vectors indexed elsewhere (benchmarks, synthetic galleries);
        no image is restricted and nothing is re-scanned. With `index_file` (where the
        vectors were read from), an approximate index is kept beside it as usual;
        with `store` (a Milvus URI), the rows are mirrored into Milvus and ranked there."""
        threshold = ann_threshold_setting() if ann_threshold is None else ann_threshold
        if not isinstance(vectors, Int8Rows):
            vectors = Int8Rows.quantize(vectors)  # stored as a gallery index stores them
        ranker: Ranker
        if store is not None:
            allowed, stamps = np.zeros(len(paths), bool), [None] * len(paths)
            ranker = MilvusRanker(
                store, collection_name(None, models.model_id), paths, vectors, allowed, stamps
            )
            ranker.retire()
        elif index_file is not None:
            ranker = saved_ranker(models, vectors, threshold, index_file)
        else:
            ranker = build_ranker(vectors, threshold)
        nothing = np.zeros(len(paths), bool)
        part = GalleryPart(
            None, paths, [None] * len(paths), vectors, nothing, [], ranker, nothing, nothing * 0.0
        )
        return cls([], models, ann_threshold=ann_threshold, view=GalleryView((part,)))

    def review_queue(self, order: str = "likeliest mistakes") -> list[Withheld]:
        """Photos the detector withholds, each with P(child) and whether a person released it;
        `order`: "likeliest mistakes" (lowest P(child) first) or "name"."""
        threshold = self.models.detector.threshold
        queue = [
            Withheld(part.gallery, _name(part, row), float(part.child_probability[row]), threshold,
                     not bool(part.restricted[row]))
            for part in self.view.parts
            if part.gallery is not None
            for row in np.nonzero(part.flagged)[0].tolist()
        ]  # fmt: skip
        if order not in REVIEW_ORDERS:
            raise ValueError(f"unknown review order {order!r}; choose from {', '.join(REVIEW_ORDERS)}")
        return sorted(queue, key=REVIEW_ORDERS[order])

    def explain(self, item: Withheld) -> Explanation:
        """Which of the detector's signals withholds `item`, with its value (computed from the photo
        once per version of the file: decoding it and searching its faces takes about 0.15 s)."""
        info = item.path.stat()
        key = (str(item.path), info.st_size, info.st_mtime_ns)
        with self._explained_lock:
            known = self._explained.get(key)
        if known is None:
            known = self.models.explain_detector(item.path, self._signals(item.path))
            with self._explained_lock:
                self._explained[key] = known
        return known

    def _signals(self, path: Path) -> np.ndarray | None:
        """The detector's signals [SIGNALS] indexed for `path`, where the index has them."""
        view = self.view
        row = view.row_of.get(path.resolve())
        if row is None:
            return None
        part, local = view.part_row(row)
        return None if part.signals is None else part.signals[local]

    def release(
        self, images: Sequence[str | Path], revoke: bool = False, tool: str = "library"
    ) -> list[Withheld]:
        """Record a person's release of withheld photos (`revoke`: take releases back); the next read
        of the view decides those galleries again. Each is appended to the gallery's audit log with
        `tool` ("app", "cli": review.who). `images`: names as the queue lists them, or paths. All or
        nothing: raises ReviewError, one line per photo that cannot be released, and records none."""
        view, problems, chosen = self.view, [], []
        for image in images:
            found = self._locate(view, image)
            if isinstance(found, str):
                problems.append(found)
            else:
                chosen.append(found)
        if problems:
            raise ReviewError("\n".join(problems))
        by_gallery: dict[Path, list[str]] = {}
        for part, row in chosen:
            assert part.gallery is not None  # _locate finds rows of folders only
            by_gallery.setdefault(part.gallery, []).append(_name(part, row))
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
        # the next read of the view decides those folders again, as it would for another process
        return [item for item in self.review_queue() if item.name in by_gallery.get(item.gallery, [])]

    def _locate(self, view: GalleryView, image: str | Path) -> tuple[GalleryPart, int] | str:
        """(part, row) of a withheld-by-detector photo, or a one-line reason it cannot be released."""
        if self.policy == "off":
            return f"{image}: the content policy is off, so nothing is withheld"
        candidates = [Path(image)] + [g / image for g in self.galleries]
        row = next((view.row_of[c.resolve()] for c in candidates if c.resolve() in view.row_of), None)
        if row is None:
            return f"{image}: not in the gallery (use a name as `review` lists it)"
        part, local = view.part_row(row)
        if part.flagged[local]:
            return part, local
        if part.restricted[local]:
            return f"{image}: a caption names a child, and captions always withhold: it stays withheld"
        return f"{image}: not withheld, so there is nothing to release"

    def __len__(self) -> int:
        return len(self.view)

    def warm_up(self) -> None:
        """Load now what a first search would load: the policy's readings, the text encoder and
        the scoring head (sessions are made on first use), so a visitor's first answer after a
        start is no slower than the next."""
        warm_up()
        vectors = self.models.embed_queries(["a dog runs through the snow"]).vectors
        self.models.probabilities(vectors, vectors)

    def searchable(self, queries: list[str]) -> list[bool]:
        """Whether each of `queries` would be searched (the policy's verdict, its semantic net
        included): the app offers only those as examples. Embedded in one batch."""
        if self.policy == "off":
            return [True] * len(queries)
        multilingual = self.models.embed_queries(queries).multilingual if queries else None
        verdicts = query_verdicts(queries, multilingual, self.models.query_net)
        return [not verdict.refused for verdict in verdicts]

    @staticmethod
    def _results(view: GalleryView, top: np.ndarray, probabilities: np.ndarray, min_probability: float):
        return [
            Result(view.paths[i], float(p), bool(view.restricted[i]), view.stamps[i])
            for i, p in zip(top, probabilities, strict=True)
            if p >= min_probability
        ]

    def search(self, query: str, k: int = 10, min_probability: float = 0.0) -> SearchResponse:
        """Top K images for a text query, each with its match probability."""
        view = self.view
        text = normalize_query(query)
        # wait for the start's background load rather than race it: loading a query's few
        # dictionaries beside it (pure Python, one GIL) made a first answer take 5 s, not 2.7
        warm_up()
        language = query_language(text)
        embedded: list[QueryVectors] = []

        def multilingual() -> np.ndarray | None:  # embedded once, for the policy's net and the ranking
            embedded.append(self.models.embed_queries([text], english=[language is None]))
            return None if embedded[0].multilingual is None else embedded[0].multilingual[0]

        if self.policy == "strict":
            # the query as typed too: normalising turns invisible characters into spaces,
            # which would split a word ("ki\u200bds" -> "ki ds")
            verdict = query_verdict(query, multilingual, self.models.query_net, also=text)
            if verdict.refused:
                message = DISCLAIMER if verdict.reason != "script" else verdict.message
                return SearchResponse(query, True, message, [], list(view.skipped), refusal=verdict.reason)
        if not embedded:
            multilingual()
        # another language is read by the multilingual encoder alone (where the model has one)
        vector = embedded[0].vectors  # [1, D]
        top = view.top(vector[0], k)
        if language is not None:
            # The calibration only ever saw English captions (a Russian query's own picture gets
            # half the probability its English original does, docs/log.md): the ranking is
            # the best we have, but a probability would claim a confidence we lack.
            results = [Result(view.paths[i], None, bool(view.restricted[i]), view.stamps[i]) for i in top]
            notice = language_notice(language, self.models.multilingual)
            return SearchResponse(query, False, None, results, list(view.skipped), language, notice)
        probabilities = self.models.probabilities(vector, view.vectors_at(top))[0]
        results = self._results(view, top, probabilities, min_probability)
        best = float(probabilities.max()) if len(probabilities) else 0.0
        if best >= self.models.no_match_below:
            return SearchResponse(query, False, None, results, list(view.skipped))
        notice = (
            f"No good match: the best probability is {best:.2f}, under {self.models.no_match_below:.2f}, "
            "which 95% of validation captions reach when their picture is in the gallery."
        )
        return SearchResponse(query, False, None, results, list(view.skipped), notice=notice, weak=True)

    def similar(self, image: Path | str, k: int = 10) -> SearchResponse:
        """Gallery images most like `image` (a gallery file or any picture); score =
        cosine of the image vectors in [-1, 1], a similarity and not a probability.
        A restricted gallery image is no query: its look-alikes would show what it hides."""
        view, path = self.view, Path(image)
        own = view.row_of.get(path.resolve())
        if own is not None and view.restricted[own]:
            return SearchResponse(str(image), True, DISCLAIMER, [], list(view.skipped))
        if own is not None:
            vector = view.vectors_at([own])[0]
        else:
            vector = self.models.embed_images(self.models.preprocess(load_image(path))[None])[0][0]
        looks = len(vector) - self.models.penalty_columns
        vector = np.concatenate([vector[:looks], np.zeros(len(vector) - looks, vector.dtype)])
        top = view.top(vector, k, exclude=own)
        neighbours = view.vectors_at(top)[:, :looks]
        vector = vector[:looks]
        cosine = (neighbours @ vector) / (np.linalg.norm(neighbours, axis=1) * np.linalg.norm(vector) + 1e-12)
        results = self._results(view, top, cosine, -1.0)
        return SearchResponse(str(image), False, None, results, list(view.skipped))
