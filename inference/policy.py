"""Content policy: nothing depicting a child (under 16) is shown.

Where the law applies, a restricted text or image is replaced by `DISCLAIMER`.
A text is restricted when any of its words, lemmatised as a noun, is in
`CHILD_LEMMAS`. Lemmatisation follows WordNet's `morphy` for nouns: nltk's own
noun suffix rules plus an irregular-plural table, checked against our
vocabulary instead of the WordNet lexicon. That needs no corpus download, so it
works offline and gives the same answer on every machine.

Only whole words count, so look-alikes pass: kidney, boycott, girlfriend,
cowboy. Case, punctuation, possessives and hyphenation are normalised away
(KIDS, kid's, school-children are all restricted).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from nltk.corpus.reader.wordnet import NOUN, WordNetCorpusReader

DISCLAIMER = "This image is unavailable in your country in compliance with local laws"

#: Where the policy applies: the law binds a service in some countries, not a
#: person searching a private folder of their own.
POLICIES: dict[str, str] = {
    "strict": "Content policy: strict. Nothing depicting a child under 16 is shown: a gallery's "
    "captions decide where it has them, the child-image detector elsewhere; child queries are refused.",
    "off": "Content policy: off (a private gallery where the law behind it does not apply). "
    "Every image is shown and every query is searched.",
}

#: Lemmas of words that name or describe a person under 16. Kept to words whose
#: every common sense is a child: "minor" (minor league), "son" (grown sons),
#: "lad" or "babe" (used of adults) are left out on purpose.
CHILD_LEMMAS: frozenset[str] = frozenset(
    {
        "child",
        "kid",
        "kiddie",
        "kiddo",
        "baby",
        "toddler",
        "infant",
        "newborn",
        "boy",
        "girl",
        "teen",
        "teenager",
        "preteen",
        "tween",
        "youngster",
        "schoolboy",
        "schoolgirl",
        "schoolchild",
        "schoolkid",
        "tot",
        "youth",
        "juvenile",
        "bairn",
        "childhood",
        "kindergartener",
        "kindergartner",
        "preschooler",
        "adolescent",
    }
)

#: Irregular plurals WordNet lists in its exception file, for our lemmas.
_IRREGULAR_NOUNS = {"children": "child", "schoolchildren": "child"}

#: Words are runs of letters; an apostrophe ends one ("kid's" -> "kid", "s").
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

_NOUN_SUFFIX_RULES = [(old, new) for old, new in WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS[NOUN]]


def fold(text: str) -> str:
    """Compatibility-folded, lower-cased `text` without accents or invisible marks.

    So "ＫＩＤＳ" (full width), "kíds" and "ki\u200bds" (zero-width space) read as
    "kids": NFKD splits accents off and maps look-alike forms to plain letters;
    combining marks (Mn) and format characters (Cf) are then dropped.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Cf"))
    return unicodedata.normalize("NFKC", kept).casefold()


def words(text: str) -> list[str]:
    """Folded words of `text`; hyphens, apostrophes and digits split words."""
    return _WORD.findall(fold(text))


def noun_lemmas(word: str) -> set[str]:
    """Candidate noun lemmas of one lower-cased word (WordNet morphy rules)."""
    candidates = {word}
    for suffix, replacement in _NOUN_SUFFIX_RULES:
        if word.endswith(suffix) and len(word) > len(suffix):
            candidates.add(word[: len(word) - len(suffix)] + replacement)
    # "childrens" (a common misspelling of the possessive) strips to an irregular plural
    return candidates | {_IRREGULAR_NOUNS[c] for c in candidates if c in _IRREGULAR_NOUNS}


def is_restricted_word(word: str) -> bool:
    """True when one lower-cased word is a child term in any inflected form."""
    return not noun_lemmas(word).isdisjoint(CHILD_LEMMAS)


def is_restricted_text(text: str) -> bool:
    """True when `text` mentions a child by any word of `CHILD_LEMMAS`."""
    return any(is_restricted_word(word) for word in words(text))


def is_restricted_image(captions: Iterable[str]) -> bool:
    """True when any caption known for an image is restricted."""
    return any(is_restricted_text(caption) for caption in captions)
