"""Pictures the gallery's owner adds: checked, named and de-duplicated before
they join the uploads folder (which is indexed like any gallery folder).

- a file that is no readable image is refused with one line ("not an image: x.jpg");
- a picture already in the folder (same bytes, by SHA-256) is not added twice;
- the original file name is kept, made safe, and numbered only on a clash;
- a quota bounds what one call and the whole folder may hold.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from inference.atomic import atomic_write
from inference.models.preprocess import IMAGE_SUFFIXES, ImageError, load_image

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: What the page's file picker offers and Gradio lets through: images by MIME type, and each
#: suffix the index reads by name, since a system without HEIC in its MIME table would turn an
#: iPhone photo away before `add_files` saw it.
UPLOAD_TYPES = ["image", *sorted(IMAGE_SUFFIXES)]
MAX_FILES_PER_CALL = 50
MAX_FILES_IN_FOLDER = 2000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)  # names in the uploads folder
    notes: list[str] = field(default_factory=list)  # one line per file not added, saying why


def safe_name(name: str) -> str:
    """A file name with only letters, digits, '.', '_' and '-', never hidden or empty."""
    stem, suffix = Path(name).stem, Path(name).suffix.lower()
    cleaned = _UNSAFE.sub("_", stem).strip("._") or "image"
    return cleaned[:100] + suffix


def _unique(folder: Path, name: str) -> Path:
    target, stem, suffix, n = folder / name, Path(name).stem, Path(name).suffix, 1
    while target.exists():
        target, n = folder / f"{stem}-{n}{suffix}", n + 1
    return target


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refusal(source: Path, count: int) -> str | None:
    """Why `source` may not be added (one line), or None."""
    if source.suffix.lower() not in IMAGE_SUFFIXES:
        return f"not an image type we index: {source.name}"
    if source.stat().st_size > MAX_UPLOAD_BYTES:
        return f"larger than {MAX_UPLOAD_BYTES // 2**20} MB: {source.name}"
    if count >= MAX_FILES_IN_FOLDER:
        return f"the uploads folder is full ({MAX_FILES_IN_FOLDER} pictures): {source.name}"
    try:
        load_image(source)
    except ImageError:
        return f"not an image: {source.name}"
    return None


def add_files(files: list[Path], folder: Path) -> AddReport:
    """Copy the acceptable `files` into `folder`; report what was added and why not the rest."""
    folder.mkdir(parents=True, exist_ok=True)
    report = AddReport()
    if len(files) > MAX_FILES_PER_CALL:
        report.notes.append(
            f"{len(files) - MAX_FILES_PER_CALL} file(s) over {MAX_FILES_PER_CALL} per upload: not added"
        )
        files = files[:MAX_FILES_PER_CALL]
    present = {_digest(p): p.name for p in folder.iterdir() if p.is_file()}
    for source in files:
        reason = _refusal(source, len(present))
        digest = _digest(source) if reason is None else ""
        if reason is None and digest in present:
            reason = f"already in the gallery as {present[digest]}: {source.name}"
        if reason:
            report.notes.append(reason)
            continue
        target = _unique(folder, safe_name(source.name))
        with open(source, "rb") as original, atomic_write(target) as copy:
            shutil.copyfileobj(original, copy)  # the indexer never sees half a file
        present[digest] = target.name
        report.added.append(target.name)
    return report
