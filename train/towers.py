"""Contrastive training of the two towers (symmetric InfoNCE, in-batch negatives)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from inference.data.metrics import retrieval_metrics, target_ranks
from inference.models.config import ModelConfig
from train.model import TwoTower, as_foreign, stack_members


@dataclass(frozen=True)
class TowerTrainingConfig:
    # Chosen on validation mean recall (lr 2e-4..2e-3, dropout 0.2..0.5,
    # weight decay 0.05..0.5): the towers overfit within a few epochs otherwise.
    epochs: int = 60
    batch_size: int = 128
    learning_rate: float = 5e-4
    weight_decay: float = 0.05
    dropout: float = 0.5
    patience: int = 10
    # share of pairs whose caption the tower sees as a query in another language would give it
    # (the multilingual encoder alone, train/model.py as_foreign), so it learns that path from
    # English captions; used when the config has a multilingual encoder. Chosen on validation:
    # 0.75 gave fusion objective 65.05 and Russian R@1 32, 0.5 gave 64.78 and 32 (docs/log.md)
    foreign_share: float = 0.75


@dataclass
class PositivePairs:
    """Training positives: image row `image_index[i]` matches text row `text_index[i]`."""

    image_index: np.ndarray  # [P] rows of the pooled-feature array
    text_index: np.ndarray  # [P] rows of the sentence-embedding array


def _infonce(model: TwoTower, images: torch.Tensor, texts: torch.Tensor, same: torch.Tensor):
    """Symmetric InfoNCE; `same` [B, B] marks pairs sharing an image (all positives)."""
    logits = model.embed_images(images) @ model.embed_texts(texts).T  # [B, B]
    logits = logits * model.log_inv_temperature.exp().clamp(max=100)
    target = same / same.sum(dim=1, keepdim=True)
    loss_i = torch.sum(-target * torch.log_softmax(logits, dim=1), dim=1).mean()
    loss_t = torch.sum(-target.T * torch.log_softmax(logits.T, dim=1), dim=1).mean()
    return (loss_i + loss_t) / 2


def validation_recall(
    model: TwoTower, pooled: np.ndarray, texts: np.ndarray, owner: np.ndarray
) -> dict[str, float]:
    """Text->image retrieval metrics: texts [Q, D], pooled [N, F], owner [Q] in 0..N-1."""
    model.eval()
    with torch.no_grad():
        scores = model.embed_texts(torch.from_numpy(texts)) @ model.embed_images(torch.from_numpy(pooled)).T
    return retrieval_metrics(target_ranks(scores.numpy(), owner))


def train_ensemble(
    config: ModelConfig,
    train_pooled: np.ndarray,
    sentences: np.ndarray,
    positives: PositivePairs,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray],
    settings: TowerTrainingConfig,
    seed: int,
) -> tuple[TwoTower, list[dict[str, float]]]:
    """`config.members` towers from seeds seed, seed+1, ...; stacked into one.

    Returns the stacked model and the first member's history (for the plots).
    """
    members, histories = [], []
    for member in range(config.members):
        model, history = train_towers(
            config, train_pooled, sentences, positives, validation, settings, seed + member
        )
        members.append(model)
        histories.append(history)
    return stack_members(config, members), histories[0]


def train_towers(
    config: ModelConfig,
    train_pooled: np.ndarray,
    sentences: np.ndarray,
    positives: PositivePairs,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray],
    settings: TowerTrainingConfig,
    seed: int,
) -> tuple[TwoTower, list[dict[str, float]]]:
    """Train on positives; keep the epoch with the best validation mean recall.

    train_pooled: [V, N, F] features of each augmentation view V; a random view
    is drawn per pair per epoch. validation: (pooled [M, F], texts [Q, D], owner [Q]).
    Returns the model and one history row per epoch (loss, validation recall).
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = TwoTower(config, members=1, dropout=settings.dropout)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings.epochs)
    views = torch.from_numpy(train_pooled)
    sentence_tensor = torch.from_numpy(sentences)
    image_index = torch.as_tensor(positives.image_index.copy())
    text_index = torch.as_tensor(positives.text_index.copy())
    history: list[dict[str, float]] = []
    best_score, best_state, stale = -1.0, None, 0
    for epoch in tqdm(range(settings.epochs), desc="train towers"):
        model.train()
        order = torch.randperm(len(image_index), generator=generator)
        view = torch.randint(len(views), (len(image_index),), generator=generator)
        losses = []
        for start in range(0, len(order), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            images = views[view[batch], image_index[batch]]
            same = (image_index[batch][:, None] == image_index[batch][None, :]).float()
            texts = sentence_tensor[text_index[batch]]
            if config.english_text_dim:
                foreign = torch.rand(len(batch), generator=generator) < settings.foreign_share
                texts = torch.where(foreign[:, None], as_foreign(texts, config.english_text_dim), texts)
            loss = _infonce(model, images, texts, same)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        schedule.step()
        metrics = validation_recall(model, *validation)
        score = (metrics["recall@1"] + metrics["recall@5"] + metrics["recall@10"]) / 3
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), **metrics})
        if score > best_score:
            best_score, stale = score, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= settings.patience:
                break
    assert best_state is not None
    model.load_state_dict(best_state)
    return model.eval(), history
