"""Fetching the Flickr8k subset when no copy is found (training, export, evaluation and
benchmarks; serving only finds one: inference.data.dataset.find_data_dir)."""

from __future__ import annotations

import shutil
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

from inference.data.dataset import DEFAULT_DATA_DIR, MARKER_FILE, DataError, find_data_dir

ARCHIVE_URL = "https://code.s3.yandex.net/datasets/dsplus_integrated_project_4.zip"


def locate_data_dir(explicit: str | Path | None = None) -> Path:
    """`find_data_dir(explicit)`, else (no directory named) a fresh download into data/."""
    if explicit is not None:
        return find_data_dir(explicit)
    try:
        return find_data_dir()
    except DataError:
        return download_dataset(DEFAULT_DATA_DIR)


def download_dataset(dest: Path, url: str = ARCHIVE_URL) -> Path:
    """Download and unpack the original archive into `dest` (its `to_upload/` folder)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        archive = Path(tmp) / "data.zip"
        try:
            with urllib.request.urlopen(url, timeout=30) as response, open(archive, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0)
                with tqdm(total=total, unit="B", unit_scale=True, desc="download data") as bar:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        bar.update(len(chunk))
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(tmp)
        except (OSError, zipfile.BadZipFile) as error:
            raise DataError(
                f"could not download the data set from {url} ({error}); "
                "pass --data DIR pointing at an unpacked copy"
            ) from error
        unpacked = next(Path(tmp).rglob(MARKER_FILE), None)
        if unpacked is None:
            raise DataError(f"the archive from {url} holds no {MARKER_FILE}")
        shutil.move(str(unpacked.parent), dest)
    print(f"data set unpacked into {dest}", file=sys.stderr)
    return dest
