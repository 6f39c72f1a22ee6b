import numpy as np

from inference.data.metrics import retrieval_metrics, target_ranks


def _brute_force_rank(row: np.ndarray, target: int) -> int:
    order = sorted(range(len(row)), key=lambda j: (-row[j], j != target))
    # ties rank the target last among equals
    ties = [j for j in range(len(row)) if row[j] == row[target]]
    return max(order.index(j) for j in ties) + 1


def test_ranks_match_brute_force_on_seeded_vectors():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 30)).round(1)  # rounding makes ties
    targets = rng.integers(0, 30, size=50)
    expected = [_brute_force_rank(scores[q], t) for q, t in enumerate(targets)]
    np.testing.assert_array_equal(target_ranks(scores, targets), expected)


def test_recall_and_mrr():
    metrics = retrieval_metrics(np.array([1, 2, 6, 20]))
    assert metrics["recall@1"] == 25.0
    assert metrics["recall@5"] == 50.0
    assert metrics["recall@10"] == 75.0
    assert np.isclose(metrics["mrr"], (1 + 1 / 2 + 1 / 6 + 1 / 20) / 4)
    assert metrics["median_rank"] == 4.0


def test_constant_scores_rank_last():
    assert (target_ranks(np.zeros((3, 10)), np.array([0, 4, 9])) == 10).all()
