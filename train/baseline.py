"""The classic baseline: concatenate [image features, sentence embedding] and
regress the pair's target with a small MLP. Kept to show what the two towers buy."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def make_baseline(in_dim: int) -> nn.Module:
    return nn.Sequential(nn.Linear(in_dim, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 1))


def train_baseline(
    image_feats: np.ndarray, text_feats: np.ndarray, targets: np.ndarray, seed: int, epochs: int = 30
) -> nn.Module:
    """Fit on pairs: image_feats [P, F], text_feats [P, D], targets [P] in [0, 1]."""
    torch.manual_seed(seed)
    x = torch.from_numpy(np.concatenate([image_feats, text_feats], axis=1))
    y = torch.from_numpy(targets.astype(np.float32))
    model = make_baseline(x.shape[1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(256):
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[batch]).squeeze(-1), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def baseline_scores(model: nn.Module, image_feats: np.ndarray, text_feats: np.ndarray) -> np.ndarray:
    """Probabilities [Q, N] for every (text q, image n) combination."""
    n_images = len(image_feats)
    with torch.no_grad():
        rows = []
        for text in torch.from_numpy(text_feats):
            x = torch.cat([torch.from_numpy(image_feats), text.expand(n_images, -1)], dim=1)
            rows.append(torch.sigmoid(model(x).squeeze(-1)).numpy())
    return np.stack(rows)


def baseline_pair_scores(model: nn.Module, image_feats: np.ndarray, text_feats: np.ndarray):
    """Probabilities [P] for aligned pairs image_feats[i], text_feats[i]."""
    with torch.no_grad():
        x = torch.from_numpy(np.concatenate([image_feats, text_feats], axis=1))
        return torch.sigmoid(model(x).squeeze(-1)).numpy()
