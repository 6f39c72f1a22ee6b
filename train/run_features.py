"""A run's features: every training image's pooled features and logits per view, the
test images' as served, and the sentence vectors of every text the run reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np
import torch

from inference.data.dataset import TestSet
from inference.models.config import is_openclip
from inference.models.preprocess import SERVED_VIEWS
from train.class_texts import class_texts
from train.config import RunConfig
from train.encoders import build_image_encoder, image_spec, text_model_dir
from train.features import (
    image_features,
    multilingual_text_features,
    openclip_text_features,
    served_features,
    text_features,
)
from train.model import mixed_sentences
from train.prepare import Prepared


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
