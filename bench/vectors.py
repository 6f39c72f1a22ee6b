"""Inputs for the gallery-size benchmarks: real vectors of the data set's
images and queries, and synthetic galleries drawn to look like them.

Plain random unit vectors have no structure at all, which makes every
approximate index look worse (and exact search no different) than on real
photos. So synthetic gallery vectors are drawn from a Gaussian with the mean
and principal axes of 1,000 real image vectors, plus isotropic noise carrying
the residual variance, then scaled to the real vectors' norm.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.data.dataset import load_test_set
from inference.data.download import locate_data_dir
from inference.models.exported import SearchModels
from inference.paths import PROJECT_ROOT
from inference.policy import is_restricted_text
from inference.store.index import update_index
from inference.store.vectors import Int8Rows

CACHE = PROJECT_ROOT / "cache" / "bench"
RANK = 256  # principal axes kept by the generator


@dataclass
class RealInputs:
    images: np.ndarray  # [M, D] vectors of train images (fit the generator)
    texts: list[str]  # test queries the policy allows (a blocked one never reaches ranking)


def real_inputs(models: SearchModels, data: Path | None = None, limit: int | None = None) -> RealInputs:
    """Train-image vectors (indexed with the engine, cached) and test queries."""
    data_dir = locate_data_dir(data)
    gallery = data_dir / "train_images"
    if limit is not None:  # a quick run indexes a slice, in its own folder of links
        gallery = linked_slice(gallery, limit)
    index = update_index(models, gallery, CACHE / "index", progress=False)
    return RealInputs(index.vectors[:], allowed_queries(data_dir))


def allowed_queries(data_dir: Path) -> list[str]:
    """The test queries the policy allows (a refused one never reaches ranking)."""
    texts = load_test_set(data_dir).queries["query_text"].tolist()
    return [t for t in texts if not is_restricted_text(t)]


def save_inputs(inputs: RealInputs, path: Path) -> Path:
    """The file `python -m bench.gallery --vectors` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=inputs.images, texts=np.array(inputs.texts, dtype=str))
    return path


def linked_slice(folder: Path, limit: int) -> Path:
    target = CACHE / f"{folder.name}-first{limit}"
    target.mkdir(parents=True, exist_ok=True)
    for image in sorted(folder.glob("*.jpg"))[:limit]:
        link = target / image.name
        if not link.exists():
            link.symlink_to(image.resolve())
    return target


def synthetic_blocks(real: np.ndarray, size: int, seed: int = 0, chunk: int = 65_536):
    """Yield [<= chunk, D] float32 blocks of `size` vectors with the real ones' mean, main axes and norm."""
    rng = np.random.default_rng(seed)
    mean = real.mean(axis=0)
    _, singular, axes = np.linalg.svd(real - mean, full_matrices=False)
    rank = min(RANK, len(singular))
    scales = (singular[:rank] / np.sqrt(len(real) - 1))[:, None] * axes[:rank]  # [r, D]
    residual = max(0.0, float((singular[rank:] ** 2).sum()) / (len(real) - 1) / real.shape[1])
    norm = float(np.linalg.norm(real, axis=1).mean())
    for start in range(0, size, chunk):
        rows = min(chunk, size - start)
        block = rng.standard_normal((rows, rank), dtype=np.float32) @ scales.astype(np.float32)
        block += rng.standard_normal((rows, real.shape[1]), dtype=np.float32) * np.float32(np.sqrt(residual))
        block += mean
        yield block * (norm / np.linalg.norm(block, axis=1, keepdims=True))


def synthetic_gallery(real: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """[size, D] float32 vectors drawn like the real ones (synthetic_blocks, joined)."""
    return np.concatenate(list(synthetic_blocks(real, size, seed)))


def synthetic_codes(real: np.ndarray, size: int, seed: int = 0) -> Int8Rows:
    """The synthetic gallery as int8 codes, as an index stores it: the float vectors
    exist one block at a time, the codes whole."""
    return Int8Rows.concatenate([Int8Rows.quantize(block) for block in synthetic_blocks(real, size, seed)])
