"""Tokenisation for the text encoder, shared by training, export and serving.

Uses the Hugging Face `tokenizers` library on the model folder's
tokenizer.json, so serving needs neither torch nor transformers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

#: all-MiniLM-L6-v2 was trained on 256 tokens; longer queries are truncated.
MAX_TOKENS = 256


class TextTokenizer:
    """Batch tokeniser: texts -> padded int64 ids and attention mask."""

    def __init__(self, model_dir: str | Path, max_tokens: int = MAX_TOKENS) -> None:
        path = Path(model_dir) / "tokenizer.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: tokenizer file not found")
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id("[PAD]") or 0)
        self.max_tokens = max_tokens

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Tokenise a batch: {"input_ids", "attention_mask"}, each int64 [N, L]."""
        encodings = self._tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }


def text_feeds(
    tokenizer: TextTokenizer,
    multilingual: TextTokenizer | None,
    texts: list[str],
    english: list[bool],
) -> dict[str, np.ndarray]:
    """The text encoder's inputs for `texts`: the first tokenizer's ids and mask, and where
    the model has a multilingual encoder its ids and mask and `english` [N, 1] (1.0: read by
    both encoders; 0.0: a query in another language, read by the multilingual one alone)."""
    if multilingual is None:
        return tokenizer(texts)
    # the first encoder's output for a query in another language is multiplied by 0: it
    # reads an empty text instead (a Russian query is 40-odd of MiniLM's pieces, most of its cost)
    feeds = tokenizer([text if flag else "" for text, flag in zip(texts, english, strict=True)])
    other = multilingual(texts)
    return {
        **feeds,
        "multilingual_ids": other["input_ids"],
        "multilingual_mask": other["attention_mask"],
        "english": np.array(english, np.float32).reshape(-1, 1),
    }
