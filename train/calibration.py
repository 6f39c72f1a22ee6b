"""Fusion of tower and bridge scores, and its calibration into a probability."""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from inference.metrics import retrieval_metrics, target_ranks

FUSION_GRID = np.round(np.arange(0.0, 2.01, 0.1), 2)


def _z(scores: np.ndarray) -> tuple[float, float]:
    return float(scores.mean()), float(scores.std() + 1e-12)


def _mean_recall(scores: np.ndarray, owner: np.ndarray) -> float:
    m = retrieval_metrics(target_ranks(scores, owner))
    return (m["recall@1"] + m["recall@5"] + m["recall@10"]) / 3


def tune_fusion(tower: np.ndarray, bridge: np.ndarray, owner: np.ndarray, dev=None):
    """Best bridge weight for z-scored tower + w * z-scored bridge on validation.

    tower, bridge: [Q, N] validation score matrices; owner: [Q] own image column.
    dev: the same three for queries beyond Flickr (train/beyond_flickr.py), or None;
    given, the weight maximises the mean of both sets' mean recall.
    Returns (tower_weight, bridge_weight, table) where the weights apply to the
    raw cosines (1/sigma_t and w/sigma_b; the means only shift the score and go
    into the calibration bias), and table rows are (w, Flickr mean recall, dev
    mean recall or None).
    """
    (_, sigma_t), (_, sigma_b) = _z(tower), _z(bridge)
    table = []
    for weight in FUSION_GRID:
        flickr = _mean_recall(tower / sigma_t + weight * bridge / sigma_b, owner)
        beyond = None if dev is None else _mean_recall(dev[0] / sigma_t + weight * dev[1] / sigma_b, dev[2])
        table.append((float(weight), flickr, beyond))
    best = max(table, key=lambda row: row[1] if row[2] is None else (row[1] + row[2]) / 2)[0]
    return 1.0 / sigma_t, best / sigma_b, table


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
