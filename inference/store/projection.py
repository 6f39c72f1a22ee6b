"""The model's projection: the principal axes of its image vectors, fitted once when the model
is trained and shipped with it (`projection.npz` in the model folder), so every process that
shares a vector store reads the same space (inference/store/milvus.py's approximate index).

A row is stored as (vector - mean) @ axes, a query as query @ axes: centring drops q . mean, the
same for every row, so the projected inner product ranks like the full one up to the discarded
components, and the candidates are re-ranked with the full vectors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.atomic import atomic_write

PROJECTION_FILE = "projection.npz"
PROJECTED_DIM = 192  # as the local approximate index (inference/store/ranking.py)


@dataclass(frozen=True)
class Projection:
    mean: np.ndarray  # [D]
    axes: np.ndarray  # [D, d]

    @classmethod
    def fit(cls, vectors: np.ndarray, dim: int = PROJECTED_DIM) -> Projection:
        """The top `dim` principal axes of image vectors [N, D] (float32)."""
        vectors = np.asarray(vectors, np.float32)
        mean = vectors.mean(axis=0)
        return cls(mean, principal_axes(vectors - mean, dim))

    def rows(self, vectors: np.ndarray) -> np.ndarray:
        """Stored form of image vectors [N, D] -> [N, d]."""
        return np.ascontiguousarray((vectors - self.mean) @ self.axes, dtype=np.float32)

    def query(self, vector: np.ndarray) -> np.ndarray:
        """A query vector [D] -> [d]."""
        return np.ascontiguousarray(vector @ self.axes, dtype=np.float32)

    def save(self, folder: Path) -> None:
        with atomic_write(folder / PROJECTION_FILE, durable=False) as handle:
            np.savez(handle, mean=self.mean, axes=self.axes)

    @classmethod
    def load(cls, folder: Path) -> Projection | None:
        """The model folder's projection, or None (a model exported before it existed)."""
        path = folder / PROJECTION_FILE
        if not path.is_file():
            return None
        with np.load(path) as saved:
            return cls(saved["mean"].astype(np.float32), saved["axes"].astype(np.float32))


def principal_axes(centred: np.ndarray, dim: int) -> np.ndarray:
    """Top `dim` principal axes of centred rows [S, D] as columns [D, min(dim, D)]."""
    covariance = (centred.T @ centred).astype(np.float64) / max(1, len(centred) - 1)
    _, axes = np.linalg.eigh(covariance)  # ascending eigenvalues
    return np.ascontiguousarray(axes[:, ::-1][:, :dim], dtype=np.float32)
