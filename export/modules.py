"""The three exported graphs, rebuilt from a training checkpoint: each wraps the encoders
around the one score (train/model.py ServedScore) for tracing.

image encoder: pixels [N, V, 3, S, S] -> image_vectors [N, D], detector_logits [N, 2] (child, person);
               V views of each picture (inference.models.preprocess.SERVED_VIEWS), pooled features averaged
text encoder:  input_ids, attention_mask [N, L] -> text_vectors [N, D]; with a multilingual
               encoder also multilingual_ids, multilingual_mask [N, L'] and english [N, 1] in,
               and that encoder's own multilingual_vectors [N, 512] out (the content
               policy's semantic net reads them: inference/policy/query_net.py)
scoring head:  text_vectors [Q, D], image_vectors [N, D] -> probabilities [Q, N]

text_vectors @ image_vectors.T is the fused score, hub penalty included (ServedScore); the
head only calibrates it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from inference.models.config import ModelConfig, is_openclip
from train.checkpoint import Checkpoint, load_checkpoint
from train.encoders import SentenceEncoder, build_image_encoder, feature_dim, text_model_dir
from train.model import DetectorHeads, ProbabilityHead, ServedScore, TwoTower, mixed_sentences
from train.use_encoder import MultilingualSentenceEncoder


class ImageEncoder(nn.Module):
    def __init__(self, config: ModelConfig, score: ServedScore, detector: DetectorHeads) -> None:
        super().__init__()
        self.backbone = build_image_encoder(config.image)
        self.score = score
        self.detector = detector

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        views = pixels.shape[1]
        pooled, logits = self.backbone(pixels.flatten(0, 1))  # [N * V, F], [N * V, 1000]
        pooled = pooled.unflatten(0, (-1, views)).mean(dim=1)  # [N, F]: as training's served()
        logits = logits.unflatten(0, (-1, views)).mean(dim=1)  # [N, 1000]
        return self.score.image_vectors(pooled, logits), self.detector(pooled)


class TextEncoder(nn.Module):
    def __init__(self, config: ModelConfig, score: ServedScore) -> None:
        super().__init__()
        self.sentence = sentence_encoder(config)
        self.score = score

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.score.text_vectors(self.sentence(input_ids, attention_mask))  # sentence: unit norm


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

    def __init__(self, config: ModelConfig, score: ServedScore) -> None:
        super().__init__(config, score)
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
        return self.score.text_vectors(mixed_sentences(english, first, other)), other


def load_modules(checkpoint_path: Path) -> tuple[ModelConfig, ImageEncoder, TextEncoder, ProbabilityHead]:
    """Rebuild the three exportable modules (eval mode) from a checkpoint file."""
    return build_modules(load_checkpoint(checkpoint_path))


def build_modules(checkpoint: Checkpoint) -> tuple[ModelConfig, ImageEncoder, TextEncoder, ProbabilityHead]:
    """The three exportable modules (eval mode) of a loaded checkpoint."""
    config, fitted = checkpoint.config, checkpoint.fitted
    towers = TwoTower(config, members=config.members)
    towers.load_state_dict(checkpoint.towers)
    score = ServedScore(
        config, fitted.fusion, towers.eval(), checkpoint.class_embeddings, checkpoint.query_bank
    )
    detector = DetectorHeads(feature_dim(config.image))
    with torch.no_grad():
        detector.linear.weight.copy_(torch.as_tensor(checkpoint.detector.head_weight))
        detector.linear.bias.copy_(torch.as_tensor(checkpoint.detector.head_bias))
    image = ImageEncoder(config, score, detector).eval()
    text = (MultilingualTextEncoder if config.multilingual_model else TextEncoder)(config, score).eval()
    return config, image, text, ProbabilityHead(score, fitted.calibration).eval()
