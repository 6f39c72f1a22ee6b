"""The policy's second net for queries: a linear classifier on the multilingual encoder's
query vector that says whether a text is about a child, in any language the encoder reads,
word lists or not. Fitted by training (train/query_net.py), carried in the manifest, read here."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class QueryNet:
    """P(child) = sigmoid(multilingual [512] . weights + bias); a query is refused from `threshold` on."""

    weights: tuple[float, ...]  # [512]
    bias: float
    threshold: float

    def probability(self, multilingual: np.ndarray) -> np.ndarray:
        """P(the text is about a child) [N] of multilingual encoder vectors [N, 512]."""
        logits = np.asarray(multilingual, np.float64) @ np.asarray(self.weights) + self.bias
        return 1.0 / (1.0 + np.exp(-logits))

    def refuses(self, multilingual: np.ndarray) -> np.ndarray:
        """[N] bool: the texts of vectors [N, 512] the net refuses."""
        return self.probability(multilingual) >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryNet:
        """A net as the manifest carries it; ValueError if it does not fit the multilingual encoder."""
        weights = tuple(float(w) for w in data["weights"])
        if len(weights) != 512:
            raise ValueError(f"query net of {len(weights)} weights, the multilingual encoder gives 512")
        return cls(weights, float(data["bias"]), float(data["threshold"]))
