"""Pictures the UI shows: thumbnails of allowed images and the disclaimer tile
that stands in for a restricted one (its pixels never leave the server)."""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from inference.policy import DISCLAIMER
from inference.preprocess import load_image

THUMBNAIL_SIZE = 512
TILE_SIZE = (400, 300)


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


def thumbnail(path: Path, restricted: bool) -> Image.Image:
    """What the UI may show for an image: its thumbnail, or the disclaimer tile."""
    if restricted:
        return disclaimer_tile()
    image = load_image(path)
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return image
