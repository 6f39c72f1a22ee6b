"""The three exported graphs, rebuilt from a training checkpoint.

image encoder: pixels [N, 3, S, S] -> image_vectors [N, D], detector_logits [N, 2] (child, person)
text encoder:  input_ids, attention_mask [N, L] -> text_vectors [N, D]
scoring head:  text_vectors [Q, D], image_vectors [N, D] -> probabilities [Q, N]

D = members * embed_dim + sentence dim. A text vector carries the fusion
weights, so text_vectors @ image_vectors.T is the fused score and the head only
calibrates it: probability = sigmoid(calib_scale * score + calib_bias).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from train.checkpoint import Checkpoint, load_checkpoint
from train.encoders import SentenceEncoder, build_image_encoder, text_model_dir
from train.model import DetectorHeads, ModelConfig, TwoTower, bridge_vectors


class ImageEncoder(nn.Module):
    def __init__(self, config: ModelConfig, towers: TwoTower, class_embeddings, detector) -> None:
        super().__init__()
        self.backbone = build_image_encoder(config.image)
        self.towers = towers
        self.class_embeddings: torch.Tensor
        self.register_buffer("class_embeddings", torch.as_tensor(class_embeddings))
        self.detector = detector
        self.bridge_temperature = config.bridge_temperature

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled, logits = self.backbone(pixels)  # [N, F], [N, 1000]
        tower = self.towers.embed_images(pooled)  # [N, M * E]
        bridge = bridge_vectors(logits, self.class_embeddings, self.bridge_temperature)  # [N, 384]
        return torch.cat([tower, bridge], dim=-1), self.detector(pooled)


class TextEncoder(nn.Module):
    def __init__(self, config: ModelConfig, towers: TwoTower) -> None:
        super().__init__()
        self.sentence = SentenceEncoder(text_model_dir(config.text_model))
        self.towers = towers
        self.tower_weight = config.tower_weight
        self.bridge_weight = config.bridge_weight

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        sentence = self.sentence(input_ids, attention_mask)  # [N, 384], unit norm
        tower = self.towers.embed_texts(sentence)  # [N, M * E]
        return torch.cat([self.tower_weight * tower, self.bridge_weight * sentence], dim=-1)


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
    image = ImageEncoder(config, towers, checkpoint.class_embeddings, detector).eval()
    text = TextEncoder(config, towers).eval()
    return config, image, text, ScoringHead(config).eval()
