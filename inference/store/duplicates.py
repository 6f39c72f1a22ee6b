"""Copies of one photo, grouped: exact copies (the same bytes) and near-duplicates (the photo
resized, recompressed or slightly cropped).

Two photos are near-duplicates when one's perceptual hash is within `SAME_PHOTO_BITS` bits of
the other's, or of the other's central 90% or 80% (inference/store/facts.py). Measured on the
data set's 1,070 photos (docs/log.md, 2026-12-08): no two distinct photos come closer than 12
bits in any of these comparisons (570,000 pairs); a copy resized to a half or a third and
recompressed at JPEG quality 50-70 stays within 4, one cropped by 2-10% on each side within
10. A crop from one side only is found a third of the time. The image vectors are not used: how
alike two photos look to a model depends on the model (a small one finds everything alike), and
copies are a fact of the files.
"""

from __future__ import annotations

import numpy as np

from inference.store.facts import RowFacts

SAME_PHOTO_BITS = 10
#: rows: above, pairs are found through hash bands instead of all pairs (an all-pairs pass is
#: about 3 s at 20,000 rows here, once, against half an hour to embed them)
ALL_PAIRS_UP_TO = 20_000
_BLOCK = 1024


def group_rows(facts: RowFacts, new_from: int = 0) -> np.ndarray:
    """Group ids [N] (int64; a group's id is its first row) of rows with `facts`. Rows before
    `new_from` keep the groups `facts.group` gives them, and only pairs that involve a row from
    `new_from` on are looked for: adding photos costs new x all, not all x all."""
    parent = np.arange(len(facts))
    parent[:new_from] = facts.group[:new_from]
    for a, b in _pairs(facts, new_from):
        _union(parent, int(a), int(b))
    return np.array([_root(parent, row) for row in range(len(parent))], dtype=np.int64)


def _pairs(facts: RowFacts, new_from: int):
    """(a, b) row pairs that are copies, each involving a row >= new_from."""
    content = facts.content
    order = np.argsort(content, kind="stable")
    for at in np.nonzero(content[order][1:] == content[order][:-1])[0]:
        a, b = order[at], order[at + 1]
        if max(a, b) >= new_from:
            yield a, b
    if len(content) > ALL_PAIRS_UP_TO:
        yield from _banded_pairs(facts, new_from)
        return
    for start in range(new_from, len(content), _BLOCK):
        rows = np.arange(start, min(start + _BLOCK, len(content)))
        near = distance_bits(facts, rows, np.arange(len(content))) <= SAME_PHOTO_BITS  # [b, N]
        for i, j in zip(*np.nonzero(near), strict=True):
            if rows[i] != j:
                yield int(rows[i]), int(j)


def distance_bits(facts: RowFacts, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """[len(rows), len(others)] bits between each pair's closest hashes: whole against whole,
    and each whole against the other's central parts."""
    whole, others_whole = facts.perceptual[rows, None], facts.perceptual[None, others]
    distance = np.bitwise_count(whole ^ others_whole)
    for central in (facts.central90, facts.central80):
        distance = np.minimum(distance, np.bitwise_count(central[rows, None] ^ others_whole))
        distance = np.minimum(distance, np.bitwise_count(whole ^ central[None, others]))
    return distance


def _banded_pairs(facts: RowFacts, new_from: int):
    """Pairs found through 4 bands of 16 bits of the whole hashes (a pair within 3 bits shares a
    band; wider ones where they do): galleries too large to compare all pairs."""
    shifts = np.array([0, 16, 32, 48], np.uint64)
    bands = (facts.perceptual.view(np.uint64)[:, None] >> shifts) & np.uint64(0xFFFF)  # [N, 4]
    for band in bands.T:
        order = np.argsort(band, kind="stable")
        for run in np.split(order, np.nonzero(np.diff(band[order]))[0] + 1):
            if len(run) < 2 or run.max() < new_from:
                continue
            near = np.triu(distance_bits(facts, run, run) <= SAME_PHOTO_BITS, 1)
            for i, j in zip(*np.nonzero(near), strict=True):
                yield run[i], run[j]


def _root(parent: np.ndarray, row: int) -> int:
    while parent[row] != row:
        parent[row] = parent[parent[row]]
        row = int(parent[row])
    return row


def _union(parent: np.ndarray, a: int, b: int) -> None:
    ra, rb = _root(parent, a), _root(parent, b)
    if ra != rb:  # the lower row leads, so a group's id is its first row
        parent[max(ra, rb)] = min(ra, rb)
