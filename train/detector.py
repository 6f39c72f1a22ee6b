"""Child-image detector for images without captions, fitted by stacking.

1. Two logistic heads on pooled image features: child (labels from captions) and
   person (captions naming a person; people-free photos are 0 for both).
2. A logistic combiner (inference/review/detector.py) over the heads' out-of-fold
   logits and the face/age features.
3. The threshold: the largest that keeps `target_recall` of child images on the
   combiner's own out-of-fold probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from inference.review.detector import DetectorParams, combiner_inputs

FOLDS = 5


def _head() -> Pipeline:
    # C by the combined detector's out-of-fold AUC on the 2,304 Lite0 + open_nsfw features:
    # 0.01 -> 0.861, 0.003 -> 0.869, 0.001 -> 0.875, 0.0003 -> 0.875, 0.0001 -> 0.869
    # (Lite0's 1,280 alone, C 0.01: 0.856)
    logistic = LogisticRegression(C=0.001, class_weight="balanced", max_iter=3000)
    return make_pipeline(StandardScaler(), logistic)


def _combiner() -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))


def threshold_for_recall(probabilities: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """Largest threshold t with share(probabilities[labels] >= t) >= recall."""
    positives = np.sort(probabilities[labels.astype(bool)])
    allowed_misses = int(np.floor((1.0 - recall) * len(positives)))
    return float(positives[allowed_misses])


def _linear(fitted: Pipeline) -> tuple[np.ndarray, float]:
    """(weights [F], bias) of a scaler + logistic pipeline, acting on raw inputs."""
    scaler, logistic = fitted[0], fitted[1]
    weights = logistic.coef_[0] / scaler.scale_
    return weights, float(logistic.intercept_[0] - (weights * scaler.mean_).sum())


@dataclass(frozen=True)
class FittedDetector:
    head_weights: np.ndarray  # [2, F]: child, person heads on raw pooled features
    head_bias: np.ndarray  # [2]
    params: DetectorParams  # the combiner and its threshold
    oof: np.ndarray  # [N] out-of-fold P(child) of the training rows
    face_only: Pipeline  # a combiner over face features alone, for the report
    signal_thresholds: dict[str, float]  # per signal, for 97% out-of-fold recall

    def head_logits(self, pooled: np.ndarray) -> np.ndarray:
        """pooled [N, F] -> [N, 2] (child, person) logits."""
        return pooled @ self.head_weights.T + self.head_bias

    def probability(self, pooled: np.ndarray, face_features: np.ndarray) -> np.ndarray:
        """P(child) [N] of images with pooled features [N, F] and face features [N, K]."""
        return self.params.probability(self.head_logits(pooled), face_features)

    def signals(self, pooled: np.ndarray, face_features: np.ndarray) -> dict[str, np.ndarray]:
        """Each signal's score [N] (compare with `signal_thresholds`) and the combined one."""
        return {
            "whole image": self.head_logits(pooled)[:, 0],
            "faces and age": self.face_only.predict_proba(face_features)[:, 1],
            "combined": self.probability(pooled, face_features),
        }


def fit_detector(
    pooled: np.ndarray,
    faces: np.ndarray,
    child: np.ndarray,
    person: np.ndarray,
    target_recall: float,
    seed: int,
) -> FittedDetector:
    """Fit on pooled features [N, F], face features [N, K], labels child [N] and person [N]."""
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    strata = child.astype(int) * 2 + person.astype(int)  # folds keep both labels' shares
    split = list(folds.split(pooled, strata))
    heads, oof_logits = [], []
    for labels in (child, person):
        oof_logits.append(cross_val_predict(_head(), pooled, labels, cv=split, method="decision_function"))
        heads.append(_linear(_head().fit(pooled, labels)))
    inputs = combiner_inputs(np.column_stack(oof_logits), faces)
    oof = cross_val_predict(_combiner(), inputs, child, cv=split, method="predict_proba")[:, 1]
    weights, bias = _linear(_combiner().fit(inputs, child))
    face_oof = cross_val_predict(_combiner(), faces, child, cv=split, method="predict_proba")[:, 1]
    return FittedDetector(
        head_weights=np.stack([w for w, _ in heads]).astype(np.float32),
        head_bias=np.array([b for _, b in heads], dtype=np.float32),
        params=DetectorParams(
            tuple(float(w) for w in weights), bias, threshold_for_recall(oof, child, target_recall)
        ),
        oof=oof,
        face_only=_combiner().fit(faces, child),
        signal_thresholds={
            name: threshold_for_recall(scores, child, target_recall)
            for name, scores in (
                ("whole image", oof_logits[0]),
                ("faces and age", face_oof),
                ("combined", oof),
            )
        },
    )


def detector_rates(probabilities: np.ndarray, labels: np.ndarray, threshold: float):
    """(recall on child images, share of other images blocked), in percent."""
    blocked = probabilities >= threshold
    labels = labels.astype(bool)
    recall = 100.0 * float(blocked[labels].mean()) if labels.any() else float("nan")
    other = 100.0 * float(blocked[~labels].mean()) if (~labels).any() else float("nan")
    return recall, other
