"""Pictures the UI shows: thumbnails of allowed images and the disclaimer tile
that stands in for a restricted one (its pixels never leave the server).

The UI gets them as files written once, atomically, and never rewritten (`ThumbnailGuard`
serves them, re-checked on every request):
Gradio re-writes the cache file of a returned PIL image on every request, so
under concurrent searches a visitor could download a half-written picture.
"""

from __future__ import annotations

import hashlib
import os
import textwrap
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

from PIL import Image, ImageDraw, ImageFont

from inference.atomic import atomic_write
from inference.models.preprocess import load_image
from inference.policy import DISCLAIMER

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


def thumbnail(path: Path, size: int = THUMBNAIL_SIZE) -> Image.Image:
    """An image shrunk to fit size x size, decoded no larger than it needs (a 5120x2880 JPEG at
    1/4 scale in the decoder: its first page no slower than any other)."""
    image = load_image(path, at_least=(0, size))
    image.thumbnail((size, size))
    return image


def _save_once(image: Image.Image, target: Path) -> Path:
    """Write `image` to `target` unless it exists (temp file + rename: never half a file)."""
    if not target.exists():
        with atomic_write(target, durable=False) as handle:  # a cache: no fsync on the query path
            image.save(handle, format="PNG" if target.suffix == ".png" else "JPEG", quality=90)
    return target


@lru_cache(maxsize=1)
def _makers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="thumbnails")


def _key(path: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha1(f"{Path(path).resolve()}|{size}|{mtime_ns}".encode()).hexdigest()[:24]


class ThumbnailStore:
    """The pictures one app instance shows, as files in its own `folder` (beside its
    gallery index, not shared with other instances). A thumbnail is named by its
    image's path, size and mtime, so it is never rewritten: the app serves the folder
    as static files that browsers may cache for good."""

    DISCLAIMER_NAME = "disclaimer.png"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def disclaimer(self) -> Path:
        """The disclaimer tile as a PNG file."""
        return _save_once(disclaimer_tile(), self.folder / self.DISCLAIMER_NAME)

    def file_for(self, path: Path, restricted: bool, indexed_stamp: tuple[int, int] | None = None) -> Path:
        """A file the UI may show for an image: its thumbnail, or the disclaimer tile.
        With `indexed_stamp` (size, mtime_ns when the policy judged the file), a file
        changed since then shows the tile until the next refresh judges it again."""
        ready = self._ready(path, restricted, indexed_stamp)
        if ready is not None:
            return ready
        stat = Path(path).stat()
        return _save_once(thumbnail(path), self.folder / f"{_key(path, stat.st_size, stat.st_mtime_ns)}.jpg")

    def files_for(self, pictures: Sequence[tuple[Path, bool, tuple[int, int] | None]]) -> list[Path]:
        """`file_for` of each (path, restricted, indexed stamp), the missing thumbnails made side by
        side (Pillow decodes and encodes without the GIL): a first page of ten new ones took 90 ms
        one after another, half of a first search."""
        ready = [self._ready(*picture) for picture in pictures]  # the usual case: nothing to make
        missing = [picture for picture, file in zip(pictures, ready, strict=True) if file is None]
        made = iter(list(_makers().map(lambda picture: self.file_for(*picture), missing)))
        return [file if file is not None else next(made) for file in ready]

    def _ready(self, path: Path, restricted: bool, indexed_stamp: tuple[int, int] | None) -> Path | None:
        """`file_for` where nothing has to be made (the tile, or a thumbnail made before); else None."""
        try:
            stat = Path(path).stat()
        except OSError:
            return self.disclaimer()
        if restricted or (indexed_stamp is not None and indexed_stamp != (stat.st_size, stat.st_mtime_ns)):
            return self.disclaimer()
        target = self.folder / f"{_key(path, stat.st_size, stat.st_mtime_ns)}.jpg"
        return target if target.exists() else None

    def prune(self, paths: Sequence[Path], stamps: Sequence[tuple[int, int] | None], restricted) -> int:
        """Delete every thumbnail but those of allowed images as indexed now (the folder is
        served as is: an image restricted since, or changed, must leave it); returns how many.
        paths, stamps, restricted: one per gallery image."""
        keep = {
            f"{_key(path, *stamp)}.jpg"
            for path, stamp, hidden in zip(paths, stamps, restricted, strict=True)
            if stamp is not None and not hidden
        }
        removed = 0
        for file in self.folder.glob("*.jpg") if self.folder.is_dir() else []:
            if file.name not in keep:
                file.unlink(missing_ok=True)
                removed += 1
        return removed


class ThumbnailGuard:
    """ASGI middleware for the files served from `folder`. Before each is served, `check()` (the
    engine's current view: a release revoked or a caption written by another process since prunes
    that photo's thumbnail, which then answers 404). A browser may keep one for `MAX_AGE` seconds
    (`private`: no shared cache may), so a thumbnail withheld since lives in no browser longer
    than that (it was "immutable" for a year); after that it asks again with the ETag it holds, the
    thumbnail's name (its content stamp), and gets a 304 of a few bytes while the photo stands."""

    MAX_AGE = 60

    HEADERS = (b"cache-control", b"etag")

    def __init__(self, app, folder: Path, check, route: str = "/gradio_api/file=") -> None:
        self.app, self.check, self.prefix = app, check, f"{route}{Path(folder).resolve()}/"
        self.folder = Path(folder).resolve()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        self.check()
        name = Path(unquote(scope["path"][len(self.prefix) :])).name  # one file, in the folder itself
        if not (self.folder / name).is_file():  # pruned (withheld since) or never made: not found
            await _answer(send, 404, [(b"content-type", b"text/plain")], b"Not Found")
            return
        tag = f'"{name}"'.encode()
        own = [(b"cache-control", f"private, max-age={self.MAX_AGE}".encode()), (b"etag", tag)]
        if dict(scope.get("headers", [])).get(b"if-none-match") == tag:
            await _answer(send, 304, own, b"")
            return

        async def send_tagged(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.HEADERS]
                message = {**message, "headers": [*headers, *own]}
            await send(message)

        await self.app(scope, receive, send_tagged)


async def _answer(send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
