"""On-disk gallery index: image vectors keyed by file name, size and mtime.

Only new or changed files are embedded again; deleted files drop out. The index
is one .npz written atomically (temp file + os.replace), also at checkpoints
during a long build, so a crash leaves a loadable index and the next run
resumes where it stopped. An index with another model, or a schema it cannot read, is rebuilt,
not trusted; one of an earlier schema it can read is upgraded in place (what it lacks is read
from the files; no photo is embedded again).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, overload

import numpy as np
from tqdm import tqdm

from inference.atomic import atomic_write, remove_stale_temp_files
from inference.errors import GalleryError
from inference.models.exported import SearchModels
from inference.models.preprocess import IMAGE_SUFFIXES, ImageError, load_image
from inference.review.faces import FACE_FEATURES
from inference.store.duplicates import group_rows
from inference.store.facts import Facts, RowFacts, file_facts
from inference.store.vectors import Int8Rows, npz_member_map

#: 2: child probability from the face-aware detector; 3: int8 codes (inference/store/vectors.py);
#: 4: the detector's signals per row (its reasons in the review queue). 3 is read too, its signals
#: unknown (NaN): nothing is embedded again for them. 5: each photo's facts (when taken, content
#: and perceptual hashes) and its group of copies (inference/store/facts.py, duplicates.py); an
#: index of 3 or 4 gets them from its files, its vectors kept.
SCHEMA_VERSION = 5
READABLE_SCHEMAS = (3, 4, 5)
SIGNALS = 2 + FACE_FEATURES  # the detector's head logits, then its face features
BATCH_SIZE = 16
CHECKPOINT_EVERY = 256  # images embedded between checkpoints, at least
#: ...and embedding between checkpoints takes at least this many times as long
#: as the last save. Each save rewrites the whole file (1.7 GB at 1M images), so
#: a fixed interval would make building a large index quadratic; this keeps
#: saving under 20% of the build time while a crash loses a bounded stretch.
CHECKPOINT_WORK_PER_SAVE = 4.0


@dataclass
class GalleryIndex:
    """names [N] (paths relative to the gallery), vectors [N, D] (int8 codes; memory-mapped
    when loaded), child_probability [N], signals [N, SIGNALS] (the detector's inputs; NaN where
    not recorded: faces not looked for, or an index of schema 3), facts [N] (None: an index of
    schema 3 or 4, before its upgrade)."""

    gallery: Path
    names: list[str]
    stamps: Sequence[tuple[int, int]]  # (size, mtime_ns) per file; a `FileStamps` when loaded
    vectors: Int8Rows
    child_probability: np.ndarray
    signals: np.ndarray
    facts: RowFacts | None
    skipped: list[str] = field(default_factory=list)  # "path: reason"

    @property
    def paths(self) -> GalleryPaths:
        return GalleryPaths(self.gallery, self.names)


class GalleryPaths(Sequence[Path]):
    """The paths of an index's rows, each made when read: a million Path objects
    take seconds to build and hundreds of MB to hold, and a query reads ten."""

    def __init__(self, gallery: Path, names: list[str]) -> None:
        self.gallery, self.names = gallery, names

    def __len__(self) -> int:
        return len(self.names)

    @overload
    def __getitem__(self, row: int) -> Path: ...
    @overload
    def __getitem__(self, row: slice) -> list[Path]: ...
    def __getitem__(self, row: int | slice) -> Path | list[Path]:
        if isinstance(row, slice):
            return [self.gallery / name for name in self.names[row]]
        return self.gallery / self.names[row]


class FileStamps(Sequence[tuple[int, int]]):
    """(size, mtime_ns) of an index's rows over their [N, 2] int64 array, each tuple made
    when read: a million tuples take half a second of a restart, and a query reads ten."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return (tuple(pair) for pair in self.array.tolist())  # type: ignore[misc]

    @overload
    def __getitem__(self, row: int) -> tuple[int, int]: ...
    @overload
    def __getitem__(self, row: slice) -> list[tuple[int, int]]: ...
    def __getitem__(self, row: int | slice) -> tuple[int, int] | list[tuple[int, int]]:
        if isinstance(row, slice):
            return [(int(size), int(mtime)) for size, mtime in self.array[row].tolist()]
        size, mtime = self.array[row].tolist()
        return size, mtime


def index_path(models: SearchModels, gallery: Path, cache_dir: Path | None = None) -> Path:
    """Where the index of `gallery` lives: <models>/index/<name>-<hash>.npz by default."""
    key = hashlib.sha1(str(gallery.resolve()).encode()).hexdigest()[:12]
    return (cache_dir or models.dir / "index") / f"{gallery.resolve().name}-{key}.npz"


def scan_gallery(gallery: Path) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Image files under `gallery` (relative name -> (size, mtime_ns)) and skipped entries."""
    found: dict[str, tuple[int, int]] = {}
    skipped: list[str] = []
    seen_dirs: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(
        gallery,
        followlinks=True,
        onerror=lambda e: skipped.append(f"{e.filename}: unreadable folder ({e.strerror})"),
    ):
        stat = os.stat(root)
        if (stat.st_dev, stat.st_ino) in seen_dirs:  # symlink loop
            skipped.append(f"{root}: symlink loop, not followed")
            dirs[:] = []
            continue
        seen_dirs.add((stat.st_dev, stat.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                info = path.stat()
            except OSError as error:
                skipped.append(f"{path}: cannot stat ({error.strerror})")
                continue
            found[str(path.relative_to(gallery))] = (info.st_size, info.st_mtime_ns)
    return found, skipped


def load_index(path: Path, gallery: Path, model_id: str) -> GalleryIndex | None:
    """The stored index, or None if absent, corrupt, of another schema or model."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("schema") not in READABLE_SCHEMAS or meta.get("model_id") != model_id:
                return None
            names = data["names"].tolist()  # Python str and int: tolist is ~10x faster than a loop
            stamps = FileStamps(data["stamps"])
            child, scales = data["child_probability"], data["scales"]
            unknown = np.full((len(names), SIGNALS), np.nan, np.float32)
            signals = data["signals"] if "signals" in data.files else unknown
            known = all(name in data.files for name in RowFacts.FIELDS)
            facts = RowFacts.from_arrays({name: data[name] for name in RowFacts.FIELDS}) if known else None
        vectors = Int8Rows(npz_member_map(path, "codes"), scales)
        if not (len(names) == len(stamps) == len(vectors) == len(child) == len(signals)):
            return None
        if facts is not None and len(facts) != len(names):
            return None
        if vectors.sha256() != meta.get("vectors_sha256"):
            return None
    except (OSError, ValueError, KeyError, json.JSONDecodeError, EOFError, zipfile.BadZipFile):
        return None
    return GalleryIndex(gallery, names, stamps, vectors, child, signals, facts)  # type: ignore[arg-type]


def save_index(index: GalleryIndex, path: Path, model_id: str) -> None:
    """Write atomically: readers see the old file or the new one, never half of one."""
    meta = {
        "schema": SCHEMA_VERSION,
        "model_id": model_id,
        "vectors_sha256": index.vectors.sha256(),
    }
    arrays: dict[str, Any] = index.facts.arrays() if index.facts is not None else {}
    with atomic_write(path) as handle:
        np.savez(
            handle,
            meta=np.array(json.dumps(meta)),
            names=np.array(index.names, dtype=str),
            stamps=_stamp_array(index.stamps),
            codes=index.vectors.codes,
            scales=index.vectors.scales,
            child_probability=index.child_probability,
            signals=index.signals,
            **arrays,
        )


def _stamp_array(stamps: Sequence[tuple[int, int]]) -> np.ndarray:
    if isinstance(stamps, FileStamps):
        return stamps.array
    return np.array(stamps, dtype=np.int64).reshape(-1, 2)


def _empty(gallery: Path, dim: int) -> GalleryIndex:
    nothing = np.zeros(0, np.float32)
    return GalleryIndex(
        gallery, [], [], Int8Rows.empty(dim), nothing, np.zeros((0, SIGNALS)), RowFacts.of([])
    )


def _keep(index: GalleryIndex, keep: list[int]) -> GalleryIndex:
    if len(keep) == len(index.names):  # nothing dropped: the codes stay where they are (on disk)
        return index
    return GalleryIndex(
        index.gallery,
        [index.names[i] for i in keep],
        [index.stamps[i] for i in keep],
        index.vectors.take(keep),
        index.child_probability[keep],
        index.signals[keep],
        None if index.facts is None else index.facts.take(keep),
        index.skipped,
    )


def _append(
    index: GalleryIndex, names, stamps, vectors: list[Int8Rows], child: list[np.ndarray], signals, facts
):
    """A new index: `index` plus rows (vectors, child, signals and facts as lists of [k, D] / [k] /
    [k, SIGNALS] / [k] blocks); each new row its own group until grouped."""
    assert index.facts is not None
    joined = RowFacts.concatenate([index.facts, *facts])
    joined.group[len(index.names) :] = np.arange(len(index.names), len(joined))
    return GalleryIndex(
        index.gallery,
        index.names + names,
        [*index.stamps, *stamps],
        Int8Rows.concatenate([index.vectors, *vectors]),
        np.concatenate([index.child_probability, *child]),
        np.concatenate([index.signals, *signals]).reshape(-1, SIGNALS).astype(np.float32),
        joined,
        index.skipped,
    )


@dataclass
class Decoded:
    """A batch read from disk: images (PIL RGB, for the face nets), pixels [K, V, 3, S, S]
    (the image encoder's input), their names and facts, and a reason for each file skipped."""

    images: list
    pixels: np.ndarray
    names: list[str]
    skipped: list[str]
    facts: list[Facts]


def decode_files(models: SearchModels, gallery: Path, names: list[str]) -> Decoded:
    """Decode and preprocess `names` in `gallery`; unreadable files are skipped, with why."""
    images, ok, skipped, facts = [], [], [], []
    for name in names:
        try:
            image = load_image(gallery / name, at_least=models.decode_at_least)
            facts.append(file_facts(gallery / name, image))
        except ImageError as error:
            skipped.append(f"{gallery / name}: {error}")
            continue
        except OSError as error:  # gone or unreadable since it was decoded
            skipped.append(f"{gallery / name}: not readable ({error.strerror or error})")
            continue
        images.append(image)
        ok.append(name)
    views = [models.preprocess(image) for image in images]  # float32 [V, 3, S, S] each
    size = models.input_size
    pixels = np.stack(views) if views else np.zeros((0, 0, 3, size, size), np.float32)
    return Decoded(images, pixels, ok, skipped, facts)


def _prefetched(decode, batches: list[list[str]]):
    """Yield decode(batch) for each batch in order, the next one decoding and resizing
    meanwhile in a thread (Pillow releases the GIL), so that work overlaps onnxruntime.
    One batch ahead only: a large gallery is never decoded into memory at once."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode") as pool:
        upcoming = [pool.submit(decode, batch) for batch in batches[:1]]
        for number in range(len(batches)):
            current = upcoming.pop().result()
            upcoming += [pool.submit(decode, batch) for batch in batches[number + 1 : number + 2]]
            yield current


def embed_decoded(models: SearchModels, decoded: Decoded):
    """A decoded batch -> (ok names, vectors [K, D], child [K], signals [K, SIGNALS], facts [K],
    skipped reasons)."""
    facts = RowFacts.of(decoded.facts)
    if not decoded.names:
        dim = models.manifest.vector_dim
        empty = np.zeros((0, dim), np.float32), np.zeros(0, np.float32), np.zeros((0, SIGNALS), np.float32)
        return decoded.names, *empty, facts, decoded.skipped
    vectors, heads = models.embed_images(decoded.pixels)
    child, signals = models.detector_signals(decoded.images, heads)
    return decoded.names, vectors, child, signals, facts, decoded.skipped


class _Checkpoint:
    """Calls `save` when enough images and enough time have passed since the last save."""

    def __init__(self, save) -> None:
        self.save, self.images, self.save_seconds = save, 0, 0.0
        self.since = time.perf_counter()

    def after(self, images: int) -> None:
        self.images += images
        working = time.perf_counter() - self.since
        if self.images >= CHECKPOINT_EVERY and working >= CHECKPOINT_WORK_PER_SAVE * self.save_seconds:
            start = time.perf_counter()
            self.save()
            self.since = time.perf_counter()
            self.images, self.save_seconds = 0, self.since - start


def update_index(
    models: SearchModels,
    gallery: Path,
    cache_dir: Path | None = None,
    progress: bool = True,
    on_progress=None,
) -> GalleryIndex:
    """Bring the gallery's index up to date and return it.

    on_progress(done, total) is called after each batch (for UIs).
    """
    if not gallery.is_dir():
        raise GalleryError(f"{gallery}: gallery folder not found")
    path = index_path(models, gallery, cache_dir)
    remove_stale_temp_files(path)
    dim = models.manifest.vector_dim
    index = load_index(path, gallery, models.model_id) or _empty(gallery, dim)
    found, skipped = scan_gallery(gallery)
    rows = zip(index.names, index.stamps, strict=True)
    keep = [i for i, (name, stamp) in enumerate(rows) if found.get(name) == stamp]
    changed = len(keep) != len(index.names)
    index = _keep(index, keep)
    upgraded = index.facts is None
    if upgraded:  # an index of an earlier schema: its facts read from the files, nothing embedded
        index = _with_facts(index, gallery, models.decode_at_least, progress)
    indexed = set(index.names)
    todo = [name for name in found if name not in indexed]
    # New rows gather in lists and join the index only when saved: appending to
    # one array per batch would copy the whole index every 16 images.
    names: list[str] = []
    vectors: list[Int8Rows] = []
    child: list[np.ndarray] = []
    signals: list[np.ndarray] = []
    facts: list[RowFacts] = []

    def current() -> GalleryIndex:
        return _append(index, names, [found[n] for n in names], vectors, child, signals, facts)

    checkpoint = _Checkpoint(lambda: save_index(current(), path, models.model_id))
    bar = tqdm(
        total=len(todo), desc="index gallery", unit="img", disable=not progress or not todo, file=sys.stderr
    )
    batches = [todo[start : start + BATCH_SIZE] for start in range(0, len(todo), BATCH_SIZE)]
    done = 0
    decoding = _prefetched(partial(decode_files, models, gallery), batches)
    for batch, decoded in zip(batches, decoding, strict=True):
        ok, batch_vectors, batch_child, batch_signals, batch_facts, bad = embed_decoded(models, decoded)
        names += ok
        facts.append(batch_facts)
        vectors.append(Int8Rows.quantize(batch_vectors))
        child.append(batch_child)
        signals.append(batch_signals)
        skipped += bad
        done += len(batch)
        bar.update(len(batch))
        if on_progress:
            on_progress(done, len(todo))
        checkpoint.after(len(batch))
    bar.close()
    kept_rows = len(index.names)
    index = current()
    if todo or changed or upgraded or not path.is_file():
        new_from = 0 if changed or upgraded else kept_rows  # a dropped row may have joined a group
        index = _grouped(index, new_from)
        save_index(index, path, models.model_id)
    index.skipped = skipped
    return index


def _with_facts(
    index: GalleryIndex, gallery: Path, at_least: tuple[int, int], progress: bool
) -> GalleryIndex:
    """`index` (of schema 3 or 4) with each row's facts read from its file; a row whose file
    cannot be read now is dropped (it is tried again as a new file, and skipped with why)."""
    read: list[Facts] = []
    keep: list[int] = []
    rows = tqdm(index.names, desc="read dates and hashes", unit="img", disable=not progress, file=sys.stderr)
    for row, name in enumerate(rows):
        try:
            read.append(file_facts(gallery / name, at_least=at_least))  # decoded as indexing decodes
        except (OSError, ImageError):
            continue
        keep.append(row)
    index = _keep(index, keep)  # facts None: kept as None
    index.facts = RowFacts.of(read)
    return index


def _grouped(index: GalleryIndex, new_from: int) -> GalleryIndex:
    """`index` with its groups of copies found again for the rows from `new_from` on."""
    assert index.facts is not None
    index.facts = replace(index.facts, group=group_rows(index.facts, new_from))
    return index
