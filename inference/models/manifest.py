"""manifest.json, what export hands to serving: the model files and their checksums, the
preprocessing the image and text sides expect, the child-image detector, the architecture and
what training fitted of the score. Typed here and written by export alone; its format version
is checked, and formats 1 and 2 (one untyped `model_config` record) are read as they are.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from inference.atomic import atomic_write
from inference.models.config import FittedScore, ModelConfig
from inference.models.preprocess import Preprocessing
from inference.models.sessions import REBUILD_HINT, ModelFilesError, file_sha256
from inference.policy.query_net import QueryNet
from inference.review.detector import DetectorParams

MANIFEST = "manifest.json"
#: 2: the child threshold lives in the detector alone (format 1 also kept two copies of it);
#: 3: the architecture (`model`) and what training fitted (`fitted`) typed, apart.
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


@dataclass(frozen=True)
class Manifest:
    """One exported model folder's description."""

    backbone: dict[str, str]
    model: ModelConfig  # the architecture the graphs were built with
    fitted: FittedScore  # the fusion weights, hub penalty and calibration they carry
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
        return self.fitted.calibration.no_match_below

    @property
    def multilingual(self) -> bool:
        """Whether a second text encoder reads every language (earlier models read English only)."""
        return bool(self.model.multilingual_model)

    @property
    def penalty_columns(self) -> int:
        """1 where an image vector's last column is its hub penalty (train/model.py ServedScore),
        0 for models exported before the column."""
        return 0 if self.fitted.fusion.penalty_scale is None else 1

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
        if "model_config" in data:  # formats 1 and 2: the architecture and fitted values in one record
            legacy = data.pop("model_config")
            data["model"], data["fitted"] = legacy, FittedScore.from_legacy(legacy).to_dict()
        return cls(
            **{
                **data,
                "model": ModelConfig.from_dict(data["model"]),
                "fitted": FittedScore.from_dict(data["fitted"]),
                "preprocessing": Preprocessing.from_dict(data["preprocessing"]),
            }
        )

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
