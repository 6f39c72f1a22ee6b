"""What `python -m train` is asked to do: the run's settings (its command line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inference.models.config import DEFAULT_IMAGE_ENCODER
from train.encoders import DEFAULT_TEXT_MODEL
from train.features import DEFAULT_CACHE_DIR
from train.prepare import DEFAULT_SEED, DEFAULT_VALIDATION_SHARE
from train.towers import TowerTrainingConfig
from train.use_encoder import MULTILINGUAL_TEXT_MODEL


@dataclass(frozen=True)
class RunConfig:
    """One training run's settings; ModelConfig (train/model.py) is what it produces."""

    data_dir: Path
    out_dir: Path
    image_encoder: str = DEFAULT_IMAGE_ENCODER
    image_weights: str = "imagenet"
    text_model: str = DEFAULT_TEXT_MODEL
    multilingual_model: str = MULTILINGUAL_TEXT_MODEL  # "" : English only
    seed: int = DEFAULT_SEED
    validation_share: float = DEFAULT_VALIDATION_SHARE
    views: tuple[str, ...] = ("center", "flip", "full")
    towers: TowerTrainingConfig = field(default_factory=TowerTrainingConfig)
    detector_recall: float = 0.97
    max_train_images: int | None = None  # a slice, for quick tests
    members: int | None = None  # tower ensemble size; ModelConfig's default if None
    cache_dir: Path = DEFAULT_CACHE_DIR
