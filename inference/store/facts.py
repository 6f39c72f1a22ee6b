"""What a photo library knows of each photo besides its vector: when it was taken, and the two
fingerprints that find its copies.

- **When taken**: EXIF DateTimeOriginal, with OffsetTimeOriginal where the camera wrote one,
  else the file's modification time in this machine's time zone, marked as such. Stored as the
  wall-clock time where the photo was taken, in seconds from 1970-01-01 read as UTC: a photo taken
  at 23:00 on New Year's Eve in Lisbon belongs to that year, whatever zone searches it.
- **Content hash**: 64 bits of BLAKE2b over the file's bytes (exact copies).
- **Perceptual hashes**: the 64-bit DCT hash (pHash, as the `imagehash` package computes it:
  32x32 grey, the DCT's 8x8 lowest frequencies against their median) of the photo, and of its
  central 90% and 80%: a resized or recompressed copy changes the first in a few bits, and a copy
  cropped by up to about a tenth on each side matches a central one (near-duplicates,
  inference/store/duplicates.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

from inference.models.preprocess import load_image

#: taken_source values
FROM_FILE, FROM_EXIF = 0, 1
SOURCES = {FROM_FILE: "file", FROM_EXIF: "exif"}
NO_OFFSET = -32768  # taken_offset (minutes east of UTC) where the camera wrote none
_EXIF_TIME = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})")
_HASH_SIDE = 32


@dataclass(frozen=True)
class Facts:
    """One photo's facts: taken (wall-clock seconds, see the module), source, offset, hashes."""

    taken: int
    source: int  # FROM_FILE or FROM_EXIF
    offset: int  # minutes east of UTC, NO_OFFSET where unknown
    content: int  # BLAKE2b-64 of the bytes, as a signed int64
    perceptual: int  # pHash, as a signed int64
    central90: int  # pHash of the central 90% (5% off each side)
    central80: int  # pHash of the central 80%


def file_facts(
    path: Path, image: Image.Image | None = None, at_least: tuple[int, int] | None = None
) -> Facts:
    """The facts of the photo at `path`; `image`: its pixels as the indexer decoded them, else
    decoded here as it does (`load_image` with `at_least`: the same pixels, so the same hashes).
    Raises OSError or ImageError for an unreadable file (the indexer skips it, with why)."""
    data = path.read_bytes()
    content = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)
    if image is None:
        image = load_image(path, at_least=at_least)
    with Image.open(path) as opened:
        exif_time = _exif_taken(opened)
    hashes = perceptual_hashes(image)
    if exif_time is not None:
        taken, offset = exif_time
        return Facts(taken, FROM_EXIF, offset, content, *hashes)
    local = datetime.fromtimestamp(path.stat().st_mtime).replace(tzinfo=UTC)  # local wall clock
    return Facts(int(local.timestamp()), FROM_FILE, NO_OFFSET, content, *hashes)


def _exif_taken(image: Image.Image) -> tuple[int, int] | None:
    """(wall-clock seconds, offset minutes or NO_OFFSET) from EXIF DateTimeOriginal, or None."""
    try:
        exif = image.getexif().get_ifd(ExifTags.IFD.Exif)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):  # damaged EXIF: fall back
        return None
    found = _EXIF_TIME.match(str(exif.get(ExifTags.Base.DateTimeOriginal, "")))
    if found is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in found.groups())
        wall = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # "0000:00:00 00:00:00", as some cameras write when unset
        return None
    offset = _EXIF_OFFSET.match(str(exif.get(ExifTags.Base.OffsetTimeOriginal, "")))
    minutes = NO_OFFSET
    if offset is not None:
        sign = -1 if offset.group(1) == "-" else 1
        minutes = sign * (int(offset.group(2)) * 60 + int(offset.group(3)))
    return int(wall.timestamp()), minutes


def perceptual_hashes(image: Image.Image) -> tuple[int, int, int]:
    """pHash of `image`, of its central 90% and of its central 80%."""
    grey = image.convert("L")
    # shrunk once (box filter) before the three 32 px resizes: 3.4 -> about 1 ms a photo
    grey.thumbnail((_HASH_SIDE * 4, _HASH_SIDE * 4), Image.Resampling.BOX)
    width, height = grey.size
    central = [
        grey.crop((round(width * f), round(height * f), round(width * (1 - f)), round(height * (1 - f))))
        for f in (0.05, 0.1)
    ]
    return perceptual_hash(grey), perceptual_hash(central[0]), perceptual_hash(central[1])


def perceptual_hash(image: Image.Image) -> int:
    """The 64-bit DCT hash of `image` (any mode), as a signed int64."""
    grey = np.asarray(
        image.convert("L").resize((_HASH_SIDE, _HASH_SIDE), Image.Resampling.LANCZOS), np.float64
    )
    low = (_DCT @ grey @ _DCT.T)[:8, :8]  # the lowest frequencies: the photo's layout
    bits = (low > np.median(low)).ravel()
    return int(np.packbits(bits).view(">i8")[0])


def _dct_matrix(side: int) -> np.ndarray:
    """The DCT-II basis [side, side] (unnormalised, as scipy.fftpack.dct's default; only signs
    against the median are kept, so the scale does not matter)."""
    k, n = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    return 2 * np.cos(np.pi * k * (2 * n + 1) / (2 * side))


_DCT = _dct_matrix(_HASH_SIDE)


def taken_text(taken: int, source: int, offset: int) -> str:
    """ISO 8601 for a photo's time: with its offset where EXIF gave one; "(file time)" marks a
    time read from the file's modification time."""
    wall = datetime.fromtimestamp(taken, UTC).replace(tzinfo=None)
    if offset != NO_OFFSET:
        return wall.isoformat() + _offset_text(offset)
    return wall.isoformat() + (" (file time)" if source == FROM_FILE else "")


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_day(text: str, option: str) -> int:
    """Wall-clock seconds of `text` ("2021-06-01" or "2021-06-01T12:30"), for --after/--before;
    raises ValueError naming `option` and what it expects."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{option} {text!r}: expected a date such as 2021-06-01 (or 2021-06-01T12:30)"
        ) from None
    return int(moment.replace(tzinfo=UTC).timestamp())  # its wall clock, as stored


@dataclass(frozen=True)
class RowFacts:
    """Facts of an index's rows, row-aligned arrays [N]: taken, source, offset, content,
    perceptual, central90, central80 (as in `Facts`) and group (the first row of each row's
    group of copies, inference/store/duplicates.py)."""

    taken: np.ndarray  # int64
    source: np.ndarray  # int8
    offset: np.ndarray  # int16
    content: np.ndarray  # int64
    perceptual: np.ndarray  # int64
    central90: np.ndarray  # int64
    central80: np.ndarray  # int64
    group: np.ndarray  # int64

    FIELDS = ("taken", "source", "offset", "content", "perceptual", "central90", "central80", "group")
    DTYPES = (np.int64, np.int8, np.int16, np.int64, np.int64, np.int64, np.int64, np.int64)

    @classmethod
    def of(cls, facts: list[Facts]) -> RowFacts:
        """Rows for `facts`, each its own group until grouped."""
        columns = [
            [fact.taken for fact in facts],
            [fact.source for fact in facts],
            [fact.offset for fact in facts],
            [fact.content for fact in facts],
            [fact.perceptual for fact in facts],
            [fact.central90 for fact in facts],
            [fact.central80 for fact in facts],
            list(range(len(facts))),
        ]
        return cls(*(np.array(column, dtype) for column, dtype in zip(columns, cls.DTYPES, strict=True)))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> RowFacts:
        return cls(
            *(np.asarray(arrays[name], dtype) for name, dtype in zip(cls.FIELDS, cls.DTYPES, strict=True))
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def take(self, rows: list[int] | np.ndarray) -> RowFacts:
        return RowFacts(*(getattr(self, name)[rows] for name in self.FIELDS))

    @classmethod
    def concatenate(cls, parts: list[RowFacts]) -> RowFacts:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in cls.FIELDS))

    def __len__(self) -> int:
        return len(self.taken)
