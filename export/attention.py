"""nn.MultiheadAttention made traceable with dynamic shapes, for ONNX export.

Traced by torch.onnx (dynamo=False), nn.MultiheadAttention bakes the traced sequence length
into its reshapes (and its inference fast path is one fused op ONNX lacks), so open_clip's
text side exported from one batch of captions failed on a query of another length.
`traceable_attention` swaps each such module for one that computes the same attention
with every shape read from its input, and puts the originals back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F


class TraceableAttention(nn.Module):
    """The inference math of `attention` (no dropout, no added key/value biases): query [L, N, E]
    (or [N, L, E] when batch_first), key and value [S, N, E] -> (output like query, None)."""

    def __init__(self, attention: nn.MultiheadAttention) -> None:
        super().__init__()
        if attention.bias_k is not None or attention.add_zero_attn:
            raise ValueError("attention with added key/value biases is not supported for export")
        self.attention = attention

    def _projections(self, query, key, value) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mha = self.attention
        if mha._qkv_same_embed_dim:
            weights = mha.in_proj_weight.chunk(3)
        else:
            weights = (mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight)
        biases = mha.in_proj_bias.chunk(3) if mha.in_proj_bias is not None else (None, None, None)
        inputs = (query, key, value)
        q, k, v = (F.linear(x, w, b) for x, w, b in zip(inputs, weights, biases, strict=True))
        return q, k, v

    def forward(self, query, key, value, key_padding_mask=None, need_weights=False, attn_mask=None, **_):
        mha = self.attention
        if key_padding_mask is not None:
            raise ValueError("key_padding_mask is not supported for export")
        if not mha.batch_first:  # [L, N, E] -> [N, L, E]
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        # [N, L, E] -> [N, H, L, E / H]: the head split read from the input, never a traced size
        projected = self._projections(query, key, value)
        q, k, v = (x.unflatten(-1, (mha.num_heads, -1)).transpose(1, 2) for x in projected)
        if attn_mask is not None and attn_mask.dtype == torch.bool:  # True: not attended (nn's meaning)
            attn_mask = torch.zeros_like(attn_mask, dtype=q.dtype).masked_fill(attn_mask, float("-inf"))
        if attn_mask is not None and attn_mask.dim() == 3:  # [N * H, L, S] -> [N, H, L, S]
            attn_mask = attn_mask.unflatten(0, (-1, mha.num_heads))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)  # [N, H, L, E / H]
        out = mha.out_proj(out.transpose(1, 2).flatten(2))  # [N, L, E]
        return (out if mha.batch_first else out.transpose(0, 1)), None


@contextmanager
def traceable_attention(module: nn.Module) -> Iterator[nn.Module]:
    """`module` with every nn.MultiheadAttention inside it swapped for TraceableAttention."""
    swapped = []
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.MultiheadAttention):
                setattr(parent, name, TraceableAttention(child))
                swapped.append((parent, name, child))
    try:
        yield module
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
