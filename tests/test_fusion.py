"""The fusion of towers and label bridge is tuned on Flickr validation and, where
installed, on photos beyond Flickr (train/beyond_flickr.py)."""

from pathlib import Path

import numpy as np

from train.beyond_flickr import DEV_QUERIES, dev_set
from train.calibration import tune_fusion


def _scores(rng, queries: int, images: int, knows: bool) -> np.ndarray:
    """[Q, N] scores where query q's own image is column q: ranked first by a part
    that `knows`, at random by one that does not."""
    scores = rng.normal(size=(queries, images))
    if knows:
        scores[np.arange(queries), np.arange(queries)] += 4.0
    return scores


def test_photos_beyond_flickr_raise_the_bridge_weight_where_only_the_bridge_finds_them():
    rng = np.random.default_rng(0)
    owner = np.arange(40)
    # Flickr: the towers know, the bridge guesses; beyond Flickr: the other way round
    flickr = (_scores(rng, 40, 60, knows=True), _scores(rng, 40, 60, knows=False), owner)
    beyond = (_scores(rng, 40, 60, knows=False), _scores(rng, 40, 60, knows=True), owner)
    _, flickr_only, table = tune_fusion(*flickr)
    _, with_dev, dev_table = tune_fusion(*flickr, dev=beyond)
    assert all(row[2] is None for row in table)
    assert with_dev > flickr_only
    # the dev column is what moved it: bridge-heavy weights find more beyond Flickr
    assert dev_table[-1][2] > dev_table[0][2] and table[0][1] > table[-1][1]


def test_dev_set_finds_its_queries_among_wallpaper_copies(tmp_path: Path):
    stem = next(iter(DEV_QUERIES))
    photos = [tmp_path / "Unqueried-0a1b2c3d.jpg", tmp_path / f"{stem}-1234abcd.jpg"]
    dev = dev_set(photos)
    assert dev is not None
    assert dev.queries == [DEV_QUERIES[stem]] and dev.owner.tolist() == [1]
    assert dev.photos == photos  # the unqueried wallpaper stays, as a distractor


def test_no_dev_set_without_its_wallpapers(tmp_path: Path):
    assert dev_set([tmp_path / "holiday.jpg"]) is None
    assert dev_set([]) is None
