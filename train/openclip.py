"""Pretrained vision-language backbones from open_clip (`--image-encoder openclip:MODEL`).

MODEL is an open_clip model name (`ViT-B-32`, `RN50`, `MobileCLIP2-S2`, ...) or the path of an
open_clip model config `.json`; the weights are an open_clip pretrained tag (downloaded through
open_clip's own loader and cache), a local weights file, or "random" (tests). The image side
and the text side come from the same model:

image: ImageNet-normalised pixels [N, 3, S, S] -> (unit embedding [N, E], no logits [N, 0])
text:  CLIP BPE ids and mask [N, 77] -> unit embedding [N, E]

Serving reads the same BPE through the `tokenizers` library (write_clip_tokenizer), so it
needs neither torch nor open_clip.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import socket
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from open_clip.transformer import text_global_pool
from torch import nn

from inference.errors import UserError
from inference.models.config import OPENCLIP_PREFIX, is_openclip
from inference.models.preprocess import IMAGENET_MEAN, IMAGENET_STD
from inference.models.text import FTFY_HTML, TOKENIZER_CONFIG

#: Models whose text side reads CLIP's BPE (open_clip's SimpleTokenizer); others (SigLIP's
#: and multilingual towers' Hugging Face tokenizers) would need their own tokenizer file.
CLIP_TOKENIZER = "SimpleTokenizer"
START, END = "<start_of_text>", "<end_of_text>"
#: open_clip's SimpleTokenizer pattern, as its regex module reads it (tokenizers' Oniguruma too).
CLIP_PATTERN = START + "|" + END + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
PROBE_SECONDS = 5.0


class BackboneError(UserError):
    """An open_clip backbone that cannot be built; the message is one line saying what to do."""


def model_name(name: str) -> str:
    """open_clip's name for `openclip:MODEL`; a config .json is registered with open_clip first."""
    import open_clip

    model = name.removeprefix(OPENCLIP_PREFIX)
    if model.endswith(".json"):
        path = Path(model)
        if not path.is_file():
            raise BackboneError(f"{name}: no such open_clip model config file")
        open_clip.add_model_config(path)
        return path.stem
    if model not in open_clip.list_models():
        raise BackboneError(f"{name}: not an open_clip model name (open_clip.list_models()) or config .json")
    return model


def model_config(name: str) -> dict:
    """The open_clip model config of `openclip:MODEL` (embed_dim, vision_cfg, text_cfg)."""
    import open_clip

    config = open_clip.get_model_config(model_name(name))
    if config is None:
        raise BackboneError(f"{name}: open_clip has no config for it")
    return dict(config)


def embed_dim(name: str) -> int:
    return int(model_config(name)["embed_dim"])


def image_size(name: str) -> int:
    size = model_config(name)["vision_cfg"].get("image_size", 224)
    return int(size if isinstance(size, int) else size[0])


def context_length(name: str) -> int:
    return int(model_config(name).get("text_cfg", {}).get("context_length", 77))


def causal_text(name: str) -> bool:
    """Whether the text side's attention is causal: then the tokens past the end of a text
    change nothing, and a query is read at its own length instead of all 77 positions."""
    return not model_config(name).get("text_cfg", {}).get("no_causal_mask", False)


@contextlib.contextmanager
def _quiet_loggers() -> Iterator[None]:
    """open_clip reports a missing tag on the root logger, huggingface_hub each retry: our
    own one-line error says it instead."""
    loggers = [logging.getLogger(), logging.getLogger("huggingface_hub")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _weights_host(model: str, weights: str) -> str | None:
    """host:port the tag's weights download from; None for a local file or an unknown tag."""
    import open_clip
    from huggingface_hub import constants

    config = open_clip.get_pretrained_cfg(model, weights) or {}
    if config.get("hf_hub"):
        url = urlparse(constants.ENDPOINT)
    elif config.get("url"):
        url = urlparse(config["url"])
    else:
        return None
    return f"{url.hostname}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _reachable(host_port: str) -> bool:
    host, port = host_port.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_SECONDS):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _hub_offline(offline: bool) -> Iterator[None]:
    """huggingface_hub reads its cache alone (no retries against an unreachable host)."""
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = offline or before
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = before


@lru_cache(maxsize=2)
def load_model(name: str, weights: str) -> nn.Module:
    """The open_clip model of `openclip:MODEL` with `weights` (a tag, a file, or "random"),
    frozen, in eval mode; BackboneError (one line) when it cannot be had."""
    import open_clip

    model = model_name(name)
    if weights == "imagenet":
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(model)) or "none listed"
        raise BackboneError(f"{name}: pass --image-weights: an open_clip pretrained tag ({tags}) or a file")
    if open_clip.get_tokenizer(model).__class__.__name__ != CLIP_TOKENIZER:
        raise BackboneError(f"{name}: its text side does not read CLIP's BPE; choose a CLIP-tokenizer model")
    pretrained = None if weights == "random" else weights
    host = _weights_host(model, weights) if pretrained and not Path(weights).is_file() else None
    offline = host is not None and not _reachable(host)
    try:
        with _quiet_loggers(), _hub_offline(offline):
            clip = open_clip.create_model(model, pretrained=pretrained)
    except Exception as error:  # open_clip raises RuntimeError, the hub its own errors
        where = f"{host} cannot be reached and they are not in the cache" if offline else str(error)
        raise BackboneError(
            f"{name}: weights {weights!r} could not be loaded ({where.splitlines()[0]}); "
            "pass a local weights file with --image-weights, or train the default encoders"
        ) from None
    from timm.utils import reparameterize_model

    # MobileCLIP's FastViT trains with parallel branches that fold into single convolutions
    # for inference (several times faster, same outputs); other models have none to fold
    return reparameterize_model(clip.eval(), inplace=True).requires_grad_(False)


class OpenClipImage(nn.Module):
    """The model's image side on our preprocessing: ImageNet-normalised pixels [N, 3, S, S]
    -> (unit embedding [N, E], logits [N, 0]: the bridge is the embedding itself)."""

    def __init__(self, clip: nn.Module) -> None:
        super().__init__()
        self.clip = clip
        config = getattr(clip.visual, "preprocess_cfg", {})
        mean = torch.tensor(config.get("mean", (0.48145466, 0.4578275, 0.40821073)))
        std = torch.tensor(config.get("std", (0.26862954, 0.26130258, 0.27577711)))
        # our pixels are (x - imagenet_mean) / imagenet_std; the model's are (x - mean) / std:
        # one affine map per channel, folded into the graph (exact, no second preprocessing)
        scale = torch.from_numpy(IMAGENET_STD) / std
        self.scale: torch.Tensor
        self.shift: torch.Tensor
        self.register_buffer("scale", scale.view(1, 3, 1, 1))
        self.register_buffer("shift", ((torch.from_numpy(IMAGENET_MEAN) - mean) / std).view(1, 3, 1, 1))

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.clip.encode_image(pixels * self.scale + self.shift, normalize=True)  # type: ignore[operator]
        return embedding, embedding[:, :0]


class OpenClipText(nn.Module):
    """The model's text side: ids and mask [N, L] -> unit embedding [N, E]. L is the context
    length (77) for a non-causal text side; a causal one reads any L up to it, with the
    embedding of the same ids padded to 77."""

    def __init__(self, clip: nn.Module) -> None:
        super().__init__()
        self.clip = clip
        # open_clip's CLIP adds all 77 positions and masks 77 x 77 (its custom-text towers slice
        # both to the input's length themselves)
        self.slice_positions = getattr(clip, "attn_mask", None) is not None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # the mask only zeroes the pad ids (already 0): the graph keeps every text encoder's inputs
        ids = input_ids * attention_mask
        clip: Any = self.clip
        if not self.slice_positions:
            return torch.as_tensor(clip.encode_text(ids, normalize=True))
        # CLIP.encode_text (open_clip 3.3) on the first L positions
        length = ids.shape[1]
        x = clip.token_embedding(ids) + clip.positional_embedding[:length]
        x = clip.ln_final(clip.transformer(x, attn_mask=clip.attn_mask[:length, :length]))
        x = text_global_pool(x, ids, clip.text_pool_type, eos_token_id=getattr(clip, "text_eos_id", None))
        projection = clip.text_projection
        x = projection(x) if isinstance(projection, nn.Linear) else x @ projection
        return nn.functional.normalize(x, dim=-1)


def write_clip_tokenizer(folder: Path, length: int = 77, pad_to_context: bool = False) -> Path:
    """Write open_clip's CLIP BPE (the vocabulary in its wheel) as a `tokenizers` file, with the
    cleaning, context length and padding TextTokenizer reads from tokenizer_config.json; returns
    `folder`. `pad_to_context`: every text padded to `length` (a non-causal text side)."""
    from open_clip.tokenizer import bytes_to_unicode, default_bpe
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    # the merges and vocabulary exactly as open_clip's SimpleTokenizer builds them
    lines = gzip.open(default_bpe()).read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    merges = [(first, second) for first, second in (line.split() for line in lines)]
    vocab = list(bytes_to_unicode().values())
    vocab += [v + "</w>" for v in vocab] + ["".join(pair) for pair in merges] + [START, END]
    ids = {token: i for i, token in enumerate(vocab)}
    bpe = models.BPE(
        vocab=ids, merges=merges, continuing_subword_prefix="", end_of_word_suffix="</w>", unk_token=END
    )
    tokenizer = Tokenizer(bpe)
    tokenizer.add_special_tokens([START, END])  # typed in a text, read as the token (as open_clip does)
    spaces = normalizers.Replace(Regex(r"\s+"), " ")
    tokenizer.normalizer = normalizers.Sequence([spaces, normalizers.Strip(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{START} $A {END}", special_tokens=[(START, ids[START]), (END, ids[END])]
    )
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    settings = {
        "context_length": length,
        "pad_to_context": pad_to_context,
        "text_cleaning": FTFY_HTML,
        "source": "open_clip SimpleTokenizer",
    }
    (folder / TOKENIZER_CONFIG).write_text(json.dumps(settings, indent=2))
    return folder


def tokenizer_folder(name: str, cache_dir: Path) -> Path:
    """A folder holding the CLIP tokenizer of `openclip:MODEL` (written once per context length)."""
    if not is_openclip(name):
        raise ValueError(f"{name!r} is not an open_clip backbone")
    length, fixed = context_length(name), not causal_text(name)
    folder = cache_dir / f"openclip-tokenizer-{length}{'-padded' if fixed else ''}"
    written = folder / TOKENIZER_CONFIG
    if not written.is_file() or json.loads(written.read_text()).get("context_length") != length:
        write_clip_tokenizer(folder, length, pad_to_context=fixed)
    return folder
