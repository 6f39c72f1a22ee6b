"""The match model's torch modules: two linear towers into a shared space, a zero-shot label
bridge, the hub penalty, and the calibration that turns their fused score into a probability.

score(image, text) = tower_weight * cos(P_i f_img, P_t f_txt)
                   + bridge_weight * cos(softmax(logits / T) @ C, f_txt)
                   - hub penalty(image)
probability       = sigmoid(calibration.scale * score + calibration.bias)

`ServedScore` computes the score, the one implementation of it: training's scorer
(train/scorer.py) evaluates it and export (export/modules.py) wraps it for tracing. Every term
is a dot product of per-side vectors, so the score is one dot product of an image vector
[tower, bridge, penalty / s] and a text vector [w_t tower, w_b f_txt, -s]: a gallery is ranked
by one matrix product and can sit in an approximate index. C [1000, D] holds sentence
embeddings of prompts naming the ImageNet classes. The architecture and the fitted values
are plain records (inference/models/config.py).
"""

from __future__ import annotations

import torch
from torch import nn

from inference.models.config import Calibration, Fusion, ModelConfig
from train.encoders import feature_dim


class TwoTower(nn.Module):
    """Linear projections of frozen features into a shared, normalised space.

    With M members, each side projects to M chunks of E dims; each chunk is
    normalised and the whole scaled by 1/sqrt(M), so a dot product of two
    vectors [M * E] is the mean of the M members' cosines.
    """

    def __init__(self, config: ModelConfig, members: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.members, self.embed_dim = members, config.embed_dim
        self.image_proj = nn.Linear(feature_dim(config.image), members * config.embed_dim)
        self.text_proj = nn.Linear(config.text_dim, members * config.embed_dim)
        self.dropout = nn.Dropout(dropout)
        self.log_inv_temperature = nn.Parameter(torch.tensor(2.66))  # 1/T = e^2.66 ~ 14

    def _normalise(self, projected: torch.Tensor) -> torch.Tensor:
        chunks = projected.unflatten(-1, (self.members, self.embed_dim))  # [N, M, E]
        chunks = nn.functional.normalize(chunks, dim=-1) / self.members**0.5
        return chunks.flatten(-2)  # [N, M * E]

    def embed_images(self, pooled: torch.Tensor) -> torch.Tensor:
        """pooled [N, F] -> vectors [N, M * E] of unit norm."""
        return self._normalise(self.image_proj(self.dropout(pooled)))

    def embed_texts(self, sentences: torch.Tensor) -> torch.Tensor:
        """sentence embeddings [N, D] -> vectors [N, M * E] of unit norm."""
        return self._normalise(self.text_proj(self.dropout(sentences)))


def stack_members(config: ModelConfig, towers: list[TwoTower]) -> TwoTower:
    """One M-member TwoTower from M single-member ones (weights concatenated)."""
    stacked = TwoTower(config, members=len(towers))
    with torch.no_grad():
        for name in ("image_proj", "text_proj"):
            layer = getattr(stacked, name)
            layer.weight.copy_(torch.cat([getattr(t, name).weight for t in towers]))
            layer.bias.copy_(torch.cat([getattr(t, name).bias for t in towers]))
    return stacked.eval()


def mixed_sentences(english: torch.Tensor, first: torch.Tensor, multilingual: torch.Tensor) -> torch.Tensor:
    """One sentence feature [N, D1 + D2] of unit norm from both encoders' unit vectors
    first [N, D1] (English only) and multilingual [N, D2]: both halves, each / sqrt(2), for an
    English query (english [N, 1] = 1), the multilingual half alone for any other (0)."""
    half = english / 2**0.5
    return torch.cat([half * first, (half + 1.0 - english) * multilingual], dim=-1)


def as_foreign(sentences: torch.Tensor, english_dim: int) -> torch.Tensor:
    """English sentence features [N, D] (mixed_sentences) as a query in another language
    reads: the first encoder's part dropped, the multilingual part alone at unit norm."""
    return torch.cat([torch.zeros_like(sentences[:, :english_dim]), sentences[:, english_dim:] * 2**0.5], -1)


def bridge_vectors(logits: torch.Tensor, class_embeddings: torch.Tensor, temperature: float):
    """ImageNet logits [N, 1000] -> unit vectors [N, D] in the sentence space."""
    probs = torch.softmax(logits / temperature, dim=-1)
    return nn.functional.normalize(probs @ class_embeddings, dim=-1)


def image_bridge(
    config: ModelConfig, pooled: torch.Tensor, logits: torch.Tensor, class_embeddings: torch.Tensor
) -> torch.Tensor:
    """Each image's unit vector [N, text_dim] in the sentence space. A classifier backbone gets
    there through its ImageNet labels (bridge_vectors); an open_clip backbone's embedding [N, E]
    is already in its own text side's space, the first E sentence dims (the rest, the
    multilingual encoder's, stay 0)."""
    if not config.native_bridge:
        return bridge_vectors(logits, class_embeddings, config.bridge_temperature)
    # padded rather than concatenated with zeros: a zeros tensor would be traced with the
    # export's batch size baked in
    padded = nn.functional.pad(pooled, (0, config.text_dim - pooled.shape[1]))
    return nn.functional.normalize(padded, dim=-1)


def hub_penalty(scores: torch.Tensor, temperature: float, strength: float) -> torch.Tensor:
    """Query-bank normalisation against hubness (QB-Norm, Bogolin et al. 2022; the
    inverted softmax of Smith et al. 2017): fused scores [B, N] of a bank of B
    training captions against N images -> each image's penalty [N],
    strength * T * logsumexp_b(score / T). Ranking by score - penalty demotes an
    image that matches every caption well (a "hub", everyone's nearest neighbour)."""
    return strength * temperature * torch.logsumexp(scores / temperature, dim=0)


class ServedScore(nn.Module):
    """The score of texts against images, as every part of the product computes it.

    image_vectors: pooled features [N, F], ImageNet logits [N, 1000] -> [N, D]
    text_vectors:  sentence features [Q, text_dim] -> [Q, D]
    forward:       text vectors [Q, D], image vectors [N, D] -> fused scores [Q, N]

    D = members * embed_dim + text_dim + 1. The last column is each image's hub penalty
    divided by `fusion.penalty_scale`, and -penalty_scale in every text vector, so the dot
    product subtracts the penalty: every store and ranker applies it with no code of its own.
    """

    def __init__(self, config: ModelConfig, fusion: Fusion, towers: TwoTower, class_embeddings, bank) -> None:
        """`class_embeddings` [1000, text_dim]: the label bridge's class texts; `bank`
        [B, text_dim]: sentence features of the captions the hub penalty measures each image
        against (B = 0: no penalty)."""
        super().__init__()
        self.config, self.fusion, self.towers = config, fusion, towers
        self.class_embeddings: torch.Tensor
        self.register_buffer("class_embeddings", torch.as_tensor(class_embeddings))
        self.bank: torch.Tensor  # [B, D - 1]: the caption bank's text parts, computed once
        with torch.no_grad():
            self.register_buffer("bank", self.text_parts(torch.as_tensor(bank)))

    def image_parts(self, pooled: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """[N, M * E + text_dim]: tower embeddings and bridge vectors."""
        bridge = image_bridge(self.config, pooled, logits, self.class_embeddings)
        return torch.cat([self.towers.embed_images(pooled), bridge], dim=-1)

    def text_parts(self, sentences: torch.Tensor) -> torch.Tensor:
        """[Q, M * E + text_dim]: tower embeddings and sentence features, fusion weights
        included: their dot product with image parts is the score before the penalty."""
        tower = self.towers.embed_texts(sentences)  # [Q, M * E]
        return torch.cat([self.fusion.tower_weight * tower, self.fusion.bridge_weight * sentences], dim=-1)

    def penalty(self, image_parts: torch.Tensor) -> torch.Tensor:
        """Each image's hub penalty [N] against the caption bank; zeros where turned off."""
        if not self.fusion.bank_strength or not len(self.bank):
            return image_parts[:, 0] * 0.0  # shaped from the input: batch size stays dynamic in ONNX
        scores = self.bank @ image_parts.T  # [B, N]
        return hub_penalty(scores, self.fusion.bank_temperature, self.fusion.bank_strength)

    def image_vectors(self, pooled: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        parts = self.image_parts(pooled, logits)
        column = (self.penalty(parts) / self._penalty_scale).unsqueeze(-1)  # [N, 1]
        return torch.cat([parts, column], dim=-1)

    def text_vectors(self, sentences: torch.Tensor) -> torch.Tensor:
        parts = self.text_parts(sentences)
        column = parts[:, :1] * 0.0 - self._penalty_scale  # [Q, 1], batch size dynamic in ONNX
        return torch.cat([parts, column], dim=-1)

    def forward(self, text_vectors: torch.Tensor, image_vectors: torch.Tensor) -> torch.Tensor:
        return text_vectors @ image_vectors.T

    @property
    def _penalty_scale(self) -> float:
        return 1.0 if self.fusion.penalty_scale is None else self.fusion.penalty_scale


class ProbabilityHead(nn.Module):
    """Fused scores -> calibrated probabilities: text vectors [Q, D], image vectors [N, D]
    -> [Q, N], sigmoid(scale * score + bias) of `ServedScore`'s score."""

    def __init__(self, score: ServedScore, calibration: Calibration) -> None:
        super().__init__()
        self.score = score
        self.scale, self.bias = calibration.scale, calibration.bias

    def forward(self, text_vectors: torch.Tensor, image_vectors: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.scale * self.score(text_vectors, image_vectors) + self.bias)


class DetectorHeads(nn.Module):
    """The child-image detector's two linear heads on pooled image features:
    [N, F] -> logits [N, 2] (a child is shown, a person is shown); see inference/review/detector.py."""

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(feature_dim, 2)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.linear(pooled)
