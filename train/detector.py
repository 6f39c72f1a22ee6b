"""Child-image detector for images without captions: logistic regression on
pooled image features, labels from the images' captions.

The threshold is set on out-of-fold predictions over the training images so
that at least `target_recall` of child images are caught.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, class_weight="balanced", max_iter=2000))


def threshold_for_recall(probabilities: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """Largest threshold t with share(probabilities[labels] >= t) >= recall."""
    positives = np.sort(probabilities[labels.astype(bool)])
    allowed_misses = int(np.floor((1.0 - recall) * len(positives)))
    return float(positives[allowed_misses])


def fit_detector(features: np.ndarray, labels: np.ndarray, target_recall: float, seed: int):
    """Fit on features [N, F] and labels [N]; returns (weights [F], bias, threshold,
    out-of-fold probabilities [N]). Weights act on raw (unscaled) features."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    oof = cross_val_predict(_classifier(), features, labels, cv=folds, method="predict_proba")[:, 1]
    threshold = threshold_for_recall(oof, labels, target_recall)
    fitted = _classifier().fit(features, labels)
    scaler, logistic = fitted[0], fitted[1]
    weights = logistic.coef_[0] / scaler.scale_
    bias = float(logistic.intercept_[0] - (weights * scaler.mean_).sum())
    return weights.astype(np.float32), bias, threshold, oof


def detector_rates(probabilities: np.ndarray, labels: np.ndarray, threshold: float):
    """(recall on child images, share of other images blocked), in percent."""
    blocked = probabilities >= threshold
    labels = labels.astype(bool)
    recall = 100.0 * float(blocked[labels].mean()) if labels.any() else float("nan")
    other = 100.0 * float(blocked[~labels].mean()) if (~labels).any() else float("nan")
    return recall, other
