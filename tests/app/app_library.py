"""A photo library for the app's tests: dates, folders and copies, captioned (the tests of
tests/app/test_library_app.py and tests/app/test_browser.py each take it as a fixture)."""

from __future__ import annotations

import csv
from pathlib import Path

from library_photos import Library, build_library

from inference.data.dataset import load_test_set
from inference.policy import is_restricted_text

COPY_SUFFIXES = ("-small", "-copy")  # tests/library_photos.py's names for a photo's copies


def _is_child_photo(captions: list[str]) -> bool:
    return any(is_restricted_text(caption) for caption in captions)


def captioned_library_in(data_dir: Path, root: Path) -> Library:
    """The 70 test photos as a library in `root` (tests/library_photos.py: dated 2019-2022 in
    nested folders, copies of the first three), with the data set's captions in captions.csv for
    each photo and its copies. The first two photos are ones the captions allow, the third one
    they withhold: two groups of copies to open, and one the page must keep to a tile. The other
    39 allowed photos follow (2019 and most of 2020), then the 28 withheld."""
    captions = load_test_set(data_dir).queries.groupby("image")["query_text"].apply(list).to_dict()
    photos = sorted((data_dir / "test_images").glob("*.jpg"))
    allowed = [photo for photo in photos if not _is_child_photo(captions[photo.name])]
    withheld = [photo for photo in photos if _is_child_photo(captions[photo.name])]
    # the allowed photos early, so the first months show photos rather than tiles
    library = build_library([*allowed[:2], withheld[0], *allowed[2:], *withheld[1:]], root)
    with open(library.root / "captions.csv", "w", newline="") as handle:
        table = csv.writer(handle)
        table.writerow(["image", "caption"])
        for name in sorted(library.taken):
            table.writerows([name, text] for text in captions[original_name(name)])
    return library


def original_name(name: str) -> str:
    """The data set's file name of a library photo or of one of its copies."""
    stem = Path(name).stem
    for suffix in COPY_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return f"{stem}.jpg"
