"""Embedding throughput, onnxruntime against PyTorch eager on the same model,
inputs, batch sizes and thread count; and index build time per 1,000 images.

Both sides run the code users run: images go through inference.models.preprocess
(decode, resize, crop, normalise: included in the timing), texts through the
same tokenizer; PyTorch runs the modules the ONNX files were exported from.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from inference.models.exported import SearchModels
from inference.models.preprocess import load_image
from inference.store.index import BATCH_SIZE as IMAGE_BATCH  # the indexer's batch size
from inference.store.index import update_index

TEXT_BATCHES = (1, 64)  # one query per search; 64 in bulk evaluation


def rate(step: Callable[[list], object], items: list, batch: int, repeats: int) -> list[float]:
    """Items per second of `step` over `items` in batches, once per repeat (after one warm-up)."""
    batches = [items[i : i + batch] for i in range(0, len(items), batch)]
    step(batches[0])
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for chunk in batches:
            step(chunk)
        rates.append(len(items) / (time.perf_counter() - start))
    return rates


class TorchModels:
    """The PyTorch eager modules behind models/ (needs a training run's checkpoint)."""

    def __init__(self, checkpoint: Path, threads: int) -> None:
        import torch

        from export.modules import load_modules

        torch.set_num_threads(threads)
        self.torch = torch
        self.config, self.image, self.text, _ = load_modules(checkpoint)

    def embed_images(self, pixels: np.ndarray) -> None:
        with self.torch.inference_mode():
            self.image(self.torch.from_numpy(pixels))

    def embed_texts(self, tokens: dict[str, np.ndarray]) -> None:
        with self.torch.inference_mode():
            self.text(**{name: self.torch.from_numpy(value) for name, value in tokens.items()})


def image_rates(models: SearchModels, eager: TorchModels, images: list[Path], repeats: int) -> dict:
    """images/s, preprocessing included, for each engine."""

    def pixels(paths: list[Path]) -> np.ndarray:
        return np.stack([models.preprocess(load_image(p)) for p in paths])

    return {
        "onnxruntime": rate(lambda b: models.embed_images(pixels(b)), images, IMAGE_BATCH, repeats),
        "pytorch": rate(lambda b: eager.embed_images(pixels(b)), images, IMAGE_BATCH, repeats),
    }


def text_rates(
    engines: dict[str, SearchModels], eager: TorchModels, texts: list[str], batch: int, repeats: int
) -> dict:
    """texts/s at one batch size, tokenisation included, for each engine."""
    feeds = next(iter(engines.values())).text_feeds  # the same inputs for PyTorch
    rates = {name: rate(m.embed_texts, texts, batch, repeats) for name, m in engines.items()}
    rates["pytorch"] = rate(lambda b: eager.embed_texts(feeds(b)), texts, batch, repeats)
    return rates


def index_build_seconds_per_1000(
    models: SearchModels, gallery: Path, repeats: int
) -> tuple[list[float], np.ndarray]:
    """Seconds per 1,000 images to index `gallery` from nothing (scan, decode, embed, save),
    once per repeat; and the vectors [N, D] the builds gave (the synthetic galleries' model)."""
    seconds = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            index = update_index(models, gallery, Path(cache), progress=False)
            seconds.append((time.perf_counter() - start) * 1000 / max(1, len(index.names)))
            vectors = index.vectors[:]
    return seconds, vectors
