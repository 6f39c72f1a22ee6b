"""manifest.json, what export hands to serving: the model files and their checksums, the
preprocessing the image and text sides expect, the child-image detector and the model's
serving settings. Typed here and written by export alone; its format version is checked.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from inference.atomic import atomic_write
from inference.review.detector import DetectorParams
from inference.policy.query_net import QueryNet
from inference.models.sessions import REBUILD_HINT, ModelFilesError, file_sha256

MANIFEST = "manifest.json"
#: 2: the child threshold lives in the detector alone (format 1 also kept two copies of it).
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


@dataclass(frozen=True)
class Preprocessing:
    """What the exported image and text sides expect (inference/preprocess.py, inference/text.py)."""

    input_size: int  # the square crop's side, pixels
    max_tokens: int  # the text side's context length
    views: tuple[str, ...] = ("center",)  # the image views averaged (exports before views: the centre)
    resize_shorter_side: int = 0
    interpolation: str = "bicubic"
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        lists: dict[str, tuple] = {k: tuple(data[k]) for k in ("views", "mean", "std") if k in data}
        return cls(**{**data, **lists})


@dataclass(frozen=True)
class Manifest:
    """One exported model folder's description. `model_config` is the training config
    (train.model.ModelConfig.to_dict()); serving reads it through the properties below."""

    backbone: dict[str, str]
    model_config: dict[str, Any]
    vector_dim: int  # an image's (and a query's) vector width
    detector: dict[str, Any]  # DetectorParams.to_dict(); parsed by detector_params()
    preprocessing: Preprocessing
    checks_vs_pytorch: dict[str, float]
    versions: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)  # path in the folder -> sha256
    created: str = ""
    source_checkpoint: str = ""
    source_checkpoint_sha256: str = ""
    int8: dict[str, Any] | None = None  # the int8 text encoder's measured figures, where exported
    query_net: dict[str, Any] | None = None  # QueryNet.to_dict(): the policy's semantic net, where trained
    format_version: int = FORMAT_VERSION

    @property
    def no_match_below(self) -> float:
        """The best probability under which no image matches well (0, never said, for models
        exported before the level was measured)."""
        return float(self.model_config.get("no_match_below", 0.0))

    @property
    def multilingual(self) -> bool:
        """Whether a second text encoder reads every language (earlier models read English only)."""
        return bool(self.model_config.get("multilingual_model"))

    @property
    def penalty_columns(self) -> int:
        """1 where an image vector's last column is its hub penalty (export/modules.py), else 0."""
        return 1 if "penalty_scale" in self.model_config else 0

    def detector_params(self) -> DetectorParams:
        """The detector; ValueError when it was fitted for inputs or faces this code does not make."""
        return DetectorParams.from_dict(self.detector)

    def query_net_params(self) -> QueryNet | None:
        """The content policy's semantic net on queries (None: exported before it existed)."""
        return None if self.query_net is None else QueryNet.from_dict(self.query_net)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for optional in ("int8", "query_net"):
            if data[optional] is None:
                del data[optional]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """A manifest of a readable format version; KeyError or TypeError if malformed."""
        data = {k: v for k, v in data.items() if k != "child_threshold"}  # format 1's extra copy
        return cls(**{**data, "preprocessing": Preprocessing.from_dict(data["preprocessing"])})

    def with_files(self, folder: Path, checkpoint: Path, created: str) -> Manifest:
        """This manifest listing every file now in `folder`, made from `checkpoint`."""
        files = {str(p.relative_to(folder)): file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
        return replace(
            self,
            files=files,
            created=created,
            source_checkpoint=str(checkpoint),
            source_checkpoint_sha256=file_sha256(checkpoint),
            format_version=FORMAT_VERSION,
        )

    def write(self, folder: Path) -> None:
        with atomic_write(folder / MANIFEST, durable=False) as handle:
            handle.write(json.dumps(self.to_dict(), indent=2).encode())


def read_manifest(models_dir: Path) -> Manifest:
    """The manifest, after checking every file it lists exists; ModelFilesError (one line
    naming the file and the fix) otherwise."""
    hint = REBUILD_HINT.format(models=models_dir)
    path = models_dir / MANIFEST
    try:
        data = json.loads(path.read_text())
        version = data.get("format_version")
        if version not in READABLE_VERSIONS:
            raise ModelFilesError(
                f"{path}: format version {version}, this code reads {'/'.join(map(str, READABLE_VERSIONS))}"
                f" (exported by another version of it); {hint}"
            )
        manifest = Manifest.from_dict(data)
    except FileNotFoundError:
        raise ModelFilesError(f"{path}: not found; {hint}") from None
    except (json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError) as error:
        raise ModelFilesError(f"{path}: corrupt ({error}); {hint}") from None
    for name in manifest.files:
        if not (models_dir / name).is_file():
            raise ModelFilesError(f"{models_dir / name}: missing; {hint}")
    return manifest


def verify_checksums(models_dir: Path, manifest: Manifest) -> None:
    """Raise ModelFilesError naming the first file whose checksum differs."""
    for name, expected in manifest.files.items():
        if file_sha256(models_dir / name) != expected:
            raise ModelFilesError(
                f"{models_dir / name}: checksum mismatch (corrupt or changed); "
                + REBUILD_HINT.format(models=models_dir)
            )
