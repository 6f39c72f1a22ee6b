"""Tiny open_clip models with random weights, built on the spot (real open_clip configs and
the real CLIP tokenizer; a few MB each): a ViT and a ModifiedResNet, as the backbones offered."""

from __future__ import annotations

import json
from pathlib import Path

TEXT = {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}
CONFIGS = {
    "TinyViT": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "TinyRN": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16},
}


def build_tiny_clip(folder: Path, kind: str) -> tuple[Path, Path]:
    """Write `kind`'s open_clip config (.json) and random weights (.pt) under `folder`;
    returns (config, weights)."""
    import open_clip
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / f"{kind}.json"
    config.write_text(json.dumps({"embed_dim": 32, "vision_cfg": CONFIGS[kind], "text_cfg": TEXT}))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    weights = folder / f"{kind}.pt"
    torch.save(open_clip.create_model(kind).state_dict(), weights)
    return config, weights


if __name__ == "__main__":
    import sys

    for name in CONFIGS:
        print(*build_tiny_clip(Path(sys.argv[1]), name))
