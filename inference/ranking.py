"""Top-K ranking over stored vectors by dot product."""

from __future__ import annotations

import numpy as np


def top_k(vectors: np.ndarray, query: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
    """Row indices of the k largest vectors @ query, best first.

    vectors: [N, D]; query: [D]; exclude: a row never returned (the query image
    itself in "find similar"). Ties keep the lower row first.
    """
    scores = vectors @ query  # [N]
    if exclude is not None:
        scores[exclude] = -np.inf
    k = min(k, len(scores) - (exclude is not None))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]  # O(N), then sort only the k
    return top[np.lexsort((top, -scores[top]))]
