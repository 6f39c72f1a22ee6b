"""The training run's detector step: gather its inputs, fit it, report it.

Inputs: the train images (child and person labels from their own captions),
people-free photos as negatives (train/people_free.py), each with pooled
features and face/age features. Reported: each signal and the combination on
the test images read as an uncaptioned folder (labels from the test captions)
and on the held-out people-free photos.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from inference.data.dataset import TestSet
from inference.models.config import ImageEncoderSpec
from train.detector import FittedDetector, detector_rates, fit_detector
from train.encoders import build_image_encoder, feature_dim
from train.face_nets import DEFAULT_FACE_MODELS_DIR, build_face_models
from train.features import face_features, served_features
from train.people_free import people_free_photos
from train.prepare import Prepared, own_child_labels, person_image_labels


@dataclass(frozen=True)
class DetectorRun:
    fitted: FittedDetector
    face_models_dir: Path
    report: dict


def _pooled(paths: list[Path], spec: ImageEncoderSpec, cache_dir: Path) -> np.ndarray:
    if not paths:
        return np.zeros((0, feature_dim(spec)), np.float32)
    return served_features(paths, spec, partial(build_image_encoder, spec), cache_dir)[0]


def train_child_detector(
    prep: Prepared,
    test: TestSet,
    train_pooled: np.ndarray,
    test_pooled: np.ndarray,
    test_child: np.ndarray,
    spec: ImageEncoderSpec,
    cache_dir: Path,
    recall: float,
    seed: int,
) -> DetectorRun:
    """Fit the detector on train images + people-free negatives; figures for the report."""
    face_dir = build_face_models(DEFAULT_FACE_MODELS_DIR)
    negatives, held_out = people_free_photos(cache_dir.parent / "people_free")
    train_paths = [prep.train_set.image_dir / name for name in prep.train_set.images]
    test_paths = [test.image_dir / name for name in test.images]
    pooled = np.concatenate([train_pooled, _pooled(negatives, spec, cache_dir)])
    # two cache entries: the negatives are the same for every run, slice and backbone
    faces = np.concatenate([face_features(paths, face_dir, cache_dir) for paths in (train_paths, negatives)])
    no_one = np.zeros(len(negatives))
    child = np.concatenate([own_child_labels(prep.train_set).to_numpy(), no_one]).astype(int)
    person = np.concatenate([person_image_labels(prep.train_set).to_numpy(), no_one]).astype(int)
    print(
        f"child-image detector: {len(train_paths)} train images ({child.sum()} with children), "
        f"{len(negatives)} people-free negatives",
        file=sys.stderr,
    )
    fitted = fit_detector(pooled, faces, child, person, recall, seed)
    test_signals = fitted.signals(test_pooled, face_features(test_paths, face_dir, cache_dir))
    free_signals = fitted.signals(
        _pooled(held_out, spec, cache_dir), face_features(held_out, face_dir, cache_dir)
    )
    report = {
        "threshold": fitted.params.threshold,
        "train_images": len(train_paths),
        "negatives": len(negatives),
        "people_free_test_photos": len(held_out),
        "test_child_images": int(test_child.sum()),
        "test_images": int(len(test_child)),
        "signals": {
            name: _rates(fitted, name, test_signals[name], test_child, free_signals[name], child)
            for name in test_signals
        },
    }
    return DetectorRun(fitted, face_dir, report)


def _rates(fitted: FittedDetector, name: str, test_scores, test_child, free_scores, train_child) -> dict:
    threshold = fitted.signal_thresholds[name]
    oof = {"combined": fitted.oof}.get(name)
    test_recall, test_other = detector_rates(test_scores, test_child, threshold)
    rates = {
        "test_recall_pct": test_recall,
        "test_other_blocked_pct": test_other,
        "people_free_blocked": int((free_scores >= threshold).sum()),
        "people_free_photos": int(len(free_scores)),
    }
    if oof is not None:
        rates["oof_recall_pct"], rates["oof_other_blocked_pct"] = detector_rates(oof, train_child, threshold)
    return rates
