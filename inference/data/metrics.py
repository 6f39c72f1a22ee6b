"""Retrieval metrics shared by training and the ONNX engine's `evaluate`."""

from __future__ import annotations

import numpy as np

RECALL_KS = (1, 5, 10)


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each query's own item.

    scores: [Q, N] higher is better; targets: [Q] column index of the own item.
    Ties count against the target (a constant scorer ranks it last), so a
    broken model cannot look good.
    """
    own = scores[np.arange(len(targets)), targets][:, None]  # [Q, 1]
    return (scores >= own).sum(axis=1)


def retrieval_metrics(ranks: np.ndarray) -> dict[str, float]:
    """Recall@K in percent, MRR and median rank from 1-based ranks [Q]."""
    if len(ranks) == 0:
        return {
            **{f"recall@{k}": float("nan") for k in RECALL_KS},
            "mrr": float("nan"),
            "median_rank": float("nan"),
            "queries": 0,
        }
    metrics = {f"recall@{k}": 100.0 * float((ranks <= k).mean()) for k in RECALL_KS}
    metrics["mrr"] = float((1.0 / ranks).mean())
    metrics["median_rank"] = float(np.median(ranks))
    metrics["queries"] = int(len(ranks))
    return metrics
