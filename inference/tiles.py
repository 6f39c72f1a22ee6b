"""Pictures the UI shows: thumbnails of allowed images and the disclaimer tile
that stands in for a restricted one (its pixels never leave the server).

The UI gets them as files written once, atomically, and never rewritten:
Gradio re-writes the cache file of a returned PIL image on every request, so
under concurrent searches a visitor could download a half-written picture.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import textwrap
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from inference.policy import DISCLAIMER
from inference.preprocess import load_image

THUMBNAIL_SIZE = 512
TILE_SIZE = (400, 300)
THUMBNAIL_DIR = Path(tempfile.gettempdir()) / "photo-search-thumbnails"


@lru_cache(maxsize=1)
def disclaimer_tile() -> Image.Image:
    """A grey tile carrying the disclaimer sentence."""
    tile = Image.new("RGB", TILE_SIZE, (225, 225, 225))
    draw = ImageDraw.Draw(tile)
    font = ImageFont.load_default(size=20)
    text = "\n".join(textwrap.wrap(DISCLAIMER, 30))
    box = draw.multiline_textbbox((0, 0), text, font=font, align="center")
    xy = ((TILE_SIZE[0] - box[2]) / 2, (TILE_SIZE[1] - box[3]) / 2)
    draw.multiline_text(xy, text, fill=(60, 60, 60), font=font, align="center")
    return tile


def thumbnail(path: Path) -> Image.Image:
    """An allowed image shrunk to fit THUMBNAIL_SIZE x THUMBNAIL_SIZE."""
    image = load_image(path)
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return image


def _save_once(image: Image.Image, target: Path) -> Path:
    """Write `image` to `target` unless it exists (temp file + rename: never half a file)."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                image.save(handle, format="PNG" if target.suffix == ".png" else "JPEG", quality=90)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return target


def disclaimer_file(cache_dir: Path = THUMBNAIL_DIR) -> Path:
    """The disclaimer tile as a PNG file."""
    return _save_once(disclaimer_tile(), cache_dir / "disclaimer.png")


def thumbnail_file(
    path: Path,
    restricted: bool,
    indexed_stamp: tuple[int, int] | None = None,
    cache_dir: Path = THUMBNAIL_DIR,
) -> Path:
    """A file the UI may show for an image: its thumbnail, or the disclaimer tile.
    Thumbnails are keyed by path, size and mtime, so an edited image gets a new one.
    With `indexed_stamp` (size, mtime_ns when the policy judged the file), a file
    changed since then shows the tile until the next refresh judges it again."""
    try:
        stat = Path(path).stat()
    except OSError:
        return disclaimer_file(cache_dir)
    if restricted or (indexed_stamp is not None and indexed_stamp != (stat.st_size, stat.st_mtime_ns)):
        return disclaimer_file(cache_dir)
    key = hashlib.sha1(f"{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:24]
    target = cache_dir / f"{key}.jpg"
    return target if target.exists() else _save_once(thumbnail(path), target)
