"""What the content policy withholds in one gallery folder, and when that must be decided again.

The decision reads three things besides the index: the captions people wrote
(`captions.csv` in the folder, or the data set's `test_queries.csv` beside a `test_images`
folder), the owner's releases (inference/review/releases.py) and the detector's threshold. Any
process may change the first two (the app, the CLI, another app), so a decision carries
the files' stamps (`decision_stamp`): a process that finds them changed decides again
before it answers, without a restart and without re-reading a photo.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.data.dataset import read_table
from inference.policy import restricted_images
from inference.policy.names import restricted_names
from inference.review.releases import RELEASES_FILE, released_names

CAPTIONS_FILE = "captions.csv"  # optional, in a gallery: columns image, caption
DATA_SET_QUERIES = "test_queries.csv"  # the data set's captions of its test_images folder


def known_captions(gallery: Path) -> dict[str, list[str]]:
    """Captions people wrote for gallery images, keyed like the index (paths relative
    to the gallery): `captions.csv` in the gallery (columns image, caption), or the
    data set's `test_queries.csv` beside a `test_images` folder. Raises DataError
    naming the file for a captions file that cannot be read."""
    own = gallery / CAPTIONS_FILE
    if own.is_file():
        frame = read_table(own, ["image", "caption"])
        keys = frame["image"].map(lambda name: Path(name).as_posix())
        return frame["caption"].groupby(keys).apply(list).to_dict()
    queries = gallery.parent / DATA_SET_QUERIES
    if gallery.name == "test_images" and queries.is_file():
        frame = read_table(queries, ["query_text", "image"], sep="|", index_col=0)
        return frame.groupby("image")["query_text"].apply(list).to_dict()
    return {}


def decision_stamp(gallery: Path) -> tuple:
    """(inode, size, mtime_ns) of each file a decision reads, None where absent: an atomic
    rewrite is a new inode, so any change, by any process, changes the stamp. A few stat
    calls: cheap enough for every request."""
    files = (gallery / RELEASES_FILE, gallery / CAPTIONS_FILE, gallery.parent / DATA_SET_QUERIES)
    return tuple(_stat(path) for path in files)


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


@dataclass(frozen=True)
class Decision:
    """One folder's rows, decided: withheld now, withheld by the detector whether or not a
    person released them (the review queue), and the stamp of the files it read."""

    restricted: np.ndarray  # [n] bool
    flagged: np.ndarray  # [n] bool: no caption, and the detector says child (released or not)
    stamp: tuple


def decide(
    gallery: Path,
    names: Sequence[str],
    child_probability: np.ndarray,
    threshold: float,
    policy: str,
    groups: np.ndarray | None = None,
) -> Decision:
    """The decision for a folder's rows `names` (relative paths) with the detector's P(child) [n]
    and their groups of copies [n] (inference/store/duplicates.py; None: each its own).

    Copies are one photo: what withholds one withholds its group (a caption, a child word in a
    file or folder name, the detector), and a person's release of one copy releases the group
    from the detector, never from a caption or a name."""
    stamp = decision_stamp(gallery)  # taken first: a change from here on makes this one stale
    nothing = np.zeros(len(names), bool)
    if policy == "off":
        return Decision(nothing, nothing, stamp)
    captions = known_captions(gallery)
    uncaptioned = np.array([name not in captions for name in names], dtype=bool)
    by_words = restricted_images(names, captions) | restricted_names(names)  # never released
    # the queue: what the one rule withholds with no release, among photos no caption or name decides
    flagged = uncaptioned & ~by_words & restricted_images(names, captions, child_probability, threshold)
    released_set = released_names(gallery, [name for name, f in zip(names, flagged, strict=True) if f])
    released = np.array([name in released_set for name in names], dtype=bool)
    if groups is None:
        return Decision(by_words | (flagged & ~released), flagged, stamp)
    detector = _any_in_group(flagged, groups) & ~_any_in_group(released, groups)
    return Decision(_any_in_group(by_words, groups) | detector, flagged, stamp)


def _any_in_group(rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """[n] bool: whether any row of each row's group is set in `rows` [n]."""
    found = np.zeros(len(rows), bool)
    np.logical_or.at(found, groups, rows)
    return found[groups]
