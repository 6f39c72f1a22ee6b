"""Which caption-image pairs a run learns from and validates on (the content policy applied)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from train.prepare import Prepared
from train.run_features import Features
from train.towers import PositivePairs

EXTRA_POSITIVE_TARGET = 0.75  # other images' captions the annotators call a full match


def allowed_only(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows touching no restricted text or image (the content policy)."""
    return frame[~(frame["text_restricted"] | frame["image_restricted"])]


def positives_for(prep: Prepared, feats: Features, image_row: dict[str, int]) -> PositivePairs:
    """Own captions of train-split images plus strongly matching scored pairs."""
    own = allowed_only(prep.captions)
    own = own[own["split"] == "train"][["image", "query_text"]]
    scored = allowed_only(prep.pairs)
    scored = scored[(scored["split"] == "train") & (scored["target"] >= EXTRA_POSITIVE_TARGET)]
    both = pd.concat([own, scored[["image", "query_text"]]]).drop_duplicates()
    return PositivePairs(
        both["image"].map(image_row).to_numpy(),
        both["query_text"].map(feats.text_row).to_numpy(),
    )


def val_retrieval(prep: Prepared, feats: Features, image_row: dict[str, int]):
    """(val image rows [M], val caption text rows [Q], owner column [Q])."""
    val = allowed_only(prep.captions)
    val = val[val["split"] == "val"]
    images = sorted(set(val["image"]))
    column = {name: i for i, name in enumerate(images)}
    rows = np.array([image_row[name] for name in images])
    return rows, val["query_text"].map(feats.text_row).to_numpy(), val["image"].map(column).to_numpy()
