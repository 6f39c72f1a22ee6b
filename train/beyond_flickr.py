"""A development set beyond Flickr: Debian wallpaper photos (installed by
scripts/fetch_people_free.sh) with a one-line query written for each of 20.

Why: the label bridge (ImageNet class names) is the only part of the model that
knows objects Flickr's captions never mention, and Flickr validation alone
cannot see what it is worth: tuned on Flickr only, the bridge weight falls
whenever the towers get better. Training tunes the fusion on both
(train/calibration.py `tune_fusion`). The towers never train on these photos;
the sample photos of scikit-image and scikit-learn (bench/foreign.py) stay the
test set, with other queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: wallpaper file stem (before the "-<hash>" our copies add) -> a query a user would type for it
DEV_QUERIES = {
    "Bridge_by_Sander_Klootwijk": "a beach under a blue sky",
    "Dragonfly_by_Bolly": "leaves of a tree against a blue sky",
    "Dune": "tall grass on a sand dune by the sea",
    "FreshFlower": "an orange flower close up",
    "Garden": "a red flower",
    "GreenMeadow": "a lawn of green grass",
    "Kleiber_by_Lukas_Baubkus": "a small bird on a tree trunk",
    "LadyBird": "a ladybird on a blade of grass",
    "RainDrops": "raindrops on green leaves",
    "Storm": "dark storm clouds",
    "Wine_by_Jakkub_Mede": "a bottle of wine on a table",
    "Wood": "a wooden plank",
    "YellowFlower": "a yellow flower",
    "aitzgorri_by_Aitzol_Berasategi": "mountains above a green meadow in autumn",
    "friends_by_Aitzol_Berasategi": "two brown dogs peeking out of a door",
    "life_by_Aitzol_Berasategi": "a stream in a forest",
    "picosdeeuropa_by_Aitzol_Berasategi": "a path in the mountains",
    "seeding_by_Clements_Engelhardt": "dandelions in a field",
    "sunset_by_Aitzol_Berasategi": "the sun setting over the hills",
    "Infinite-Sea_by_Aury88": "the milky way over the sea",
}


@dataclass(frozen=True)
class DevSet:
    photos: list[Path]  # every wallpaper: the ones queried and the rest as distractors
    queries: list[str]  # [Q]
    owner: np.ndarray  # [Q] each query's photo, a row of `photos`


def wallpaper_stem(path: Path) -> str:
    return path.stem.rsplit("-", 1)[0]


def dev_set(wallpapers: list[Path]) -> DevSet | None:
    """The queried development set over `wallpapers`; None where none of its photos is here."""
    row = {wallpaper_stem(path): i for i, path in enumerate(wallpapers)}
    found = [(stem, query) for stem, query in DEV_QUERIES.items() if stem in row]
    if not found:
        return None
    return DevSet(list(wallpapers), [query for _, query in found], np.array([row[stem] for stem, _ in found]))
