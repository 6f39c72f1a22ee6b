"""Training's view of the served score in numpy (train/model.py `ServedScore`, the one
implementation: the numbers here are the exported graphs' numbers), and its metrics against
the annotators' judgments."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau
from sklearn.metrics import roc_auc_score

from inference.models.config import Calibration, FittedScore, Fusion, ModelConfig
from train.model import ProbabilityHead, ServedScore, TwoTower
from train.targets import MATCH_THRESHOLD, expert_target


class Scorer:
    """Scores of trained towers and the label bridge under `fitted` fusion weights, hub
    penalty (against `bank`, sentence features [B, text_dim] of training captions) and
    calibration. Arrays in, arrays out: pooled [N, F], logits [N, 1000], sentences [Q, text_dim]."""

    def __init__(
        self,
        towers: TwoTower,
        config: ModelConfig,
        class_embeddings: np.ndarray,
        bank: np.ndarray | None = None,
        fitted: FittedScore | None = None,
    ) -> None:
        self.towers, self.config, self.fitted = towers, config, fitted or FittedScore()
        self.class_embeddings = class_embeddings
        self.bank = np.zeros((0, config.text_dim), np.float32) if bank is None else bank
        self.score = ServedScore(config, self.fitted.fusion, towers, class_embeddings, self.bank).eval()
        self.head = ProbabilityHead(self.score, self.fitted.calibration).eval()

    def with_fusion(self, fusion: Fusion) -> Scorer:
        """The same towers and bank with `fusion` (the calibration fitted on the old one dropped)."""
        return Scorer(self.towers, self.config, self.class_embeddings, self.bank, FittedScore(fusion))

    def with_calibration(self, calibration: Calibration) -> Scorer:
        fitted = replace(self.fitted, calibration=calibration)
        return Scorer(self.towers, self.config, self.class_embeddings, self.bank, fitted)

    def parts(self, pooled, logits, sentences) -> tuple[np.ndarray, np.ndarray]:
        """Tower and bridge cosine matrices [Q, N] for texts x images, unweighted (what fusion tunes)."""
        images = self.image_parts(pooled, logits)
        tower_dims = images.shape[1] - sentences.shape[1]
        with torch.no_grad():
            texts = self.towers.embed_texts(torch.from_numpy(sentences)).numpy()
        return texts @ images[:, :tower_dims].T, sentences @ images[:, tower_dims:].T

    def image_parts(self, pooled, logits) -> np.ndarray:
        """[N, M * E + text_dim]: tower embeddings and bridge vectors (no penalty column)."""
        with torch.no_grad():
            return self.score.image_parts(torch.from_numpy(pooled), torch.from_numpy(logits)).numpy()

    def image_vectors(self, pooled, logits) -> np.ndarray:
        """[N, D]: as the exported image encoder serves them, penalty column included."""
        with torch.no_grad():
            return self.score.image_vectors(torch.from_numpy(pooled), torch.from_numpy(logits)).numpy()

    def text_vectors(self, sentences) -> np.ndarray:
        """[Q, D]: as the exported text encoder serves them."""
        with torch.no_grad():
            return self.score.text_vectors(torch.from_numpy(sentences)).numpy()

    def weighted(self, pooled, logits, sentences) -> np.ndarray:
        """tower_weight x tower + bridge_weight x bridge [Q, N], before the hub penalty."""
        with torch.no_grad():
            texts = self.score.text_parts(torch.from_numpy(sentences))
            return (
                texts @ self.score.image_parts(torch.from_numpy(pooled), torch.from_numpy(logits)).T
            ).numpy()

    def penalty(self, pooled, logits) -> np.ndarray:
        """Each image's hub penalty [N] (train/model.py hub_penalty); zeros where off."""
        with torch.no_grad():
            parts = self.score.image_parts(torch.from_numpy(pooled), torch.from_numpy(logits))
            return self.score.penalty(parts).numpy()

    def fused(self, pooled, logits, sentences) -> np.ndarray:
        """The served score [Q, N]: text vectors @ image vectors.T, the penalty subtracted."""
        with torch.no_grad():
            return self.score(*self._vectors(pooled, logits, sentences)).numpy()

    def probabilities(self, pooled, logits, sentences) -> np.ndarray:
        """Calibrated probabilities [Q, N], as the exported scoring head gives them."""
        with torch.no_grad():
            return self.head(*self._vectors(pooled, logits, sentences)).numpy()

    def _vectors(self, pooled, logits, sentences) -> tuple[torch.Tensor, torch.Tensor]:
        texts = self.score.text_vectors(torch.from_numpy(sentences))
        return texts, self.score.image_vectors(torch.from_numpy(pooled), torch.from_numpy(logits))


def pair_scores(scorer: Scorer, pooled, logits, sentences, image_idx, text_idx) -> np.ndarray:
    """Fused score [P] of pairs (image_idx[i], text_idx[i])."""
    images, row = np.unique(image_idx, return_inverse=True)
    # once for all images: each penalty scores the whole caption bank
    image_vectors = scorer.image_vectors(pooled[images], logits[images])
    texts, text_row = np.unique(text_idx, return_inverse=True)
    text_vectors = scorer.text_vectors(sentences[texts])
    return np.einsum("pd,pd->p", text_vectors[text_row], image_vectors[row])


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
