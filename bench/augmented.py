"""A real-derived large gallery: the data set's photos under random crops, flips,
scales and colour changes, each embedded for real by the served image encoder.

Synthetic draws (bench/vectors.py) have the real vectors' mean and main axes but
none of their clusters, which can flatter an approximate index. Here every
vector comes from real pixels; a photo's variants form a tight cluster, as
bursts and edits do in a real library. Reported beside a synthetic gallery of
the same size: how many vectors are distinct, how their statistics compare with
the plain photos' vectors, and recall@10 of the approximate index against exact
search for the test queries.

python -m bench.augmented [--per-photo N] [--models DIR] [--data DIR]   (JSON on stdout)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps
from tqdm import tqdm

from bench.cli import data_parser, print_json
from bench.vectors import CACHE, real_inputs, synthetic_gallery
from inference.atomic import atomic_write
from inference.data.dataset import load_test_set
from inference.data.download import locate_data_dir
from inference.models.exported import SearchModels
from inference.models.preprocess import load_image
from inference.store.ranking import ApproximateRanker, top_k
from inference.store.vectors import Int8Rows

BATCH = 32


def augment(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A random crop of 35-100% of the area (aspect 3:4 to 4:3), a mirror half the
    time, brightness, contrast and saturation each scaled by 0.7-1.3."""
    width, height = image.size
    area = width * height * rng.uniform(0.35, 1.0)
    aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    crop_w = int(min(width, round(np.sqrt(area * aspect))))
    crop_h = int(min(height, round(np.sqrt(area / aspect))))
    left, top = int(rng.integers(0, width - crop_w + 1)), int(rng.integers(0, height - crop_h + 1))
    image = image.crop((left, top, left + crop_w, top + crop_h))
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        image = enhancer(image).enhance(float(rng.uniform(0.7, 1.3)))
    return image


def derived_vectors(models: SearchModels, photos: list[Path], per_photo: int, seed: int = 0) -> np.ndarray:
    """[len(photos) * per_photo, D] float32 vectors of random variants of each photo."""
    rng = np.random.default_rng(seed)
    pixels, out = [], []
    for path in tqdm(photos, desc=f"embed {per_photo} variants a photo", file=sys.stderr):
        image = load_image(path)
        pixels += [models.preprocess(augment(image, rng)) for _ in range(per_photo)]
        while len(pixels) >= BATCH:
            out.append(models.embed_images(np.stack(pixels[:BATCH]))[0])
            pixels = pixels[BATCH:]
    if pixels:
        out.append(models.embed_images(np.stack(pixels))[0])
    return np.concatenate(out).astype(np.float32)


def cached_derived(models: SearchModels, photos: list[Path], per_photo: int) -> np.ndarray:
    """derived_vectors, kept in cache/bench per model and size (embedding takes minutes)."""
    path = CACHE / f"derived-{models.model_id}-{len(photos)}x{per_photo}.npy"
    if path.is_file():
        return np.load(path)
    vectors = derived_vectors(models, photos, per_photo)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        np.save(handle, vectors)
    return vectors


def _norm_ratio(gallery: np.ndarray, real: np.ndarray) -> float:
    return float(np.linalg.norm(gallery, axis=1).mean() / np.linalg.norm(real, axis=1).mean())


def statistics(real: np.ndarray, gallery: np.ndarray, seed: int = 0) -> dict:
    """How `gallery` [N, D] compares with the plain photos' vectors `real` [M, D]."""
    distinct = len(np.unique(Int8Rows.quantize(gallery).codes, axis=0))
    rng = np.random.default_rng(seed)
    sample = gallery[rng.choice(len(gallery), min(2000, len(gallery)), replace=False)]
    unit = sample / np.linalg.norm(sample, axis=1, keepdims=True)
    nearest_other = np.sort(unit @ unit.T, axis=1)[:, -2]  # the nearest other vector's cosine
    real_spread = np.linalg.svd(real - real.mean(0), compute_uv=False)[:10] ** 2 / (len(real) - 1)
    spread = np.linalg.svd(sample - sample.mean(0), compute_uv=False)[:10] ** 2 / (len(sample) - 1)
    real_mean = real.mean(0)
    return {
        "vectors": int(len(gallery)),
        "distinct_int8_rows": int(distinct),
        "norm_mean_over_real": _norm_ratio(gallery, real),
        "mean_cosine_to_real_mean": float((unit @ (real_mean / np.linalg.norm(real_mean))).mean()),
        "nearest_other_cosine_median": float(np.median(nearest_other)),
        "top10_axis_variance_over_real": [round(float(x), 3) for x in spread / real_spread],
    }


def ann_recall(gallery: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Share of the exact top k that the approximate index (as served) returns."""
    rows = Int8Rows.quantize(gallery)
    exact_vectors = rows[:]
    ranker = ApproximateRanker(rows)
    found = [
        len(set(ranker.top(query, k).tolist()) & set(top_k(exact_vectors, query, k).tolist())) / k
        for query in queries
    ]
    return float(np.mean(found))


def source_photos(data_dir: Path) -> list[Path]:
    """The data set's photos a real-derived gallery is made from: train and test images."""
    test = load_test_set(data_dir)
    return sorted((data_dir / "train_images").glob("*.jpg")) + [test.image_dir / n for n in test.images]


def measure(models: SearchModels, data_dir: Path, per_photo: int) -> dict:
    photos = source_photos(data_dir)
    real = real_inputs(models, data_dir)  # the train photos' indexed vectors, the allowed test queries
    derived = cached_derived(models, photos, per_photo)
    synthetic = synthetic_gallery(real.images, len(derived))
    queries = models.embed_texts(real.texts)
    return {
        "photos": len(photos),
        "per_photo": per_photo,
        "queries": len(real.texts),
        "real_derived": {
            **statistics(real.images, derived),
            "ann_recall_at_10": ann_recall(derived, queries),
        },
        "synthetic": {
            **statistics(real.images, synthetic),
            "ann_recall_at_10": ann_recall(synthetic, queries),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = data_parser("python -m bench.augmented", __doc__)
    parser.add_argument("--per-photo", type=int, default=47, help="variants of each of the 1,070 photos")
    args = parser.parse_args(argv)
    if args.per_photo < 1:
        parser.error("--per-photo must be at least 1")
    return print_json(
        lambda: measure(SearchModels(args.models, threads=2), locate_data_dir(args.data), args.per_photo)
    )


if __name__ == "__main__":
    raise SystemExit(main())
