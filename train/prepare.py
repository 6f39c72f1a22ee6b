"""From raw tables to a leak-free, policy-filtered training set.

The split is by image (GroupShuffleSplit): no image is in both train and
validation. The content policy removes every restricted image and text from
training and validation alike.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from inference.policy import is_restricted_text, noun_lemmas, restricted_images, words
from train.data import TrainSet, load_train_set
from train.targets import MATCH_THRESHOLD, aggregate_targets


@dataclass(frozen=True)
class Prepared:
    """Train set with targets, policy flags and the split.

    pairs: TrainSet.pairs plus target, text_restricted, image_restricted, split.
    captions: TrainSet.captions plus text_restricted, image_restricted, split.
    child_images: image name -> bool (restricted by its known captions).
    counts: what the policy removed, for the report.
    """

    train_set: TrainSet
    pairs: pd.DataFrame
    captions: pd.DataFrame
    child_images: pd.Series
    counts: dict[str, int]


def child_image_labels(train_set: TrainSet, pairs: pd.DataFrame) -> pd.Series:
    """Per image: is any caption known for it restricted? Known captions are its
    own captions and others' captions the annotators say match it."""
    matching = pairs[pairs["target"] >= MATCH_THRESHOLD][["image", "query_text"]]
    known = pd.concat([train_set.captions[["image", "query_text"]], matching])
    captions = known.groupby("image")["query_text"].apply(list).to_dict()
    return pd.Series(restricted_images(train_set.images, captions), index=train_set.images)


#: Lemmas naming a person, for the detector's "is there a person" head (labels from
#: captions; an image none of whose captions names one shows dogs, scenery, things).
DEFAULT_VALIDATION_SHARE = 0.2  # of the images (and so their captions), split by image
DEFAULT_SEED = 0
PERSON_LEMMAS = frozenset(
    """man woman person people child kid baby boy girl toddler teenager teen adult guy lady gentleman
    player biker bicyclist cyclist rider skier snowboarder surfer climber skateboarder swimmer dancer
    crowd couple family worker athlete runner hiker tourist spectator audience team friend mother father
    mom dad he she someone performer musician singer officer soldier bride groom student youth""".split()
)


def mentions_person(text: str) -> bool:
    return any(not noun_lemmas(word).isdisjoint(PERSON_LEMMAS) for word in words(text))


def person_image_labels(train_set: TrainSet) -> pd.Series:
    """Per image: does any of its own captions name a person?"""
    return _own_captions_any(train_set, mentions_person)


def own_child_labels(train_set: TrainSet) -> pd.Series:
    """Per image: is any of its own captions restricted? The detector learns from these,
    the labels its test figures use (a test image's own captions). `child_image_labels`
    also counts others' captions that annotators matched to the image: right for keeping
    images out of training, but it also flags dogs in a pool matched to "a boy swims"."""
    return _own_captions_any(train_set, is_restricted_text)


def _own_captions_any(train_set: TrainSet, flag) -> pd.Series:
    captions = train_set.captions
    flags = captions["query_text"].map(flag)
    return flags.groupby(captions["image"]).any().reindex(train_set.images, fill_value=False)


def split_images(images: list[str], validation_share: float, seed: int) -> dict[str, str]:
    """image -> "train" or "val", grouped by image."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=validation_share, random_state=seed)
    index = np.arange(len(images))
    train_idx, val_idx = next(splitter.split(index, groups=images))
    split = {images[i]: "train" for i in train_idx}
    split.update({images[i]: "val" for i in val_idx})
    return split


def prepare(
    data_dir: Path, validation_share: float = DEFAULT_VALIDATION_SHARE, seed: int = DEFAULT_SEED
) -> Prepared:
    """Load, aggregate targets, apply the content policy and split by image."""
    train_set = load_train_set(data_dir)
    pairs = train_set.pairs.assign(target=aggregate_targets(train_set.pairs))
    child = child_image_labels(train_set, pairs)
    split = split_images(train_set.images, validation_share, seed)

    def flag(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(
            text_restricted=frame["query_text"].map(is_restricted_text),
            image_restricted=frame["image"].map(child).astype(bool),
            split=frame["image"].map(split),
        )

    pairs, captions = flag(pairs), flag(train_set.captions)
    touching = pairs["text_restricted"] | pairs["image_restricted"]
    counts = {
        "images": len(train_set.images),
        "restricted_images": int(child.sum()),
        "pairs": len(pairs),
        "pairs_dropped_by_policy": int(touching.sum()),
        "captions": len(captions),
        "captions_dropped_by_policy": int((captions["text_restricted"] | captions["image_restricted"]).sum()),
    }
    print(
        f"content policy: {counts['restricted_images']} of {counts['images']} images restricted; "
        f"dropped {counts['pairs_dropped_by_policy']} of {counts['pairs']} scored pairs and "
        f"{counts['captions_dropped_by_policy']} of {counts['captions']} captions",
        file=sys.stderr,
    )
    return Prepared(train_set, pairs, captions, child, counts)


def subset(prep: Prepared, count: int, seed: int) -> Prepared:
    """The same set restricted to `count` random images (for quick runs and tests)."""
    rng = np.random.default_rng(seed)
    keep = sorted(rng.choice(prep.train_set.images, size=count, replace=False).tolist())
    kept = set(keep)
    train_set = TrainSet(
        prep.train_set.image_dir,
        keep,
        prep.train_set.pairs[prep.train_set.pairs["image"].isin(kept)],
        prep.train_set.captions[prep.train_set.captions["image"].isin(kept)],
    )
    return Prepared(
        train_set,
        prep.pairs[prep.pairs["image"].isin(kept)],
        prep.captions[prep.captions["image"].isin(kept)],
        prep.child_images[keep],
        prep.counts,
    )
