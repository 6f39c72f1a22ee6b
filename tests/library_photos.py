"""A photo library the tests build from the data set's test photos: nested folders by year and
place, each photo with an EXIF date written here (three years), and copies of some photos
(resized and recompressed; an exact copy) in other folders."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from PIL import ExifTags, Image

FIRST_DAY = datetime(2019, 1, 1, 12, 0, 0)
DAYS_APART = 16  # 70 photos over three years
FOLDERS = ("2019/Home", "2020/Lisbon", "2021/Summer/Beach")


@dataclass
class Library:
    root: Path
    taken: dict[str, datetime]  # gallery-relative name -> its EXIF date
    copies: list[set[str]]  # each group of copies, by name


def exif_with_date(moment: datetime, offset: str | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = moment.strftime("%Y:%m:%d %H:%M:%S")
    if offset is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = offset
    return exif


def build_library(photos: list[Path], root: Path, copies_of: int = 3) -> Library:
    """`photos` in year folders with EXIF dates DAYS_APART days apart from FIRST_DAY, and for the
    first `copies_of` photos: one resized to half and recompressed, in another folder; the first
    also copied byte for byte."""
    taken: dict[str, datetime] = {}
    groups: list[set[str]] = []
    for number, photo in enumerate(photos):
        moment = FIRST_DAY + timedelta(days=DAYS_APART * number)
        name = f"{FOLDERS[min(moment.year - 2019, 2)]}/{photo.stem}.jpg"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        with Image.open(photo) as image:
            image.save(root / name, quality=95, exif=exif_with_date(moment, "+01:00" if number % 2 else None))
        taken[name] = moment
        if number < copies_of:
            copy = f"copies/{photo.stem}-small.jpg"
            (root / copy).parent.mkdir(parents=True, exist_ok=True)
            with Image.open(root / name) as image:
                small = image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)
                small.save(root / copy, quality=70, exif=exif_with_date(moment))
            taken[copy] = moment
            groups.append({name, copy})
        if number == 0:
            exact = f"copies/{photo.stem}-copy.jpg"
            shutil.copy(root / name, root / exact)
            taken[exact] = moment
            groups[0].add(exact)
    return Library(root, taken, groups)
