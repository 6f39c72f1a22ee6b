"""onnxruntime sessions and model-file errors, shared by the engine's models and the face
nets (a module of its own, so that neither imports the other)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import onnxruntime as ort

from inference.errors import UserError

EXPORT_COMMAND = "python -m export --run runs/default --out {models}"
REBUILD_HINT = "rebuild with: " + EXPORT_COMMAND
RETRAIN_HINT = "retrain and rebuild with: python -m train --out runs/default && " + EXPORT_COMMAND


class ModelFilesError(UserError):
    """Missing or corrupt model files; the message names the file and the fix."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_session(path: Path, threads: int | None) -> ort.InferenceSession:
    """A CPU session on `threads` threads; where None, on OMP_NUM_THREADS where that is set
    (the usual cap on a process's math threads, which PyTorch obeys and onnxruntime does
    not read), else one per core."""
    options = ort.SessionOptions()
    threads = threads or omp_threads()
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise ModelFilesError(
            f"{path}: cannot load ({str(error).splitlines()[0]}); " + REBUILD_HINT.format(models=path.parent)
        ) from None


def omp_threads() -> int | None:
    """OMP_NUM_THREADS as a positive count; None where it is unset or not one."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def default_threads() -> int:
    """Threads for work not given a count: OMP_NUM_THREADS where set, else one per core."""
    return omp_threads() or os.cpu_count() or 1
