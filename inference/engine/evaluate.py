"""Recall@K on the data set's test split: one definition for training, export and
the exported engine.

`rank_test_set` turns the rank of each query's own image into the figures every
report quotes, over all queries and over those the content policy allows
(`test_set_policy`: the query's words and its image's captions decide). Training and
export rank by score matrices (`ranks_from_scores`); `evaluate_test_set` ranks
through the engine's own ranker, exact or approximate, as a user's search does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.data.dataset import DataError, TestSet, load_test_set
from inference.data.download import locate_data_dir
from inference.data.metrics import retrieval_metrics, target_ranks
from inference.engine.front import PhotoSearch
from inference.engine.options import SearchOptions
from inference.engine.searching import ranked
from inference.models.exported import SearchModels
from inference.policy import query_verdicts, restricted_images, word_verdict

#: Queries embedded per call. int8 graphs quantise activations per batch, so
#: their figures depend on it: every measurement uses this one value.
QUERY_BATCH = 64


def test_set_policy(test: TestSet, refused: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(allowed query mask [Q], child label per test image [N]) from the queries' captions.
    `refused` [Q]: the policy's verdict on each query where the caller has it (the served one,
    semantic net included); else the word readings' (training: the served net is not fitted yet)."""
    captions = test.queries.groupby("image")["query_text"].apply(list).to_dict()
    child = restricted_images(test.images, captions)
    child_by_name = dict(zip(test.images, child, strict=True))
    texts = test.queries["query_text"]
    restricted_query = texts.map(lambda q: word_verdict(q).refused).to_numpy() if refused is None else refused
    own_child = test.queries["image"].map(child_by_name).to_numpy().astype(bool)
    return ~(restricted_query | own_child), child


NAMES_ONLY = SearchOptions(words="names")


def ranks_from_scores(scores: np.ndarray, test: TestSet) -> np.ndarray:
    """scores [Q, N] (queries x test.images) -> 1-based rank of each query's own image [Q]."""
    return target_ranks(scores, test.query_owners())


def rank_test_set(
    ranks: np.ndarray, test: TestSet, refused: np.ndarray | None = None
) -> dict[str, dict[str, float]]:
    """Retrieval metrics of own-image ranks [Q]: over all queries and the policy-allowed ones
    (`refused` [Q]: see test_set_policy)."""
    allowed, _ = test_set_policy(test, refused)
    return {"all": retrieval_metrics(ranks), "allowed": retrieval_metrics(ranks[allowed])}


def _engine_ranks(engine: PhotoSearch, test: TestSet, text_vectors: np.ndarray) -> np.ndarray:
    """Own-image rank [Q] of each query through the engine's ranking over the test images, as a
    search serves it (words fused, copies grouped) but with caption words off: the test photos'
    captions are the queries, and evaluation must not see its answers."""
    view = engine.view
    row_of = view.row_of
    rows = [row_of.get((test.image_dir / name).resolve()) for name in test.images]
    if None in rows:
        missing = test.images[rows.index(None)]
        raise DataError(f"{test.image_dir / missing}: test image could not be indexed")
    own = np.asarray(rows)[test.query_owners()]
    ranks = np.empty(len(text_vectors), dtype=np.int64)
    texts = test.queries["query_text"].tolist()
    for i, vector in enumerate(text_vectors):
        order, _, _ = ranked(view, engine.models, vector[None], texts[i], len(view.paths), NAMES_ONLY)
        found = np.nonzero(order == own[i])[0]
        ranks[i] = found[0] + 1 if len(found) else len(view.paths) + 1  # missed by the ranker
    return ranks


def evaluate_test_set(
    data: Path | None,
    models_dir: Path,
    int8: bool = False,
    approximate: bool = False,
    store: str | None = None,
) -> dict:
    """Rank every test query among all test images through the engine (its
    approximate ranker when `approximate`); all queries count, and the
    policy-allowed subset is reported under *_allowed keys."""
    test = load_test_set(locate_data_dir(data))
    models = SearchModels(models_dir, int8=int8)
    threshold = 0 if approximate else None
    engine = PhotoSearch(models, ann_threshold=threshold, store=store)
    engine.ensure_index(test.image_dir)
    texts = test.queries["query_text"].tolist()
    embedded = [models.embed_queries(texts[i : i + QUERY_BATCH]) for i in range(0, len(texts), QUERY_BATCH)]
    text_vectors = np.concatenate([batch.vectors for batch in embedded])
    multilingual = None
    if embedded[0].multilingual is not None:
        multilingual = np.concatenate([batch.multilingual for batch in embedded])  # type: ignore[misc]
    verdicts = query_verdicts(texts, multilingual, models.query_net)
    refused = np.array([verdict.refused for verdict in verdicts], dtype=bool)
    figures = rank_test_set(_engine_ranks(engine, test, text_vectors), test, refused)
    metrics, allowed = figures["all"], figures["allowed"]
    result: dict = {k: round(v, 2) if isinstance(v, float) else v for k, v in metrics.items()}
    result["median_rank"] = int(metrics["median_rank"])
    result["mrr"] = round(metrics["mrr"], 4)
    result["images"] = len(test.images)
    result["ranker"] = "approximate" if engine.view.approximate else "exact"
    result["store"] = store or "local"
    for key in ("recall@1", "recall@5", "recall@10", "queries"):
        result[f"{key}_allowed"] = round(allowed[key], 2)
    result["refused_by_policy"] = {
        reason: sum(verdict.reason == reason for verdict in verdicts) for reason in ("words", "semantic")
    }
    return result
