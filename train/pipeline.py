"""The training run: features, towers, bridge, fusion, calibration, detector,
baseline, evaluation and checkpoint. `run` is what `python -m train` calls."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau
from sklearn.metrics import roc_auc_score

from inference.dataset import TestSet
from inference.preprocess import SERVED_VIEWS
from train.class_texts import class_texts
from train.encoders import (
    DEFAULT_IMAGE_ENCODER,
    DEFAULT_TEXT_MODEL,
    build_image_encoder,
    image_spec,
    is_openclip,
    text_model_dir,
)
from train.features import (
    DEFAULT_CACHE_DIR,
    image_features,
    multilingual_text_features,
    openclip_text_features,
    served_features,
    text_features,
)
from train.model import ModelConfig, hub_penalty, image_bridge, mixed_sentences, text_vectors
from train.prepare import Prepared
from train.targets import MATCH_THRESHOLD, expert_target
from train.towers import PositivePairs, TowerTrainingConfig
from train.use_encoder import MULTILINGUAL_TEXT_MODEL

EXTRA_POSITIVE_TARGET = 0.75  # other images' captions the annotators call a full match


@dataclass(frozen=True)
class RunConfig:
    data_dir: Path
    out_dir: Path
    image_encoder: str = DEFAULT_IMAGE_ENCODER
    image_weights: str = "imagenet"
    text_model: str = DEFAULT_TEXT_MODEL
    multilingual_model: str = MULTILINGUAL_TEXT_MODEL  # "" : English only
    seed: int = 0
    validation_share: float = 0.2
    views: tuple[str, ...] = ("center", "flip", "full")
    towers: TowerTrainingConfig = field(default_factory=TowerTrainingConfig)
    detector_recall: float = 0.97
    max_train_images: int | None = None  # a slice, for quick tests
    members: int | None = None  # tower ensemble size; ModelConfig's default if None
    cache_dir: Path = DEFAULT_CACHE_DIR


@dataclass
class Features:
    """Cached features: image rows follow `images`, text rows follow `texts`."""

    views: tuple[str, ...]  # augmentation views, in the order of train_pooled's first axis
    train_pooled: np.ndarray  # [V, N_train, F]
    train_logits: np.ndarray  # [V, N_train, 1000]
    test_pooled: np.ndarray  # [N_test, F]
    test_logits: np.ndarray  # [N_test, 1000]
    sentences: np.ndarray  # [T, D]
    text_row: dict[str, int]
    class_embeddings: np.ndarray  # [1000, D]

    def view(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Train pooled features [N, F] and logits [N, 1000] of the view called `name`."""
        if name not in self.views:
            raise ValueError(f"view {name!r} was not computed; views: {', '.join(self.views)}")
        row = self.views.index(name)
        return self.train_pooled[row], self.train_logits[row]

    @cached_property
    def served(self) -> tuple[np.ndarray, np.ndarray]:
        """Train pooled features [N, F] and logits [N, 1000] as the image encoder serves
        them: averaged over SERVED_VIEWS (once: every training step reads them)."""
        views = [self.view(name) for name in SERVED_VIEWS]
        return np.mean([p for p, _ in views], axis=0), np.mean([lg for _, lg in views], axis=0)


def sentence_features(cfg: RunConfig, texts: Sequence[str]) -> np.ndarray:
    """English sentence features [N, D] as the text encoder computes them: the text model's
    embeddings, and beside them the multilingual encoder's (train/model.py mixed_sentences)."""
    if is_openclip(cfg.text_model):
        first = openclip_text_features(texts, cfg.text_model, cfg.image_weights, cfg.cache_dir)
    else:
        first = text_features(texts, text_model_dir(cfg.text_model), cfg.cache_dir)
    if not cfg.multilingual_model:
        return first
    multilingual = torch.from_numpy(multilingual_text_features(texts, cfg.cache_dir))
    english = torch.ones(len(texts), 1)
    return mixed_sentences(english, torch.from_numpy(first), multilingual).numpy()


def compute_features(cfg: RunConfig, prep: Prepared, test: TestSet) -> Features:
    spec = image_spec(cfg.image_encoder, cfg.image_weights)
    encoder = partial(build_image_encoder, spec)
    train_paths = [prep.train_set.image_dir / name for name in prep.train_set.images]
    train = image_features(train_paths, spec, encoder, cfg.views, cfg.cache_dir)
    test_paths = [test.image_dir / name for name in test.images]
    test_pooled, test_logits = served_features(test_paths, spec, encoder, cfg.cache_dir)
    # an open_clip image embedding is its own bridge into the text space: no class texts
    per_class = [] if is_openclip(cfg.image_encoder) else class_texts()
    prompts = [text for own in per_class for text in own]
    texts = sorted(
        set(prep.captions["query_text"]) | set(prep.pairs["query_text"]) | set(test.queries["query_text"])
    )
    embedded = sentence_features(cfg, texts + prompts)
    owner = np.repeat(np.arange(len(per_class)), [len(own) for own in per_class])
    class_emb = np.zeros((len(per_class), embedded.shape[1]), np.float64)
    np.add.at(class_emb, owner, embedded[len(texts) :])
    class_emb /= np.maximum(np.linalg.norm(class_emb, axis=1, keepdims=True), 1e-12)
    return Features(
        tuple(cfg.views),
        train["pooled"],
        train["logits"],
        test_pooled,
        test_logits,
        embedded[: len(texts)],
        {t: i for i, t in enumerate(texts)},
        class_emb.astype(np.float32),
    )


def allowed_only(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows touching no restricted text or image (the content policy)."""
    return frame[~(frame["text_restricted"] | frame["image_restricted"])]


def positives_for(prep: Prepared, feats: Features, image_row: dict[str, int]) -> PositivePairs:
    """Own captions of train-split images plus strongly matching scored pairs."""
    own = allowed_only(prep.captions)
    own = own[own["split"] == "train"][["image", "query_text"]]
    scored = allowed_only(prep.pairs)
    scored = scored[(scored["split"] == "train") & (scored["target"] >= EXTRA_POSITIVE_TARGET)]
    both = pd.concat([own, scored[["image", "query_text"]]]).drop_duplicates()
    return PositivePairs(
        both["image"].map(image_row).to_numpy(),
        both["query_text"].map(feats.text_row).to_numpy(),
    )


def val_retrieval(prep: Prepared, feats: Features, image_row: dict[str, int]):
    """(val image rows [M], val caption text rows [Q], owner column [Q])."""
    val = allowed_only(prep.captions)
    val = val[val["split"] == "val"]
    images = sorted(set(val["image"]))
    column = {name: i for i, name in enumerate(images)}
    rows = np.array([image_row[name] for name in images])
    return rows, val["query_text"].map(feats.text_row).to_numpy(), val["image"].map(column).to_numpy()


class Scorer:
    """Fused (uncalibrated) scores from trained towers and the label bridge, less each
    image's hub penalty against a bank of training captions where the config turns it on."""

    def __init__(self, towers, config: ModelConfig, class_embeddings: np.ndarray, bank=None) -> None:
        self.towers, self.config = towers, config
        self.class_embeddings = torch.from_numpy(class_embeddings)
        self.bank = np.zeros((0, config.text_dim), np.float32) if bank is None else bank  # [B, 384]

    def parts(self, pooled, logits, sentences) -> tuple[np.ndarray, np.ndarray]:
        """Tower and bridge cosine matrices [Q, N] for texts x images."""
        vectors = self.image_vectors(pooled, logits)
        tower_dims = vectors.shape[1] - sentences.shape[1]
        with torch.no_grad():
            texts = self.towers.embed_texts(torch.from_numpy(sentences)).numpy()
        return texts @ vectors[:, :tower_dims].T, sentences @ vectors[:, tower_dims:].T

    def image_vectors(self, pooled, logits) -> np.ndarray:
        """[N, M * E + 384]: tower embeddings and bridge vectors, as the image encoder serves them."""
        with torch.no_grad():
            bridge = image_bridge(
                self.config, torch.from_numpy(pooled), torch.from_numpy(logits), self.class_embeddings
            )
            return torch.cat([self.towers.embed_images(torch.from_numpy(pooled)), bridge], -1).numpy()

    def weighted(self, pooled, logits, sentences) -> np.ndarray:
        """tower_weight x tower + bridge_weight x bridge [Q, N], before the hub penalty."""
        return self._against(sentences, self.image_vectors(pooled, logits))

    def penalty(self, pooled, logits) -> np.ndarray:
        """Each image's hub penalty [N] (train/model.py hub_penalty); zeros where off."""
        return self._penalty_of(self.image_vectors(pooled, logits))

    def fused(self, pooled, logits, sentences) -> np.ndarray:
        vectors = self.image_vectors(pooled, logits)
        return self._against(sentences, vectors) - self._penalty_of(vectors)[None, :]

    def _against(self, sentences, vectors) -> np.ndarray:
        """Sentences [Q, 384] as served text vectors (train/model.py text_vectors) against
        image vectors [N, M * E + 384]: weighted scores [Q, N]."""
        with torch.no_grad():
            texts = text_vectors(self.config, self.towers, torch.from_numpy(sentences)).numpy()
        return texts @ vectors.T

    def _penalty_of(self, vectors) -> np.ndarray:
        if not self.config.bank_strength or not len(self.bank):
            return np.zeros(len(vectors), np.float32)
        scores = torch.from_numpy(self._against(self.bank, vectors))
        return hub_penalty(scores, self.config.bank_temperature, self.config.bank_strength).numpy()


def pair_scores(scorer: Scorer, pooled, logits, sentences, image_idx, text_idx) -> np.ndarray:
    """Fused score [P] of pairs (image_idx[i], text_idx[i]), batched by image."""
    out = np.empty(len(image_idx), dtype=np.float32)
    images = np.unique(image_idx)
    # once for all images: each penalty scores the whole caption bank
    penalty = dict(zip(images, scorer.penalty(pooled[images], logits[images]), strict=True))
    for image in images:
        sel = np.nonzero(image_idx == image)[0]
        scores = scorer.weighted(pooled[[image]], logits[[image]], sentences[text_idx[sel]])
        out[sel] = scores[:, 0] - penalty[image]
    return out


def pair_metrics(probabilities: np.ndarray, pairs: pd.DataFrame) -> dict[str, float]:
    """RMSE vs target, Brier and ROC-AUC vs expert match, Kendall tau vs expert mean."""
    expert = expert_target(pairs).to_numpy()
    rated = ~np.isnan(expert)
    match = expert[rated] >= MATCH_THRESHOLD - 1e-9
    return {
        "rmse": float(np.sqrt(np.mean((probabilities - pairs["target"].to_numpy()) ** 2))),
        "brier": float(np.mean((probabilities[rated] - match) ** 2)),
        "roc_auc": float(roc_auc_score(match, probabilities[rated]))
        if 0 < match.sum() < len(match)
        else float("nan"),
        "kendall_tau": float(kendalltau(probabilities[rated], expert[rated]).statistic),
        "pairs": int(len(pairs)),
    }


def write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)
