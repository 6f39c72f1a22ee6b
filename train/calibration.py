"""Fusion of tower and bridge scores, and its calibration into a probability."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from inference.data.metrics import retrieval_metrics, target_ranks
from inference.models.config import Fusion

FUSION_GRID = np.round(np.arange(0.0, 2.01, 0.1), 2)
#: A pretrained vision-language backbone's bridge is its own image-text similarity, which may
#: beat the towers outright: the grid goes on to weights where the towers count for ~1%
#: (100: the backbone alone), so validation can choose "none of our parts".
NATIVE_FUSION_GRID = np.concatenate([FUSION_GRID, [3.0, 5.0, 10.0, 20.0, 100.0]])
#: (strength, temperature) of the hub penalty (train/model.py hub_penalty); strength 0 is off.
#: Temperatures are in units of the fused score's spread (both parts are z-scored).
PENALTY_GRID = ((0.0, 0.25),) + tuple(
    (strength, temperature) for strength in (0.5, 0.75, 1.0, 1.25) for temperature in (0.1, 0.25, 0.5, 1.0)
)


@dataclass(frozen=True)
class FusionSet:
    """One validation set's score matrices: tower and bridge cosines [Q, N] of its
    queries, each query's own image column owner [Q], and the same two parts for a
    bank of B training captions [B, N] (None: no hub penalty tried)."""

    tower: np.ndarray
    bridge: np.ndarray
    owner: np.ndarray
    bank_tower: np.ndarray | None = None
    bank_bridge: np.ndarray | None = None

    def mean_recall(self, tower_w: float, bridge_w: float, strength: float, temperature: float) -> float:
        scores = tower_w * self.tower + bridge_w * self.bridge
        if strength and self.bank_tower is not None and self.bank_bridge is not None:
            bank = tower_w * self.bank_tower + bridge_w * self.bank_bridge
            scores = scores - strength * temperature * logsumexp(bank / temperature, axis=0)[None, :]
        return _mean_recall(scores, self.owner)


def _z(scores: np.ndarray) -> tuple[float, float]:
    return float(scores.mean()), float(scores.std() + 1e-12)


def _mean_recall(scores: np.ndarray, owner: np.ndarray) -> float:
    m = retrieval_metrics(target_ranks(scores, owner))
    return (m["recall@1"] + m["recall@5"] + m["recall@10"]) / 3


def tune_fusion(
    flickr: FusionSet, dev: FusionSet | None = None, grid: np.ndarray = FUSION_GRID
) -> tuple[Fusion, list]:
    """Bridge weight and hub penalty maximising validation mean recall (of R@1/5/10)
    for z-scored tower + w * z-scored bridge - the penalty; (the fusion, the grid's rows:
    bridge weight on the z-scored scale, strength, temperature, Flickr, dev or None).

    With `dev` (queries beyond Flickr, train/beyond_flickr.py) the objective is the
    mean of both sets' mean recall. The weights returned apply to the raw cosines
    (1/sigma_t and w/sigma_b; the means only shift the score and go into the
    calibration bias); the penalty's temperature is on that same scale.
    """
    sigma_t, sigma_b = _z(flickr.tower)[1], _z(flickr.bridge)[1]
    penalties = PENALTY_GRID if flickr.bank_tower is not None else PENALTY_GRID[:1]
    table = []
    for weight in grid:
        for strength, temperature in penalties:
            args = (1.0 / sigma_t, weight / sigma_b, strength, temperature)
            beyond = None if dev is None else dev.mean_recall(*args)
            table.append((float(weight), strength, temperature, flickr.mean_recall(*args), beyond))
    best = max(table, key=lambda row: row[3] if row[4] is None else (row[3] + row[4]) / 2)
    return Fusion(1.0 / sigma_t, best[0] / sigma_b, best[1], best[2]), table


def _fit_logistic(scores: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """Platt scaling with soft targets: each pair counts as a positive with
    weight t and a negative with weight 1 - t."""
    x = np.concatenate([scores, scores])[:, None]
    y = np.concatenate([np.ones_like(targets), np.zeros_like(targets)])
    weights = np.concatenate([targets, 1.0 - targets])
    model = LogisticRegression(C=1e4).fit(x, y, sample_weight=weights)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def calibrate(scores: np.ndarray, targets: np.ndarray, groups: np.ndarray, folds: int = 5):
    """Fit probability = sigmoid(a * score + b) on validation pairs.

    Returns (a, b, out_of_fold_probabilities): the figures reported for the
    validation pairs come from folds (grouped by image) that did not fit them.
    """
    oof = np.zeros_like(scores)
    for fit_idx, held_idx in GroupKFold(n_splits=folds).split(scores, groups=groups):
        a, b = _fit_logistic(scores[fit_idx], targets[fit_idx])
        oof[held_idx] = expit(a * scores[held_idx] + b)
    a, b = _fit_logistic(scores, targets)
    return a, b, oof


#: Share of validation captions, their picture in the gallery, allowed to get the
#: "no good match" notice: a notice that often cries wolf would be ignored.
NO_MATCH_FALSE_ALARMS = 0.05


def no_match_threshold(probabilities: np.ndarray, owner: np.ndarray) -> tuple[float, dict]:
    """Below which best probability the app says "no good match", from validation.

    probabilities: [Q, N] calibrated, validation captions x validation images;
    owner: [Q] each caption's own image column. The level is the best probability
    that NO_MATCH_FALSE_ALARMS of the captions fall under with their own picture in
    the gallery. Also reported: how often the notice comes with the picture removed
    (a gallery without it; Flickr's near-duplicates keep this share modest).
    Returns (threshold, figures).
    """
    present = probabilities.max(axis=1)
    without = probabilities.copy()
    without[np.arange(len(owner)), owner] = -np.inf
    absent = without.max(axis=1)
    level = float(np.quantile(present, NO_MATCH_FALSE_ALARMS))
    return level, {
        "threshold": level,
        "queries": int(len(owner)),
        "notice_when_image_present_pct": 100.0 * float((present < level).mean()),
        "notice_when_image_absent_pct": 100.0 * float((absent < level).mean()),
    }
