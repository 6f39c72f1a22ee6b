"""Reading and checking the training tables of the Flickr8k subset.

Every problem names its file (and row); rows that cannot be used are dropped
with a count and the reason, never silently.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from inference.data.dataset import DataError, check_images_exist, read_table

EXPERT_COLUMNS = ["e1", "e2", "e3"]


@dataclass(frozen=True)
class TrainSet:
    """The training tables.

    pairs: one row per scored (image, caption) pair: image, query_id,
        query_text, e1..e3 (1..4, NaN where only the crowd rated it),
        crowd_share (0..1, NaN where the crowd did not rate it), crowd_votes.
    captions: every known caption: query_id, query_text, image (its own image).
    """

    image_dir: Path
    images: list[str]
    pairs: pd.DataFrame
    captions: pd.DataFrame


def _drop_rows(frame: pd.DataFrame, bad: pd.Series, path: Path, why: str) -> pd.DataFrame:
    """Drop rows flagged `bad`, saying how many, which and why on stderr."""
    count = int(bad.sum())
    if count:
        rows = (bad.to_numpy().nonzero()[0][:5] + 1).tolist()
        print(f"warning: {path}: dropped {count} row(s) ({why}); first rows {rows}", file=sys.stderr)
    return frame[~bad]


def _numeric(frame: pd.DataFrame, columns: list[str], low: float, high: float, path: Path):
    """Columns converted to numbers; rows outside [low, high] or unparsable dropped."""
    values = frame[columns].apply(pd.to_numeric, errors="coerce")
    bad = values.isna().any(axis=1) | (values < low).any(axis=1) | (values > high).any(axis=1)
    frame = frame.assign(**{c: values[c] for c in columns})
    return _drop_rows(frame, bad, path, f"{', '.join(columns)} not numbers in [{low}, {high}]")


def _caption_owner(query_ids: pd.Series) -> pd.Series:
    """The image a caption was written for: the part of query_id before '#'."""
    return query_ids.str.split("#").str[0]


def load_captions(data_dir: Path) -> pd.DataFrame:
    """All known captions (query_id, query_text, image): train_captions.tsv where
    present, plus the captions of train_dataset.csv."""
    dataset_csv = data_dir / "train_dataset.csv"
    frame = read_table(dataset_csv, ["query_id", "query_text"])
    extra = data_dir / "train_captions.tsv"
    if extra.is_file():
        frame = pd.concat([frame, read_table(extra, ["query_id", "query_text"], sep="\t")])
    frame = frame.drop_duplicates("query_id").reset_index(drop=True)
    malformed = ~frame["query_id"].str.contains("#") | (frame["query_text"].str.strip() == "")
    frame = _drop_rows(frame, malformed, dataset_csv, "query_id without '#' or empty caption")
    return frame.assign(image=_caption_owner(frame["query_id"])).reset_index(drop=True)


def load_other_captions(data_dir: Path) -> list[str]:
    """The captions of Flickr8k images that are in neither split (other_captions.tsv, optional:
    [] where absent). Text only; read by the content policy's semantic net (train/query_net.py)."""
    path = data_dir / "other_captions.tsv"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    # split at the first tab: a caption may hold one of its own
    texts = [line.split("\t", 1)[1].strip() for line in lines if "\t" in line]
    return [text for text in texts if text]


def load_train_set(data_dir: Path) -> TrainSet:
    """Read, join and check train_dataset.csv, the expert and crowd annotations."""
    image_dir = data_dir / "train_images"
    expert_tsv = data_dir / "ExpertAnnotations.tsv"
    crowd_tsv = data_dir / "CrowdAnnotations.tsv"
    experts = read_table(expert_tsv, ["image", "query_id", *EXPERT_COLUMNS], sep="\t", header=False)
    experts = _numeric(experts, EXPERT_COLUMNS, 1, 4, expert_tsv)
    crowd = read_table(
        crowd_tsv, ["image", "query_id", "crowd_share", "n_yes", "n_no"], sep="\t", header=False
    )
    crowd = _numeric(crowd, ["crowd_share", "n_yes", "n_no"], 0, 1e9, crowd_tsv)
    crowd = crowd.assign(crowd_votes=crowd["n_yes"] + crowd["n_no"])
    crowd = crowd[["image", "query_id", "crowd_share", "crowd_votes"]]
    captions = load_captions(data_dir)
    pairs = experts.merge(crowd, on=["image", "query_id"], how="outer")
    pairs = pairs.merge(captions[["query_id", "query_text"]], on="query_id", how="left")
    pairs = _drop_rows(pairs, pairs["query_text"].isna(), crowd_tsv, "caption text unknown for query_id")
    images = sorted(set(pairs["image"]) | set(captions["image"]))
    frame = pd.DataFrame({"image": images})
    check_images_exist(frame, "image", image_dir, expert_tsv)
    captions = captions[captions["image"].isin(images)].reset_index(drop=True)
    return TrainSet(image_dir, images, pairs.reset_index(drop=True), captions)


__all__ = ["DataError", "TrainSet", "load_captions", "load_other_captions", "load_train_set"]
