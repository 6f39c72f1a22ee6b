"""Words beside the semantic search: file names, folder names and captions (`captions.csv`)
searched as words, so that a query naming a file ("IMG_2041") or a caption's rare word
("Lisbon") finds it first, however the text encoder reads it.

How the two rankings are fused: each photo's word match has a strength in [0, 1], the share of
the query's word weight its words hold (a word's weight: its inverse document frequency,
log(1 + N / df); a query word no photo has keeps the highest weight, log(1 + N)). The fused score
is the photo's calibrated match logit plus `WORD_WEIGHT` times that strength: a query all of whose
words a photo's name holds puts that photo first, a partial match (the folder "Lisbon" of "a
tram in Lisbon") lifts it over photos that only look alike, and a photo no word matches keeps its
semantic place. So the order of photos without a word match is the semantic order, and pages
stay consistent.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

from inference.policy.names import name_parts, name_text

#: logits a full word match adds: more than the whole range of calibrated logits (p 0.001-0.999
#: spans 14), so it comes first
WORD_WEIGHT = 15.0
_TOKEN = re.compile(r"[^\W_]+")  # letters and digits: "IMG_2041" is "img", "2041"
#: words too common to say which photo is meant
STOPWORDS = frozenset(
    "a an and are as at be by for from has in into is it its of on or the to with img dsc jpg png".split()
)


def tokens(text: str) -> list[str]:
    """Lower-case words of `text`, stopwords and single letters out."""
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1 and t not in STOPWORDS]


class WordIndex:
    """Inverted index over rows' words: names [N] (gallery-relative paths) and, where given,
    captions [N] (each row's captions)."""

    def __init__(self, names: Sequence[str], captions: Sequence[Iterable[str]] | None = None) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for row, name in enumerate(names):
            words = set(_name_words(name))
            for caption in captions[row] if captions is not None else ():
                words.update(tokens(caption))
            for word in words:
                postings[word].append(row)
        self.rows = len(names)
        self.postings = dict(postings)  # lists: an array per word of a million names costs seconds

    def weight(self, word: str) -> float:
        found = self.postings.get(word)
        return math.log(1 + self.rows / (len(found) if found is not None else 1))

    def strengths(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        """[N] strength in [0, 1] of each row (0 where `mask` [N] leaves it out) for `query`."""
        words = list(dict.fromkeys(tokens(query)))
        total = sum(self.weight(word) for word in words)
        strength = np.zeros(self.rows, np.float64)
        for word in words:
            rows = self.postings.get(word)
            if rows:
                strength[np.asarray(rows, np.int64)] += self.weight(word) / total
        if mask is not None:
            strength[~mask] = 0.0
        return strength

    def match(self, query: str, mask: np.ndarray | None = None) -> dict[int, float]:
        """Row -> strength in (0, 1] of each row (that `mask` [N] lets through) some query word names."""
        strength = self.strengths(query, mask)
        rows = np.nonzero(strength)[0]
        return dict(zip(rows.tolist(), strength[rows].tolist(), strict=True))


@lru_cache(maxsize=65_536)
def _part_words(part: str) -> tuple[str, ...]:
    # a library's folders repeat in every name under them: each is read once
    return tuple(tokens(name_text(part)))


def _name_words(name: str) -> list[str]:
    """Words of a gallery-relative name's folders and file stem (its suffix is no word)."""
    *folders, stem = name_parts(name)
    return [word for folder in folders for word in _part_words(folder)] + tokens(name_text(stem))
