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
        postings: dict[str, set[int]] = defaultdict(set)
        for row, name in enumerate(names):
            words = [word for part in name_parts(name) for word in tokens(name_text(part))]
            for caption in captions[row] if captions is not None else ():
                words += tokens(caption)
            for word in words:
                postings[word].add(row)
        self.rows = len(names)
        self.postings = {word: np.fromiter(rows, np.int64, len(rows)) for word, rows in postings.items()}

    def weight(self, word: str) -> float:
        found = self.postings.get(word)
        return math.log(1 + self.rows / (len(found) if found is not None else 1))

    def match(self, query: str, mask: np.ndarray | None = None) -> dict[int, float]:
        """Row -> strength in (0, 1] of each row (that `mask` [N] lets through) some query word names."""
        words = list(dict.fromkeys(tokens(query)))
        total = sum(self.weight(word) for word in words)
        strength: dict[int, float] = defaultdict(float)
        for word in words:
            for row in self.postings.get(word, np.zeros(0, np.int64)).tolist():
                if mask is None or mask[row]:
                    strength[row] += self.weight(word) / total
        return dict(strength)
