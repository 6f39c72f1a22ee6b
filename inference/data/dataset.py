"""Finding the Flickr8k subset and reading its test split (images + queries); fetching
it is inference.data.download's (serving never imports that).

The test split is all that serving needs (evaluation, app examples); the
training tables are read by `train.data` with the same `read_table` checks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from inference.errors import UserError
from inference.paths import PROJECT_ROOT

DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "flickr8k-subset"
#: Where these machines keep a shared copy, beside the repository checkout.
SHARED_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data" / "flickr8k-subset"
MARKER_FILE = "test_queries.csv"


class DataError(UserError):
    """A data set problem; the message names the file (and row) at fault."""


@dataclass(frozen=True)
class TestSet:
    """Test images and queries; `queries` has columns query_id, query_text, image."""

    image_dir: Path
    images: list[str]
    queries: pd.DataFrame

    def query_owners(self) -> np.ndarray:
        """[Q] index into `images` of each query's own image."""
        column = {name: i for i, name in enumerate(self.images)}
        return self.queries["image"].map(column).to_numpy()


def find_data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory: `explicit`, else $FLICKR8K_DATA, data/flickr8k-subset or the
    shared copy beside the checkout; DataError when there is none (inference.data.download
    fetches one)."""
    if explicit is not None:
        path = Path(explicit)
        if not (path / MARKER_FILE).is_file():
            raise DataError(f"{path}: not a data directory (no {MARKER_FILE} in it)")
        return path
    candidates = [os.environ.get("FLICKR8K_DATA"), DEFAULT_DATA_DIR, SHARED_DATA_DIR]
    for candidate in candidates:
        if candidate and (Path(candidate) / MARKER_FILE).is_file():
            return Path(candidate)
    raise DataError(f"no data set found at {DEFAULT_DATA_DIR}; pass --data DIR")


def read_table(
    path: Path, columns: list[str], sep: str = ",", header: bool = True, index_col: int | None = None
) -> pd.DataFrame:
    """Read a CSV/TSV file, checking it exists and has `columns` (all as str).

    With header=False the file's columns are named `columns` in order.
    """
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(
            path,
            sep=sep,
            header=0 if header else None,
            names=None if header else columns,
            index_col=index_col,
            dtype=str,
            keep_default_na=False,
            quoting=3 if sep == "\t" else 0,  # tab files: captions may hold quotes
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot parse ({error})") from error
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame[columns]


def check_images_exist(frame: pd.DataFrame, column: str, image_dir: Path, source: Path) -> None:
    """Raise DataError naming the first row whose image file is absent."""
    present = {p.name for p in image_dir.iterdir()} if image_dir.is_dir() else set()
    if not image_dir.is_dir():
        raise DataError(f"{image_dir}: image folder not found")
    absent = ~frame[column].isin(present)
    if absent.any():
        row = int(absent.to_numpy().nonzero()[0][0])
        raise DataError(
            f"{source}: row {row + 2} references image {frame[column].iloc[row]!r} "
            f"which is not in {image_dir} ({int(absent.sum())} such rows)"
        )


def load_test_set(data_dir: Path) -> TestSet:
    """Read test_images.csv and test_queries.csv, checking every image exists."""
    image_dir = data_dir / "test_images"
    images_csv = data_dir / "test_images.csv"
    queries_csv = data_dir / "test_queries.csv"
    images = read_table(images_csv, ["image"])
    queries = read_table(queries_csv, ["query_id", "query_text", "image"], sep="|", index_col=0)
    check_images_exist(images, "image", image_dir, images_csv)
    unknown = ~queries["image"].isin(set(images["image"]))
    if unknown.any():
        row = int(unknown.to_numpy().nonzero()[0][0])
        raise DataError(
            f"{queries_csv}: row {row + 2} names image {queries['image'].iloc[row]!r} "
            f"that is not in {images_csv}"
        )
    return TestSet(image_dir, list(images["image"]), queries.reset_index(drop=True))
