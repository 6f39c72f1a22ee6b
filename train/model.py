"""The match model: two linear towers into a shared space, a zero-shot label
bridge, and a calibration that turns their fused score into a probability.

score(image, text) = tower_weight * cos(P_i f_img, P_t f_txt)
                   + bridge_weight * cos(softmax(logits / T) @ C, f_txt)
probability       = sigmoid(calib_scale * score + calib_bias)

Both terms are dot products of per-side vectors, so the fused score is a single
dot product of [tower_img, bridge_img] and [w_t tower_txt, w_b f_txt]: a gallery
is ranked by one matrix product and can sit in an approximate index.
C [1000, D] holds sentence embeddings of prompts naming the ImageNet classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
from torch import nn

from train.encoders import ImageEncoderSpec
from train.openclip_names import is_openclip


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the model; saved inside the checkpoint."""

    image: ImageEncoderSpec = field(default_factory=ImageEncoderSpec)
    text_model: str = "all-MiniLM-L6-v2"  # a name (train/encoders.text_model_dir) or a model folder
    text_dim: int = 384
    # a second sentence encoder beside it that reads every language ("" for none): a query in another
    # language is read by it alone (see mixed_sentences); text_dim then counts both
    multilingual_model: str = ""
    english_text_dim: int = 0  # the leading sentence dims only an English query has (the first encoder's)
    embed_dim: int = 256
    members: int = 5  # independently trained tower pairs, averaged (an ensemble)
    bridge_temperature: float = 1.0
    tower_weight: float = 1.0
    bridge_weight: float = 0.0
    calib_scale: float = 1.0
    calib_bias: float = 0.0
    no_match_below: float = 0.0  # best probability under which no image matches well (0: never said)
    # query-bank normalisation (see hub_penalty): strength 0 turns it off
    bank_temperature: float = 0.25
    bank_strength: float = 0.0
    penalty_scale: float = 1.0  # the penalty is stored divided by this (see export/modules.py)

    @property
    def native_bridge(self) -> bool:
        """An open_clip backbone: the image embedding is the bridge, no ImageNet labels between."""
        return is_openclip(self.image.name)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        # checkpoints before the detector held the only copy of its threshold also kept one here
        kept = {k: v for k, v in data.items() if k != "child_threshold"}
        return cls(**{**kept, "image": ImageEncoderSpec(**data["image"])})

    def updated(self, **changes: Any) -> ModelConfig:
        return replace(self, **changes)


class TwoTower(nn.Module):
    """Linear projections of frozen features into a shared, normalised space.

    With M members, each side projects to M chunks of E dims; each chunk is
    normalised and the whole scaled by 1/sqrt(M), so a dot product of two
    vectors [M * E] is the mean of the M members' cosines.
    """

    def __init__(self, config: ModelConfig, members: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.members, self.embed_dim = members, config.embed_dim
        self.image_proj = nn.Linear(config.image.feature_dim, members * config.embed_dim)
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


def text_vectors(config: ModelConfig, towers: TwoTower, sentences: torch.Tensor) -> torch.Tensor:
    """Sentence embeddings [N, 384] -> text vectors [N, M * E + 384], fusion weights included:
    their dot product with an image's [tower embedding, bridge vector] is the fused score
    (before the hub penalty's column, which export/modules.py appends)."""
    tower = towers.embed_texts(sentences)  # [N, M * E]
    return torch.cat([config.tower_weight * tower, config.bridge_weight * sentences], dim=-1)


def hub_penalty(scores: torch.Tensor, temperature: float, strength: float) -> torch.Tensor:
    """Query-bank normalisation against hubness (QB-Norm, Bogolin et al. 2022; the
    inverted softmax of Smith et al. 2017): fused scores [B, N] of a bank of B
    training captions against N images -> each image's penalty [N],
    strength * T * logsumexp_b(score / T). Ranking by score - penalty demotes an
    image that matches every caption well (a "hub", everyone's nearest neighbour)."""
    return strength * temperature * torch.logsumexp(scores / temperature, dim=0)


class DetectorHeads(nn.Module):
    """The child-image detector's two linear heads on pooled image features:
    [N, F] -> logits [N, 2] (a child is shown, a person is shown); see inference/detector.py."""

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(feature_dim, 2)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.linear(pooled)
