"""The policy's semantic net on queries (inference/policy/query_net.py) and the one verdict that
puts it after the word readings (inference/policy/verdict.py): no model needed, the net's
weights made here; the trained net: tests/train/test_training.py, served:
tests/inference/test_policy_served.py."""

from __future__ import annotations

import numpy as np
import pytest

from inference.policy import QueryNet, query_verdict, query_verdicts


def _net(threshold: float, seed: int = 0) -> QueryNet:
    weights = np.random.default_rng(seed).standard_normal(512)
    return QueryNet(tuple(weights.tolist()), 0.25, threshold)


def test_the_net_is_a_logistic_regression_on_the_vector():
    net, vectors = _net(0.5), np.random.default_rng(1).standard_normal((4, 512))
    expected = 1 / (1 + np.exp(-(vectors @ np.array(net.weights) + net.bias)))
    np.testing.assert_allclose(net.probability(vectors), expected, rtol=1e-12)
    assert (net.refuses(vectors) == (expected >= 0.5)).all()
    assert QueryNet.from_dict(net.to_dict()) == net
    with pytest.raises(ValueError, match="512"):
        QueryNet.from_dict({**net.to_dict(), "weights": [0.0] * 384})


def _never_embedded():
    raise AssertionError("a query the word readings refuse must never be embedded")


@pytest.mark.parametrize(("query", "reason"), [("kids at the beach", "words"), ("ძაღლი თოვლში", "script")])
def test_a_query_the_words_or_the_script_refuse_is_never_embedded(query, reason):
    verdict = query_verdict(query, _never_embedded, _net(1.0))
    assert verdict.refused and verdict.reason == reason


def test_a_query_the_words_clear_is_embedded_once_and_read_by_the_net():
    calls = []

    def embed():
        calls.append(1)
        return np.ones(512)

    assert query_verdict("a dog in the snow", embed, _net(0.0)).reason == "semantic"
    assert not query_verdict("a dog in the snow", embed, _net(1.1)).refused
    assert len(calls) == 2  # once per verdict
    assert not query_verdict("a dog in the snow", embed, None).refused  # a model without a net


def test_languages_the_encoder_never_learned_are_left_to_the_words():
    # Swedish and Czech vectors mean little to a net trained where the encoder shares one space:
    # "a red barn" there scored 0.96 (docs/policy-languages.md); the word readings decide alone
    for query in ("en röd lada", "červená stodola"):
        assert not query_verdict(query, lambda: np.ones(512), _net(0.0)).refused
    assert query_verdict("barn som leker", _never_embedded, _net(0.0)).reason == "words"


def test_verdicts_of_a_batch_read_each_query_its_own_vector():
    net = QueryNet(tuple([1.0] + [0.0] * 511), 0.0, 0.9)
    vectors = np.zeros((3, 512))
    vectors[2, 0] = 5.0  # only the third is about a child, as far as this net knows
    verdicts = query_verdicts(["kids", "a dog", "a cat"], vectors, net)
    assert [v.reason for v in verdicts] == ["words", None, "semantic"]
