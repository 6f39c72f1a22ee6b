"""The three exported graphs, rebuilt from a training checkpoint.

image encoder: pixels [N, V, 3, S, S] -> image_vectors [N, D], detector_logits [N, 2] (child, person);
               V views of each picture (inference.models.preprocess.SERVED_VIEWS), pooled features averaged
text encoder:  input_ids, attention_mask [N, L] -> text_vectors [N, D]; with a multilingual
               encoder also multilingual_ids, multilingual_mask [N, L'] and english [N, 1] in,
               and that encoder's own multilingual_vectors [N, 512] out (the content
               policy's semantic net reads them: inference/policy/query_net.py)
scoring head:  text_vectors [Q, D], image_vectors [N, D] -> probabilities [Q, N]

D = members * embed_dim + sentence dim + 1. A text vector carries the fusion
weights, so text_vectors @ image_vectors.T is the fused score and the head only
calibrates it: probability = sigmoid(calib_scale * score + calib_bias). The last
column is the image's hub penalty (train/model.py hub_penalty) divided by
penalty_scale, and -penalty_scale in every text vector: the dot product subtracts
the penalty, so every store and ranker applies it with no code of its own.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from train.checkpoint import Checkpoint, load_checkpoint
from train.encoders import SentenceEncoder, build_image_encoder, text_model_dir
from train.model import (
    DetectorHeads,
    ModelConfig,
    TwoTower,
    hub_penalty,
    image_bridge,
    mixed_sentences,
    text_vectors,
)
from train.openclip_names import is_openclip
from train.use_encoder import MultilingualSentenceEncoder


class ImageEncoder(nn.Module):
    def __init__(self, config: ModelConfig, towers: TwoTower, class_embeddings, detector, bank) -> None:
        super().__init__()
        self.backbone = build_image_encoder(config.image)
        self.towers = towers
        self.class_embeddings: torch.Tensor
        self.register_buffer("class_embeddings", torch.as_tensor(class_embeddings))
        self.bank: torch.Tensor  # [B, D - 1]: the caption bank's text vectors
        with torch.no_grad():
            self.register_buffer("bank", text_vectors(config, towers, torch.as_tensor(bank)))
        self.detector = detector
        self.config = config

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        views = pixels.shape[1]
        pooled, logits = self.backbone(pixels.flatten(0, 1))  # [N * V, F], [N * V, 1000]
        pooled = pooled.unflatten(0, (-1, views)).mean(dim=1)  # [N, F]: as training's served()
        logits = logits.unflatten(0, (-1, views)).mean(dim=1)  # [N, 1000]
        tower = self.towers.embed_images(pooled)  # [N, M * E]
        bridge = image_bridge(self.config, pooled, logits, self.class_embeddings)  # [N, text_dim]
        vectors = torch.cat([tower, bridge], dim=-1)
        if self.config.bank_strength and len(self.bank):
            bank_scores = self.bank @ vectors.T  # [B, N]
            penalty = hub_penalty(bank_scores, self.config.bank_temperature, self.config.bank_strength)
        else:
            penalty = vectors[:, 0] * 0.0  # shaped from the input: batch size stays dynamic in ONNX
        column = (penalty / self.config.penalty_scale).unsqueeze(-1)  # [N, 1]
        return torch.cat([vectors, column], dim=-1), self.detector(pooled)


class TextEncoder(nn.Module):
    def __init__(self, config: ModelConfig, towers: TwoTower) -> None:
        super().__init__()
        self.sentence = sentence_encoder(config)
        self.towers = towers
        self.config = config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self._vectors(self.sentence(input_ids, attention_mask))  # sentence [N, 384], unit norm

    def _vectors(self, sentence: torch.Tensor) -> torch.Tensor:
        vectors = text_vectors(self.config, self.towers, sentence)
        column = vectors[:, :1] * 0.0 - self.config.penalty_scale  # [N, 1], batch size dynamic in ONNX
        return torch.cat([vectors, column], dim=-1)


def sentence_encoder(config: ModelConfig) -> nn.Module:
    """The first text encoder: ids and mask [N, L] -> unit sentence vectors [N, english_text_dim
    or text_dim]; an open_clip backbone's own text side, else the Hugging Face sentence model."""
    if is_openclip(config.text_model):
        from train.openclip import OpenClipText, load_model

        return OpenClipText(load_model(config.text_model, config.image.weights))
    return SentenceEncoder(text_model_dir(config.text_model))


class MultilingualTextEncoder(TextEncoder):
    """Both sentence encoders: ids and mask of each tokenizer, and `english` [N, 1] (1: an
    English query, both encoders; 0: any other language, the multilingual one alone)."""

    def __init__(self, config: ModelConfig, towers: TwoTower) -> None:
        super().__init__(config, towers)
        self.multilingual = MultilingualSentenceEncoder()

    def forward(  # type: ignore[override]
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        multilingual_ids: torch.Tensor,
        multilingual_mask: torch.Tensor,
        english: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        first = self.sentence(input_ids, attention_mask)  # [N, 384]
        other = self.multilingual(multilingual_ids, multilingual_mask)  # [N, 512]
        return self._vectors(mixed_sentences(english, first, other)), other


class ScoringHead(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.scale = config.calib_scale
        self.bias = config.calib_bias

    def forward(self, text_vectors: torch.Tensor, image_vectors: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.scale * (text_vectors @ image_vectors.T) + self.bias)


def load_modules(checkpoint_path: Path) -> tuple[ModelConfig, ImageEncoder, TextEncoder, ScoringHead]:
    """Rebuild the three exportable modules (eval mode) from a checkpoint file."""
    return build_modules(load_checkpoint(checkpoint_path))


def build_modules(checkpoint: Checkpoint) -> tuple[ModelConfig, ImageEncoder, TextEncoder, ScoringHead]:
    """The three exportable modules (eval mode) of a loaded checkpoint."""
    config = checkpoint.config
    towers = TwoTower(config, members=config.members)
    towers.load_state_dict(checkpoint.towers)
    towers.eval()
    detector = DetectorHeads(config.image.feature_dim)
    with torch.no_grad():
        detector.linear.weight.copy_(torch.as_tensor(checkpoint.detector.head_weight))
        detector.linear.bias.copy_(torch.as_tensor(checkpoint.detector.head_bias))
    image = ImageEncoder(config, towers, checkpoint.class_embeddings, detector, checkpoint.query_bank).eval()
    text = (MultilingualTextEncoder if config.multilingual_model else TextEncoder)(config, towers).eval()
    return config, image, text, ScoringHead(config).eval()
