"""The fusion of towers and label bridge is tuned on Flickr validation and, where
installed, on photos beyond Flickr (train/beyond_flickr.py)."""

from pathlib import Path

import numpy as np
from PIL import Image

from train.beyond_flickr import DEV_QUERIES, dev_set, wallpaper_stem
from train.calibration import FusionSet, tune_fusion
from train.people_free import wallpapers


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
    flickr = FusionSet(_scores(rng, 40, 60, knows=True), _scores(rng, 40, 60, knows=False), owner)
    beyond = FusionSet(_scores(rng, 40, 60, knows=False), _scores(rng, 40, 60, knows=True), owner)
    flickr_only, flickr_table = tune_fusion(flickr)
    with_dev, table = tune_fusion(flickr, dev=beyond)
    assert all(row[4] is None for row in flickr_table)
    assert with_dev.bridge_weight > flickr_only.bridge_weight
    # the dev column is what moved it: bridge-heavy weights find more beyond Flickr
    assert table[-1][4] > table[0][4] and table[0][3] > table[-1][3]
    assert flickr_only.bank_strength == 0.0  # no caption bank given: no hub penalty tried


def test_hub_penalty_demotes_an_image_that_matches_every_caption():
    """Image 0 is a hub: it scores high for every query and bank caption, and beats
    each query's own image; the penalty (tuned on the same kind of data) puts the
    own images first again."""
    rng = np.random.default_rng(1)
    queries, images, bank = 30, 40, 200
    owner = np.arange(1, queries + 1)

    def with_hub(rows: int, own: np.ndarray | None) -> np.ndarray:
        scores = rng.normal(size=(rows, images))
        if own is not None:
            scores[np.arange(rows), own] += 3.0
        scores[:, 0] += 4.0  # the hub
        return scores

    tower = with_hub(queries, owner)
    bridge = rng.normal(size=(queries, images))
    bank_tower, bank_bridge = with_hub(bank, None), rng.normal(size=(bank, images))
    _, plain = tune_fusion(FusionSet(tower, bridge, owner))
    fusion, table = tune_fusion(FusionSet(tower, bridge, owner, bank_tower, bank_bridge))
    assert fusion.bank_strength > 0
    assert max(row[3] for row in table) > max(row[3] for row in plain) + 10


def test_dev_set_finds_its_queries_among_wallpaper_copies(tmp_path: Path):
    stem = next(iter(DEV_QUERIES))
    photos = [tmp_path / "Unqueried-0a1b2c3d.jpg", tmp_path / f"{stem}-1234abcd.jpg"]
    dev = dev_set(photos)
    assert dev is not None
    assert dev.queries == [DEV_QUERIES[stem]] and dev.owner.tolist() == [1]
    assert dev.photos == photos  # the unqueried wallpaper stays, as a distractor
    assert stem not in dev.missing and len(dev.missing) == len(DEV_QUERIES) - 1  # the rest are named


def _kde_wallpaper(root: Path, name: str, colour: str) -> None:
    """KDE's layout: <Name>/contents/images/<size>.jpg, each wallpaper in two sizes."""
    for side in (64, 96):
        path = root / name / "contents" / "images" / f"{side}x{side}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (side, side), colour).save(path)


def test_kde_wallpapers_are_copied_under_their_own_names_and_queried(tmp_path: Path):
    """Every KDE wallpaper is a file named by its size, so the copy takes the wallpaper's name."""
    installed = tmp_path / "wallpapers"
    queried = [key for key in DEV_QUERIES if key in ("Grey", "Kite")]
    for name, colour in zip(queried + ["Unqueried"], ("grey", "skyblue", "red"), strict=False):
        _kde_wallpaper(installed, name, colour)
    copies = wallpapers(tmp_path / "cache", folders=(installed,))
    assert sorted(wallpaper_stem(path) for path in copies) == sorted(queried + ["Unqueried"])
    assert all(Image.open(path).size == (64, 64) for path in copies)  # one copy each, the smaller size
    dev = dev_set(copies)
    assert dev is not None and sorted(dev.queries) == sorted(DEV_QUERIES[key] for key in queried)
    assert [wallpaper_stem(copies[row]) for row in dev.owner] == [
        key for key in DEV_QUERIES if key in queried
    ]


def test_no_dev_set_without_its_wallpapers(tmp_path: Path):
    assert dev_set([tmp_path / "holiday.jpg"]) is None
    assert dev_set([]) is None
