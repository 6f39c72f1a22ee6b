"""The training checkpoint (runs/NAME/model.pt): one typed record, written by
training and read by export, versioned so an old file gets a clear message.

Beside it, runs/NAME/tokenizer/ holds the text model's tokenizer files, so an
export reads the tokenizer from the run rather than from wherever the text model
happened to be installed on the training machine.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from inference.atomic import atomic_write
from inference.errors import UserError
from inference.models.config import FittedScore, ModelConfig
from inference.models.exported import MULTILINGUAL_TOKENIZER_DIR
from inference.review.detector import DetectorParams
from inference.store.projection import Projection
from train.use_encoder import write_tokenizer_json

#: 3: the content policy's semantic net on queries; 4: the architecture and the fitted values
#: in two records (version 3 kept both in "config", and is read as it is)
CHECKPOINT_VERSION = 4
READABLE_VERSIONS = (3, 4)
CHECKPOINT_FILE = "model.pt"
TOKENIZER_DIR = "tokenizer"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


class CheckpointError(UserError):
    """A checkpoint that cannot be used; the message says why and what to run."""


@dataclass(frozen=True)
class DetectorWeights:
    """The child-image detector's trained parts (inference/review/detector.py serves them)."""

    head_weight: np.ndarray  # [2, F]: child and person heads on pooled image features
    head_bias: np.ndarray  # [2]
    combiner: dict  # DetectorParams.to_dict(): weights, bias, threshold, inputs
    face_models_dir: str  # ONNX face and age nets, copied into the export


@dataclass(frozen=True)
class Checkpoint:
    config: ModelConfig  # the architecture
    fitted: FittedScore  # the fusion weights, hub penalty and calibration fitted on validation
    towers: dict[str, torch.Tensor]  # TwoTower state dict
    class_embeddings: np.ndarray  # [1000, text_dim]: the label bridge's class texts
    detector: DetectorWeights
    # [B, text_dim]: sentence embeddings of the hub penalty's caption bank (empty: no penalty)
    query_bank: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), np.float32))
    metrics: dict = field(default_factory=dict)  # test and validation figures, for reference
    query_net: dict | None = None  # QueryNet.to_dict(): the policy's semantic net (None: English only)
    # the principal axes of its image vectors (inference/store/projection.py; None: trained before)
    projection: Projection | None = None
    version: int = CHECKPOINT_VERSION


def save_checkpoint(run_dir: Path, checkpoint: Checkpoint, tokenizer_source: Path) -> Path:
    """Write run_dir/model.pt atomically (a crash never leaves a truncated file) and
    copy the tokenizer files from `tokenizer_source` into run_dir/tokenizer/."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = run_dir / TOKENIZER_DIR
    tokenizer.mkdir(exist_ok=True)
    for name in TOKENIZER_FILES:
        if (tokenizer_source / name).is_file():
            shutil.copy(tokenizer_source / name, tokenizer / name)
    if checkpoint.config.multilingual_model:
        write_tokenizer_json(run_dir / MULTILINGUAL_TOKENIZER_DIR / "tokenizer.json")
    payload = {
        "version": checkpoint.version,
        "config": checkpoint.config.to_dict(),
        "fitted": checkpoint.fitted.to_dict(),
        "towers": checkpoint.towers,
        "class_embeddings": checkpoint.class_embeddings,
        "detector": vars(checkpoint.detector),
        "query_bank": checkpoint.query_bank,
        "metrics": checkpoint.metrics,
        "query_net": checkpoint.query_net,
        "projection": None if checkpoint.projection is None else vars(checkpoint.projection),
    }
    path = run_dir / CHECKPOINT_FILE
    with atomic_write(path) as handle:
        torch.save(payload, handle)
    return path


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`; CheckpointError if it is of
    another version or not a checkpoint at all."""
    retrain = f"retrain: python -m train --out {path.parent}"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not found; {retrain}") from None
    except Exception as error:  # torch raises many kinds for a damaged file
        kind = error.__class__.__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({kind}); {retrain}") from None
    version = payload.get("version") if isinstance(payload, dict) else None
    if version not in READABLE_VERSIONS:
        readable = "/".join(map(str, READABLE_VERSIONS))
        raise CheckpointError(
            f"{path}: checkpoint version {version}, this code reads versions {readable}; {retrain}"
        )
    try:
        DetectorParams.from_dict(payload["detector"]["combiner"])
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}; {retrain}") from None
    return Checkpoint(
        config=ModelConfig.from_dict(payload["config"]),
        fitted=FittedScore.from_dict(payload["fitted"])
        if version >= 4
        else FittedScore.from_legacy(payload["config"]),
        towers=payload["towers"],
        class_embeddings=np.asarray(payload["class_embeddings"]),
        detector=DetectorWeights(**payload["detector"]),
        # checkpoints from before the hub penalty have none (and a config that turns it off)
        query_bank=np.asarray(payload.get("query_bank", np.zeros((0, 384), np.float32))),
        metrics=payload.get("metrics", {}),
        query_net=payload.get("query_net"),
        projection=Projection(**payload["projection"]) if payload.get("projection") else None,
        version=CHECKPOINT_VERSION,  # read into the current form: saved again, it is written as one
    )


def tokenizer_dir(checkpoint_path: Path, multilingual: bool = False) -> Path:
    """The run's copy of the tokenizer files (of the multilingual encoder with `multilingual`)."""
    return checkpoint_path.parent / (MULTILINGUAL_TOKENIZER_DIR if multilingual else TOKENIZER_DIR)
