"""A development set beyond Flickr: Debian wallpaper photos (installed by
scripts/fetch_people_free.sh) with a one-line query written for each of 39.

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

#: wallpaper name (train/people_free.py copy_name: a copy's stem before the "-<digest>" our
#: copies add) -> a query a user would type for it
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
    # added later, doubling the set: one query on the 20 could move the objective by 1.7 points
    "Aqua": "a drop falling into water",
    "Blinds": "a close-up of a green leaf",
    "Picture_0B_by_freespace": "a fig cut in half in a red bowl",
    "Picture_1A_by_freespace": "paint brushes with bright colours",
    "TwoWings": "dandelion seeds in front of orange flowers",
    "greentock_by_Peter_Nerlich": "a clock face",
    "goldfish": "a pink goldfish",
    "free_by_Peter_Nerlich": "a small bird flying under ceiling lamps",
    "OneStandsOut": "small green plants seen from above",
    "Grey": "a black and white photo of a curved building",
    "EveningGlow": "rowing boats on a lake at sunset",
    "Path": "a path through a pine forest",
    "DarkestHour": "a calm lake in blue mist",
    "FallenLeaf": "an autumn leaf on the ground",
    "BytheWater": "wooden boards by a lake",
    "ColdRipple": "a black and white photo of a pier in the fog",
    "summer_1am": "a lake under a purple evening sky",
    "ColorfulCups": "red plastic cups",
    "Kite": "a kite flying in a blue sky",
}


@dataclass(frozen=True)
class DevSet:
    photos: list[Path]  # every wallpaper: the ones queried and the rest as distractors
    queries: list[str]  # [Q]
    owner: np.ndarray  # [Q] each query's photo, a row of `photos`
    missing: list[str]  # DEV_QUERIES keys whose photo is not among the wallpapers


def wallpaper_stem(path: Path) -> str:
    """A copy's name without the "-<digest>" our copies add."""
    return path.stem.rsplit("-", 1)[0]


def dev_set(wallpapers: list[Path]) -> DevSet | None:
    """The queried development set over `wallpapers`; None where none of its photos is here."""
    row = {wallpaper_stem(path): i for i, path in enumerate(wallpapers)}
    found = [(key, query) for key, query in DEV_QUERIES.items() if key in row]
    if not found:
        return None
    queries, owner = [query for _, query in found], np.array([row[key] for key, _ in found])
    return DevSet(list(wallpapers), queries, owner, [key for key in DEV_QUERIES if key not in row])
