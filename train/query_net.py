"""The content policy's semantic net (inference/policy/query_net.py), fitted: a logistic
regression on the multilingual encoder's sentence vectors that reads a text as about a
child or not, in the languages that encoder shares one space for.

Trained on the data set's English captions, labelled by the word readings, and on texts of
our own in the languages the encoder was trained on: translations of 100 training captions
(half of them about children, labelled by their English original's verdict;
train/policy_translations.tsv) and short search queries written for it, 40 about children
and 40 not in each language (train/policy_queries.tsv). Its threshold is chosen on languages
held out of its training: each language's texts are scored by a net fitted without that
language, and the threshold is the lowest at which those held-out scores refuse at most
`FALSE_REFUSAL_TARGET` of the harmless texts. Its recall per held-out language and the
captions it would refuse are reported (metrics.json `query_net`); the training data's own
caption filter stays with the word readings alone. Languages the encoder was not trained on
(Swedish, Czech, Ukrainian) are left to the word readings (inference/policy/verdict.py); their
translations are scored, for the report, by the net that never saw them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from inference.policy import QueryNet, is_restricted_text
from inference.policy.languages import LANGUAGES
from train.features import multilingual_text_features
from train.use_encoder import EMBED_DIM as MULTILINGUAL_DIM

TRANSLATIONS = Path(__file__).resolve().parent / "policy_translations.tsv"
QUERIES = Path(__file__).resolve().parent / "policy_queries.tsv"
#: Share of harmless texts, each scored by a net that never saw its language, that the threshold
#: may refuse. The written harmless queries are hard on purpose (kittens, puppies, dishes and
#: places whose names hold a child word): at 1% the net's held-out recall fell from 0.90 to
#: 0.76, at 2% the two nets together refuse 95% of held-out child texts (docs/policy-languages.md).
FALSE_REFUSAL_TARGET = 0.02
#: Inverse regularisation, compared on held-out languages (docs/policy-languages.md).
REGULARISATION_C = 3.0


@dataclass(frozen=True)
class QueryNetRun:
    net: QueryNet
    report: dict


@dataclass(frozen=True)
class _Texts:
    """Texts, their word-policy labels [N] and multilingual vectors [N, 512]."""

    texts: list[str]
    child: np.ndarray
    vectors: np.ndarray


def read_translations(path: Path = TRANSLATIONS) -> pd.DataFrame:
    """Columns query_id (a training caption's id), language, query_text."""
    return pd.read_csv(path, sep="\t", quoting=3, dtype=str, keep_default_na=False)


def _foreign_texts(originals: dict[str, str]) -> pd.DataFrame:
    """Our texts in other languages: columns language, text, child (bool), source ("translation" of
    a caption in `originals`, labelled by its verdict, or a written "query", labelled as written)."""
    translations = read_translations()
    translations = translations[translations["query_id"].isin(originals)]
    queries = pd.read_csv(QUERIES, sep="\t", quoting=3, dtype=str, keep_default_na=False)
    return pd.concat(
        [
            pd.DataFrame({
                "language": translations["language"],
                "text": translations["query_text"],
                "child": translations["query_id"].map(lambda q: is_restricted_text(originals[q])),
                "source": "translation",
            }),
            pd.DataFrame({
                "language": queries["language"],
                "text": queries["query"],
                "child": queries["kind"] == "child",
                "source": "query",
            }),
        ],
        ignore_index=True,
    )  # fmt: skip


def _embedded(texts: list[str], cache_dir: Path) -> _Texts:
    child = np.array([is_restricted_text(text) for text in texts], dtype=bool)
    vectors = multilingual_text_features(texts, cache_dir) if texts else np.zeros((0, MULTILINGUAL_DIM))
    return _Texts(texts, child, vectors)


def _fit(parts: list[_Texts]) -> LogisticRegression:
    model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=5000)
    return model.fit(np.concatenate([p.vectors for p in parts]), np.concatenate([p.child for p in parts]))


def _p(model: LogisticRegression, texts: _Texts) -> np.ndarray:
    return model.predict_proba(texts.vectors)[:, 1] if len(texts.texts) else np.zeros(0)


def _subset(texts: _Texts, mask: np.ndarray) -> _Texts:
    kept = [text for text, keep in zip(texts.texts, mask, strict=True) if keep]
    return _Texts(kept, texts.child[mask], texts.vectors[mask])


def fit_query_net(
    captions: list[str], other_captions: list[str], originals: dict[str, str], cache_dir: Path
) -> QueryNetRun:
    """The net from English `captions` and `other_captions` (labelled by the word readings) and
    our texts in other languages (translations of the captions in `originals`, query_id ->
    English caption, and written queries)."""
    frame = _foreign_texts(originals)
    vectors = _embedded(frame["text"].tolist(), cache_dir).vectors
    foreign = _Texts(frame["text"].tolist(), frame["child"].to_numpy(bool), vectors)
    languages, source = frame["language"].to_numpy(), frame["source"].to_numpy()
    served = np.array([LANGUAGES[code].encoder for code in languages])
    english = _embedded(sorted(set(captions)), cache_dir)
    others = _embedded(sorted(set(other_captions) - set(captions)), cache_dir)
    held_out = np.zeros(len(foreign.texts))
    for language in sorted(set(languages[served]) - {"en"}):
        mask = languages == language
        held_out[mask] = _p(_fit([english, others, _subset(foreign, served & ~mask)]), _subset(foreign, mask))
    model = _fit([english, others, _subset(foreign, served)])
    held_out[~served] = _p(model, _subset(foreign, ~served))  # never trained on: held out by design
    judged = served & (languages != "en")
    threshold = _threshold(held_out[judged & ~foreign.child])
    net = QueryNet(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), threshold)
    report = {
        "threshold": round(threshold, 4),
        "false_refusal_target": FALSE_REFUSAL_TARGET,
        "held_out_languages": _per_language(held_out, foreign.child, languages, source, served, threshold),
        "english_captions": _caption_counts(model, english, others, _subset(foreign, served), threshold),
    }
    print(f"query net: threshold {threshold:.3f}, held-out-language figures {report}", file=sys.stderr)
    return QueryNetRun(net, report)


def _threshold(harmless: np.ndarray) -> float:
    """The lowest threshold at which at most FALSE_REFUSAL_TARGET of `harmless` scores reach it."""
    allowed = int(np.floor(FALSE_REFUSAL_TARGET * len(harmless)))
    ordered = np.sort(harmless)[::-1]
    return float(np.nextafter(ordered[allowed], 1.0)) if allowed < len(ordered) else 0.5


def _per_language(held_out, child, languages, source, served, threshold) -> dict:
    """Per language: recall on its child texts and refusals of its harmless ones (held-out
    scores), translations and written queries apart; `served`: whether the net reads it."""
    figures: dict[str, dict[str, Any]] = {}
    for language in sorted(set(languages) - {"en"}):
        mask = languages == language
        figures[str(language)] = {"served": bool(served[mask][0])}
        for kind in ("translation", "query"):
            rows = mask & (source == kind)
            if rows.any():
                figures[str(language)][kind] = {
                    "child": int((rows & child).sum()),
                    "recall": round(float((held_out[rows & child] >= threshold).mean()), 3),
                    "harmless": int((rows & ~child).sum()),
                    "harmless_refused": int((held_out[rows & ~child] >= threshold).sum()),
                }
    return figures


def _caption_counts(
    model: LogisticRegression, english: _Texts, others: _Texts, foreign: _Texts, threshold: float
) -> dict:
    """How many English captions the net refuses: the training images' captions as fitted (in
    sample), and the other captions cross-fitted in two halves (each scored by a net that never
    saw it), split by the word readings' verdict."""
    halves = np.random.default_rng(0).random(len(others.texts)) < 0.5
    scores = np.zeros(len(others.texts))
    for half in (halves, ~halves):
        scores[half] = _p(_fit([english, _subset(others, ~half), foreign]), _subset(others, half))
    return {
        "training_captions": _refusals(_p(model, english), english.child, threshold),
        "other_captions_cross_fitted": _refusals(scores, others.child, threshold),
    }


def _refusals(scores: np.ndarray, child: np.ndarray, threshold: float) -> dict:
    refused = scores >= threshold
    return {
        "captions": int(len(scores)),
        "refused": int(refused.sum()),
        "words_refuse": int(child.sum()),
        "net_also_refuses": int((refused & child).sum()),
        "words_clear": int((~child).sum()),
        "net_refuses_of_those": int((refused & ~child).sum()),
    }
