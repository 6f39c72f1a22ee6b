"""Optional int8 dynamic quantisation of the text encoder, measured before it
is offered: speed and Recall@K against the fp32 graph, on the test set.

Only MatMul/Gemm are quantised; convolutions are never quantised dynamically
(onnxruntime has no ConvInteger kernel on most CPUs), and the image encoder
stays fp32.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

from inference.data.dataset import TestSet
from inference.engine.evaluate import QUERY_BATCH as BATCH
from inference.engine.evaluate import rank_test_set, ranks_from_scores
from inference.models.exported import (
    IMAGE_ENCODER,
    MULTILINGUAL_TOKENIZER_DIR,
    TEXT_ENCODER,
    TEXT_ENCODER_INT8,
    TOKENIZER_DIR,
)
from inference.models.preprocess import load_image, served_views
from inference.models.text import TextTokenizer, text_feeds


def _embed_texts(session: ort.InferenceSession, feeds: Callable[[list[str]], dict], texts: list[str]):
    """(vectors [N, D], seconds spent in the encoder); `feeds` makes a batch's inputs."""
    start, out = time.perf_counter(), []
    for i in range(0, len(texts), BATCH):
        out.append(session.run(None, feeds(texts[i : i + BATCH]))[0])
    return np.concatenate(out), time.perf_counter() - start


def quantize_and_measure(folder: Path, test: TestSet, input_size: int, multilingual_model: str = "") -> dict:
    """Write text_encoder.int8.onnx into `folder`; return fp32 vs int8 figures."""
    quantize_dynamic(
        folder / TEXT_ENCODER,
        folder / TEXT_ENCODER_INT8,
        op_types_to_quantize=["MatMul", "Gemm"],
        weight_type=QuantType.QInt8,
    )
    options = ort.SessionOptions()
    image = ort.InferenceSession(str(folder / IMAGE_ENCODER), options, providers=["CPUExecutionProvider"])
    pixels = np.stack([served_views(load_image(test.image_dir / n), input_size) for n in test.images])
    image_vectors = image.run(None, {"pixels": pixels})[0]
    texts = test.queries["query_text"].tolist()
    tokenizer = TextTokenizer(folder / TOKENIZER_DIR)
    multilingual = TextTokenizer(folder / MULTILINGUAL_TOKENIZER_DIR) if multilingual_model else None

    def tokenizer_feeds(batch: list[str]) -> dict:
        return text_feeds(tokenizer, multilingual, batch, [True] * len(batch))

    figures = {}
    for name, file in (("fp32", TEXT_ENCODER), ("int8", TEXT_ENCODER_INT8)):
        session = ort.InferenceSession(str(folder / file), options, providers=["CPUExecutionProvider"])
        _embed_texts(session, tokenizer_feeds, texts[:BATCH])  # warm-up
        vectors, seconds = _embed_texts(session, tokenizer_feeds, texts)
        metrics = rank_test_set(ranks_from_scores(vectors @ image_vectors.T, test), test)["all"]
        figures[name] = {
            "texts_per_second": round(len(texts) / seconds, 1),
            "size_mb": round((folder / file).stat().st_size / 2**20, 1),
            **{k: round(metrics[k], 2) for k in ("recall@1", "recall@5", "recall@10")},
        }
    return figures
