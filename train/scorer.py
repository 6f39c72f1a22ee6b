"""The trained model's fused scores in numpy (as export serves them), and their metrics
against the annotators' judgments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau
from sklearn.metrics import roc_auc_score

from train.model import ModelConfig, hub_penalty, image_bridge, text_vectors
from train.targets import MATCH_THRESHOLD, expert_target


class Scorer:
    """Fused (uncalibrated) scores from trained towers and the label bridge, less each
    image's hub penalty against a bank of training captions where the config turns it on."""

    def __init__(self, towers, config: ModelConfig, class_embeddings: np.ndarray, bank=None) -> None:
        self.towers, self.config = towers, config
        self.class_embeddings = torch.from_numpy(class_embeddings)
        self.bank = np.zeros((0, config.text_dim), np.float32) if bank is None else bank  # [B, 384]

    def configured(self, **settings: Any) -> Scorer:
        """The same towers and bank under the config with `settings` changed."""
        return Scorer(self.towers, self.config.updated(**settings), self.class_embeddings.numpy(), self.bank)

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
