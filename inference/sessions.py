"""onnxruntime sessions and model-file errors, shared by the engine's models and the face
nets (a module of its own, so that neither imports the other)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnxruntime as ort

EXPORT_COMMAND = "python -m export --run runs/default --out {models}"
REBUILD_HINT = "rebuild with: " + EXPORT_COMMAND
RETRAIN_HINT = "retrain and rebuild with: python -m train --out runs/default && " + EXPORT_COMMAND


class ModelFilesError(RuntimeError):
    """Missing or corrupt model files; the message names the file and the fix."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_session(path: Path, threads: int | None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise ModelFilesError(
            f"{path}: cannot load ({str(error).splitlines()[0]}); " + REBUILD_HINT.format(models=path.parent)
        ) from None
