"""The app's first search after a start, against the next ones, and the page that first shows a
5120x2880 photo against the others: what a visitor waits for, through the public `/search`.

python -m bench.first_search [--models DIR] [--data DIR] [--app DIR]   (JSON on stdout)

The gallery is the data set's test photos as a plain folder plus one 5120x2880 JPEG (a test
photo enlarged), indexed before the app starts (a restart over an unchanged gallery, as a
user's). Each search is timed from the request to the last result picture, each asked for as a
browser asks given the app's Cache-Control and ETag headers (bench/load.py `_answer`).
`--app DIR`: the checkout whose app.py runs (another version of this code, on the same machine).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from bench.cli import data_parser, linked_test_photos, print_json
from bench.load import _answer, start_app
from inference.data.dataset import load_test_set
from inference.data.download import locate_data_dir
from inference.paths import PROJECT_ROOT
from inference.policy import is_restricted_text

QUERIES = [
    "a dog running on the grass", "a man riding a bike", "people on a beach", "a city street at night",
    "mountains and a lake", "a black dog in the snow", "a woman in a red dress", "a group of people",
    "two dogs playing", "a man climbing a rock", "a boat on the water",
]  # fmt: skip
WALLPAPER = "wallpaper-5120x2880.jpg"


def _max_age(cache_control: str) -> float:
    """Seconds a browser keeps a response without asking again (`max-age`, 0 for `no-cache`)."""
    for part in cache_control.replace(" ", "").split(","):
        if part.startswith("max-age="):
            return float(part.split("=", 1)[1])
    return 0.0


async def _timed(url: str, query: str, seen: dict[str, tuple[str, float]]) -> tuple[float, list[str]]:
    """(seconds from the request to the last result picture, the captions): each picture asked for
    as a browser does with the app's headers (kept for its max-age, then asked again with the ETag
    it holds, which a picture still standing answers with a 304 of a few bytes)."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        start = time.perf_counter()
        items = await _answer(client, query)
        for picture in [item["image"]["url"] for item in items]:
            tag, fresh_until = seen.get(picture, ("", 0.0))
            if time.monotonic() < fresh_until:  # a browser keeps it this long without asking
                continue
            response = await client.get(picture, headers={"If-None-Match": tag} if tag else {})
            if response.status_code != 304:
                response.raise_for_status()
                tag = response.headers.get("etag", "")
            seen[picture] = (tag, time.monotonic() + _max_age(response.headers.get("cache-control", "")))
        return time.perf_counter() - start, [item.get("caption") or "" for item in items]


def measure(data_dir: Path, models_dir: Path, app_dir: Path) -> dict:
    test = load_test_set(data_dir)
    with tempfile.TemporaryDirectory() as work:
        gallery = linked_test_photos(test, Path(work) / "gallery")
        # a photo of no child (its captions name none), enlarged: shown, so its thumbnail is made
        allowed = test.queries[~test.queries["query_text"].map(is_restricted_text)]
        source = allowed["image"].iloc[0]
        with Image.open(test.image_dir / source) as photo:
            photo.convert("RGB").resize((5120, 2880)).save(gallery / WALLPAPER, quality=90)
        seen: dict[str, tuple[str, float]] = {}  # picture -> (its ETag, kept until)
        first_start, url = start_app(gallery, models_dir, Path(work) / "uploads", cwd=app_dir)
        first_start.terminate()  # the first start indexes; the second is a restart, as measured
        first_start.wait(timeout=30)
        process, url = start_app(gallery, models_dir, Path(work) / "uploads", cwd=app_dir)
        try:
            times = [asyncio.run(_timed(url, query, seen))[0] for query in QUERIES]
            # the wallpaper's own words: the first page that shows it makes its thumbnail
            big, captions = asyncio.run(_timed(url, allowed["query_text"].iloc[0], seen))
        finally:
            process.terminate()
            process.wait(timeout=30)
    later = times[1:]
    return {
        "app": str(app_dir),
        "first_search_ms": round(times[0] * 1e3, 1),
        "next_ten_median_ms": round(statistics.median(later) * 1e3, 1),
        "first_over_median": round(times[0] / statistics.median(later), 2),
        "page_with_the_5120x2880_photo_ms": round(big * 1e3, 1),
        "the_5120x2880_photo_shown": any(caption.endswith(WALLPAPER) for caption in captions),
        "pages_ms": [round(t * 1e3, 1) for t in times],
    }


def main(argv: list[str] | None = None) -> int:
    parser = data_parser("python -m bench.first_search", __doc__)
    parser.add_argument("--app", type=Path, default=PROJECT_ROOT, help="the checkout whose app.py runs")
    args = parser.parse_args(argv)
    return print_json(lambda: measure(locate_data_dir(args.data), args.models, args.app))


if __name__ == "__main__":
    sys.exit(main())
