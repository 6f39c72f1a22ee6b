"""Validation of queries in other languages: our own translations of validation captions
(train/translated_validation.tsv: Russian, German, Spanish, French; never test
queries), searched over the validation images as the engine searches them (the
multilingual encoder alone), beside the English originals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from inference.data.metrics import retrieval_metrics, target_ranks
from train.features import multilingual_text_features
from train.model import mixed_sentences
from train.scorer import Scorer

TRANSLATIONS = Path(__file__).resolve().parent / "translated_validation.tsv"


def read_translations(path: Path = TRANSLATIONS) -> pd.DataFrame:
    """Columns query_id (a validation caption's id), language, query_text."""
    return pd.read_csv(path, sep="\t", quoting=3, dtype=str)


def foreign_sentences(texts: list[str], english_dim: int, cache_dir: Path) -> np.ndarray:
    """Sentence features [N, D] of queries in another language, as the text encoder reads them."""
    multilingual = torch.from_numpy(multilingual_text_features(texts, cache_dir))
    zeros, foreign = torch.zeros(len(texts), english_dim), torch.zeros(len(texts), 1)
    return mixed_sentences(foreign, zeros, multilingual).numpy()


def _figures(scorer: Scorer, gallery: tuple[np.ndarray, np.ndarray], sentences, owner: np.ndarray) -> dict:
    """R@1/5/10 of `sentences` [Q, D] over `gallery`, and the probability of each one's own image."""
    metrics = retrieval_metrics(target_ranks(scorer.fused(*gallery, sentences), owner))
    probabilities = scorer.probabilities(*gallery, sentences)
    return {
        "queries": int(len(owner)),
        **{k: round(float(metrics[k]), 1) for k in ("recall@1", "recall@5", "recall@10")},
        "mean_probability_of_own_image": round(float(probabilities[np.arange(len(owner)), owner].mean()), 3),
    }


def multilingual_validation(
    scorer: Scorer, gallery: tuple[np.ndarray, np.ndarray], images: list[str], captions: pd.Series,
    english_sentences, cache_dir: Path,
) -> dict:  # fmt: skip
    """Per language: R@1/5/10 of its translations over the validation images `images` (pooled,
    logits in `gallery`), and of the same captions in English. `captions`: query_id -> text;
    `english_sentences(texts)`: English sentence features."""
    translations = read_translations()
    translations = translations[translations["query_id"].isin(captions.index)]
    column = {name: i for i, name in enumerate(images)}
    figures = {}
    for language, rows in translations.groupby("language"):
        owner = rows["query_id"].str.split("#").str[0].map(column).to_numpy()
        english = english_sentences(captions[rows["query_id"]].tolist())
        foreign = foreign_sentences(rows["query_text"].tolist(), scorer.config.english_text_dim, cache_dir)
        figures[str(language)] = {
            "translated": _figures(scorer, gallery, foreign, owner),
            "english": _figures(scorer, gallery, english, owner),
        }
    return figures
