"""What a model is, in two typed records that training writes into its checkpoint and export
into manifest.json: `ModelConfig`, the architecture (which encoders, how wide, how many tower
pairs), fixed before training; and `FittedScore`, what training fits of the score on
validation (the fusion weights, the hub penalty, the calibration). Plain data, no torch: the
served side reads both as they are (inference/models/manifest.py), and train/model.py builds
the torch modules from them.

The score they define (train/model.py `ServedScore`, the one implementation):

    fused(image, text) = tower_weight * cos(P_i f_img, P_t f_txt)
                       + bridge_weight * cos(bridge(image), f_txt)
                       - hub penalty of the image
    probability        = sigmoid(calibration.scale * fused + calibration.bias)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: An open_clip backbone is named `openclip:MODEL` (train/openclip.py builds it).
OPENCLIP_PREFIX = "openclip:"
#: The image backbone training uses unless told otherwise (train/encoders.py lists the others).
DEFAULT_IMAGE_ENCODER = "efficientnet_lite0+open_nsfw"


def is_openclip(name: str) -> bool:
    """Whether an encoder name is an open_clip backbone (its own text side, its embedding the bridge)."""
    return name.startswith(OPENCLIP_PREFIX)


@dataclass(frozen=True)
class ImageEncoderSpec:
    """Which image backbone, with which weights, at which input size (its feature width:
    train/encoders.py `feature_dim`)."""

    name: str = DEFAULT_IMAGE_ENCODER
    weights: str = "imagenet"  # of the first backbone: "imagenet", "random" (tests) or a .pth state dict
    input_size: int = 224


@dataclass(frozen=True)
class ModelConfig:
    """The architecture: everything needed to rebuild the model's modules before their weights
    are loaded. Fixed before training; what training fits is `FittedScore`."""

    image: ImageEncoderSpec = field(default_factory=ImageEncoderSpec)
    text_model: str = "all-MiniLM-L6-v2"  # a name (train/encoders.text_model_dir) or a model folder
    text_dim: int = 384
    # a second sentence encoder beside it that reads every language ("" for none): a query in another
    # language is read by it alone (train/model.py mixed_sentences); text_dim then counts both
    multilingual_model: str = ""
    english_text_dim: int = 0  # the leading sentence dims only an English query has (the first encoder's)
    embed_dim: int = 256
    members: int = 5  # independently trained tower pairs, averaged (an ensemble)
    bridge_temperature: float = 1.0

    @property
    def native_bridge(self) -> bool:
        """An open_clip backbone: the image embedding is the bridge, no ImageNet labels between."""
        return is_openclip(self.image.name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """From `to_dict`'s output; the fitted values earlier checkpoints and manifests kept in
        the same record are left to `FittedScore.from_legacy`."""
        names = {f.name for f in fields(cls)}
        kept = {k: v for k, v in data.items() if k in names}
        return cls(**{**kept, "image": ImageEncoderSpec(**data["image"])})


@dataclass(frozen=True)
class Fusion:
    """How the score's parts are weighed, tuned on validation retrieval (train/calibration.py
    tune_fusion): the towers' and the label bridge's cosines, and the hub penalty."""

    tower_weight: float = 1.0
    bridge_weight: float = 0.0
    # query-bank normalisation against hubs (train/model.py hub_penalty): strength 0 turns it off
    bank_strength: float = 0.0
    bank_temperature: float = 0.25
    # an image vector's last column is its penalty divided by this, scaled like the other columns
    # so int8 codes keep it as precisely (None: exported before the column existed)
    penalty_scale: float | None = 1.0


@dataclass(frozen=True)
class Calibration:
    """The fused score -> probability (Platt scaling on validation pairs), and the best
    probability under which no image matches well (0: never said)."""

    scale: float = 1.0
    bias: float = 0.0
    no_match_below: float = 0.0


@dataclass(frozen=True)
class FittedScore:
    """What training fits of the score, carried by the checkpoint and the manifest."""

    fusion: Fusion = field(default_factory=Fusion)
    calibration: Calibration = field(default_factory=Calibration)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FittedScore:
        return cls(Fusion(**data["fusion"]), Calibration(**data["calibration"]))

    @classmethod
    def from_legacy(cls, config: dict[str, Any]) -> FittedScore:
        """From the one flat record earlier checkpoints and manifests (format 1 and 2) kept of
        the architecture and the fitted values alike; a manifest without `penalty_scale` was
        exported before the penalty column."""
        return cls(
            Fusion(
                tower_weight=config.get("tower_weight", 1.0),
                bridge_weight=config.get("bridge_weight", 0.0),
                bank_strength=config.get("bank_strength", 0.0),
                bank_temperature=config.get("bank_temperature", 0.25),
                penalty_scale=config.get("penalty_scale"),
            ),
            Calibration(
                scale=config.get("calib_scale", 1.0),
                bias=config.get("calib_bias", 0.0),
                no_match_below=config.get("no_match_below", 0.0),
            ),
        )
