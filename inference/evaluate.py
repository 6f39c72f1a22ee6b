"""Recall@K of the exported engine on the data set's test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.dataset import load_test_set, locate_data_dir
from inference.metrics import retrieval_metrics, target_ranks
from inference.models import SearchModels
from inference.policy import is_restricted_text
from inference.search import SearchEngine

#: Queries embedded per call. int8 graphs quantise activations per batch, so
#: their figures depend on it: every measurement uses this one value.
QUERY_BATCH = 64


def evaluate_test_set(data: Path | None, models_dir: Path, int8: bool = False) -> dict:
    """Rank every test query among all test images; all queries count, and the
    policy-allowed subset is reported under *_allowed keys."""
    test = load_test_set(locate_data_dir(data))
    models = SearchModels(models_dir, int8=int8)
    engine = SearchEngine(test.image_dir, models, progress=False)
    column = {path.name: i for i, path in enumerate(engine.paths)}
    missing = [name for name in test.images if name not in column]
    if missing:
        raise FileNotFoundError(f"{test.image_dir / missing[0]}: test image could not be indexed")
    texts = test.queries["query_text"].tolist()
    text_vectors = np.concatenate(
        [models.embed_texts(texts[i : i + QUERY_BATCH]) for i in range(0, len(texts), QUERY_BATCH)]
    )
    rows = [column[name] for name in test.images]
    scores = text_vectors @ engine.vectors[rows].T  # [Q, N] fused scores
    ranks = target_ranks(scores, test.query_owners())
    restricted_image = {path.name: flag for path, flag in zip(engine.paths, engine.restricted, strict=True)}
    allowed = np.array(
        [
            not is_restricted_text(t) and not restricted_image[img]
            for t, img in zip(texts, test.queries["image"], strict=True)
        ]
    )
    metrics = retrieval_metrics(ranks)
    allowed_metrics = retrieval_metrics(ranks[allowed])
    result = {k: round(v, 2) if isinstance(v, float) else v for k, v in metrics.items()}
    result["median_rank"] = int(metrics["median_rank"])
    result["mrr"] = round(metrics["mrr"], 4)
    result["images"] = len(test.images)
    for key in ("recall@1", "recall@5", "recall@10", "queries"):
        result[f"{key}_allowed"] = round(allowed_metrics[key], 2)
    return result
