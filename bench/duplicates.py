"""How well copies are told from distinct photos (inference/store/duplicates.py), on the data
set's photos: the closest two distinct photos come, and how many copies of each kind are found.

python -m bench.duplicates [--data DIR] [--copies N] [--json]

Photos are decoded as the indexer decodes them; copies are made here from the first N photos:
resized and recompressed, cropped evenly on each side, and cropped from one side.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from inference.data.download import locate_data_dir
from inference.models.preprocess import load_image
from inference.store.duplicates import SAME_PHOTO_BITS, distance_bits
from inference.store.facts import RowFacts, perceptual_hashes

AT_LEAST = (224, 224)  # the default image encoder's decode size (SearchModels.decode_at_least)


def _recompressed(scale: float, quality: int) -> Callable[[Image.Image], Image.Image]:
    def make(image: Image.Image) -> Image.Image:
        small = image.resize((round(image.width * scale), round(image.height * scale)))
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")

    return make


def _cropped(share: float, one_side: bool = False) -> Callable[[Image.Image], Image.Image]:
    def make(image: Image.Image) -> Image.Image:
        left, top = round(image.width * share), 0 if one_side else round(image.height * share)
        right = image.width if one_side else image.width - left
        bottom = image.height if one_side else image.height - top
        return image.crop((left, top, right, bottom))

    return make


COPIES = {
    "half size, JPEG quality 70": _recompressed(0.5, 70),
    "a third, quality 50": _recompressed(1 / 3, 50),
    "2% off each side": _cropped(0.02),
    "5% off each side": _cropped(0.05),
    "8% off each side": _cropped(0.08),
    "10% off each side": _cropped(0.10),
    "12% off each side": _cropped(0.12),
    "10% off one side": _cropped(0.10, one_side=True),
}


def _facts(hashes: list[tuple[int, int, int]]) -> RowFacts:
    whole, central90, central80 = np.array(hashes, dtype=np.int64).reshape(-1, 3).T
    zeros = np.zeros(len(whole), np.int64)
    return RowFacts(
        zeros,
        zeros.astype(np.int8),
        zeros.astype(np.int16),
        zeros,
        whole,
        central90,
        central80,
        np.arange(len(whole)),
    )


def measure(photos: list[Path], copies: int) -> dict:
    images = [load_image(photo, at_least=AT_LEAST) for photo in photos]
    start = time.perf_counter()
    facts = _facts([perceptual_hashes(image) for image in images])
    milliseconds = (time.perf_counter() - start) / len(images) * 1000
    distance = distance_bits(facts, np.arange(len(images)), np.arange(len(images)))
    pairs = distance[np.triu_indices(len(images), 1)]
    result: dict = {
        "photos": len(images),
        "distinct_pairs": len(pairs),
        "closest_distinct_bits": int(pairs.min()),
        "distinct_pairs_grouped": int((pairs <= SAME_PHOTO_BITS).sum()),
        "threshold_bits": SAME_PHOTO_BITS,
        "hash_ms_per_photo": round(milliseconds, 2),
        "copies": {},
    }
    for name, make in COPIES.items():
        made = _facts([perceptual_hashes(make(image)) for image in images[:copies]])
        both = RowFacts.concatenate([facts.take(np.arange(copies)), made])
        bits = distance_bits(both, np.arange(copies), np.arange(copies, 2 * copies)).diagonal()
        result["copies"][name] = {
            "found": round(float(np.mean(bits <= SAME_PHOTO_BITS)), 3),
            "max_bits": int(bits.max()),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.duplicates", description=__doc__)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--copies", type=int, default=300, help="photos copied in each way")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = locate_data_dir(args.data)
    photos = sorted((data / "test_images").glob("*.jpg")) + sorted((data / "train_images").glob("*.jpg"))
    print(f"hashing {len(photos)} photos and their copies", file=sys.stderr)
    result = measure(photos, min(args.copies, len(photos)))
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{result['photos']} photos, {result['distinct_pairs']:,} distinct pairs: closest "
        f"{result['closest_distinct_bits']} bits, {result['distinct_pairs_grouped']} grouped "
        f"(threshold {result['threshold_bits']}); {result['hash_ms_per_photo']} ms a photo"
    )
    for name, found in result["copies"].items():
        print(f"  {name:28s} found {found['found']:.1%}  (at most {found['max_bits']} bits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
