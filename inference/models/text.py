"""Tokenisation for the text encoder, shared by training, export and serving.

Uses the Hugging Face `tokenizers` library on the model folder's
tokenizer.json, so serving needs neither torch nor transformers. A folder whose
tokenizer_config.json sets `context_length` (CLIP's text side: 77) truncates to it, and
with `pad_to_context` pads every text to it (a text side whose attention reads the padding);
`text_cleaning: "ftfy-html"` cleans each text as open_clip's tokenizer does before the BPE
(train/openclip.py writes such a folder).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from inference.models.sessions import ModelFilesError

#: all-MiniLM-L6-v2 was trained on 256 tokens; longer queries are truncated.
MAX_TOKENS = 256
TOKENIZER_CONFIG = "tokenizer_config.json"
FTFY_HTML = "ftfy-html"


def ftfy_html_clean(text: str) -> str:
    """open_clip's `basic_clean`: ftfy's fixes (mojibake, full-width letters, curly quotes),
    HTML entities unescaped twice, ends stripped (the tokenizer itself folds case and spaces)."""
    import ftfy  # only models with a CLIP text side read it

    return html.unescape(html.unescape(ftfy.fix_text(text))).strip()


def _settings(folder: Path) -> dict:
    path = folder / TOKENIZER_CONFIG
    return json.loads(path.read_text()) if path.is_file() else {}


class TextTokenizer:
    """Batch tokeniser: texts -> padded int64 ids and attention mask."""

    def __init__(self, model_dir: str | Path, max_tokens: int = MAX_TOKENS) -> None:
        path = Path(model_dir) / "tokenizer.json"
        if not path.is_file():
            raise ModelFilesError(f"{path}: tokenizer file not found")
        self._tokenizer = Tokenizer.from_file(str(path))
        settings = _settings(path.parent)
        self._clean = settings.get("text_cleaning") == FTFY_HTML
        legacy_length = settings.get("pad_to_length")  # models exported before context_length existed
        self.max_tokens = int(settings.get("context_length") or legacy_length or max_tokens)
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        if settings.get("pad_to_context") or legacy_length:  # id 0 to the whole context, as open_clip pads
            self._tokenizer.enable_padding(length=self.max_tokens, pad_id=0)
        else:
            self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id("[PAD]") or 0)

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Tokenise a batch: {"input_ids", "attention_mask"}, each int64 [N, L]."""
        texts = [ftfy_html_clean(t) for t in texts] if self._clean else list(texts)
        encodings = self._tokenizer.encode_batch(texts)
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
