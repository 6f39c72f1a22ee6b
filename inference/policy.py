"""Content policy: nothing depicting a child (under 16) is shown.

Where the law applies, a restricted text or image is replaced by `DISCLAIMER`.
A text is restricted when any of its words is, in any language the policy
reads, an inflected form of a lemma in `inference/child_words.py`:
- English: WordNet's `morphy` noun rules (suffixes plus irregular plurals),
  checked against our vocabulary instead of the WordNet lexicon, so no corpus
  download is needed;
- Russian and Ukrainian: pymorphy3 with the OpenCorpora / LanguageTool
  dictionaries in its wheels (every inflection: детей, ребёнка, малышами);
- Spanish, German, French, Italian, Portuguese: simplemma's bundled lexicons.

The language is never guessed first: every word is read in every language, so
mixed-language text is caught too. Only whole words count, so look-alikes pass
(kidney, girlfriend, Kindle, детектив, мальчишник).

Disguises are read through: case, accents, full-width forms, punctuation,
hyphens, zero-width characters and soft hyphens (dropped, never word breaks),
and letters that look alike across Latin, Cyrillic and Greek (Unicode's
confusables, inference/confusables.py): "сhild" with a Cyrillic с, "дeти" with
a Latin e. So are the ways people type around a word list
(inference/disguises.py): digits for letters ("k1ds"), spread letters ("c h i l d"),
transliterated Russian and Ukrainian ("deti", "rebyonok"), accents dropped ("ninos"),
ages under 16 in numbers ("aged 12") and euphemisms ("a little one").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import cache, lru_cache

import numpy as np

from inference.child_words import ENGLISH, EUROPEAN, RUSSIAN, SHARED_WITH_ENGLISH, UKRAINIAN
from inference.confusables import as_cyrillic, as_latin
from inference.disguises import (
    is_transliterated_child_word,
    leet_readings,
    names_a_child_age,
    names_a_child_by_euphemism,
    spread_readings,
    transliterated_child_words,
    umlaut_reading,
)

DISCLAIMER = "This image is unavailable in your country in compliance with local laws"
#: What a refused search says: the disclaimer's wording, about the search rather than an image.
SEARCH_REFUSED = "This search is unavailable in your country in compliance with local laws"

#: Where the policy applies: the law binds a service in some countries, not a
#: person searching a private folder of their own.
POLICIES: dict[str, str] = {
    "strict": "Content policy: strict. Nothing depicting a child under 16 is shown: a gallery's "
    "captions decide where it has them, the child-image detector elsewhere; child queries are refused.",
    "off": "Content policy: off (a private gallery where the law behind it does not apply). "
    "Every image is shown and every query is searched.",
}

CHILD_LEMMAS = ENGLISH  # English lemmas; other languages in inference/child_words.py

#: Irregular plurals WordNet lists in its exception file, for our lemmas.
_IRREGULAR_NOUNS = {"children": "child", "schoolchildren": "child"}

#: WordNet's `morphy` suffix rules for nouns (nltk's WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS),
#: copied so serving needs no nltk (importing it cost 1.1 s of every start); a test checks they match.
NOUN_SUFFIX_RULES = (
    ("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"),
    ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y"),
)  # fmt: skip

_APOSTROPHE_IN_WORD = re.compile(r"(?<=[^\W\d_])['’`ʼ](?=[^\W\d_])")

#: Words are runs of letters; an apostrophe ends one ("kid's" -> "kid", "s").
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


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
    for suffix, replacement in NOUN_SUFFIX_RULES:
        if word.endswith(suffix) and len(word) > len(suffix):
            candidates.add(word[: len(word) - len(suffix)] + replacement)
    # "childrens" (a common misspelling of the possessive) strips to an irregular plural
    return candidates | {_IRREGULAR_NOUNS[c] for c in candidates if c in _IRREGULAR_NOUNS}


def is_restricted_word(word: str) -> bool:
    """True when one lower-cased word is a child term in any inflected form."""
    return not noun_lemmas(word).isdisjoint(CHILD_LEMMAS)


def visible(text: str) -> str:
    """`text` in NFKC form without format characters (zero-width spaces and joiners,
    soft hyphens, bidi marks) and without combining marks NFKC could not join to a
    letter ("b\u0301oy", a stress mark in "де\u0301ти"): both are (nearly) invisible,
    so neither may split a word."""
    composed = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in composed if unicodedata.category(ch) not in ("Cf", "Mn"))


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if unicodedata.category(c) != "Mn")


@cache
def _morph(language: str):
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=language)


def _cyrillic_lemmas(word: str) -> set[str]:
    """Russian and Ukrainian normal forms of one lower-case Cyrillic word, ё as е."""
    lemmas = {parse.normal_form for language in ("ru", "uk") for parse in _morph(language).parse(word)}
    return {lemma.replace("ё", "е") for lemma in lemmas | {word}}


def is_restricted_cyrillic(word: str) -> bool:
    """True when a lower-case word is a Russian or Ukrainian child word in any inflection.
    Only all-Cyrillic words are parsed: no such word mixes in other letters once look-alikes
    are folded, and pymorphy3 fails on letters Unicode gives no name (found by hypothesis)."""
    if not word or not all("\u0400" <= ch <= "\u04ff" for ch in word):
        return False
    lemmas = _cyrillic_lemmas(word)
    return not (lemmas.isdisjoint(RUSSIAN) and lemmas.isdisjoint(UKRAINIAN))


@cache
def _unaccented(language: str) -> frozenset[str]:
    return frozenset(_strip_accents(lemma) for lemma in EUROPEAN[language])


def _european_lemma(word: str, language: str) -> str:
    """Lower-case, accent-free lemma of `word` as typed (German "Junge" is a boy, "junge"
    an adjective) in `language` (simplemma; an unknown word is its own lemma)."""
    import simplemma

    # low_memory: the same lemmas (tests/test_policy_languages.py compares them), its
    # dictionaries load in 1.2 s instead of 2.6 (five languages, 2 cores): most of a restart
    return _strip_accents(simplemma.lemmatize(word, lang=language, low_memory=True).casefold())


@lru_cache(maxsize=1 << 16)
def _word_languages(token: str) -> frozenset[str]:
    """Languages in which one typed word (case kept) is a child word. A language
    followed by "?" marks a word also common in English ("kind"): see `_reads_as`."""
    found = set()
    if any(is_restricted_word(w) for w in words(token) + words(as_latin(token))):
        found.add("en")
    if is_restricted_cyrillic(as_cyrillic(token.casefold())):
        found.add("ru")
    for language in EUROPEAN:
        shared = SHARED_WITH_ENGLISH.get(language, frozenset())
        variants = {token, as_latin(token)}
        lemmas = {_european_lemma(variant, language) for variant in variants}
        if language in ROMANCE:
            lemmas |= _bare_singulars(variants)
        lemmas &= _unaccented(language)
        if lemmas - shared:
            found.add(language)
        elif lemmas:
            found.add(language + "?")
    return frozenset(found)


#: Languages whose plurals add -s or -es, so a plural typed without accents can be undone.
ROMANCE = ("es", "fr", "it", "pt")


def _bare_singulars(variants: set[str]) -> set[str]:
    """Singulars of accent-free words by the Romance plural endings: typed without accents
    ("ninos", "bebes", "criancas") a plural is unknown to the lexicons."""
    bare = {_strip_accents(variant.casefold()) for variant in variants}
    return {word[:-1] for word in bare if word.endswith("s")} | {w[:-2] for w in bare if w.endswith("es")}


def restricted_languages(text: str) -> set[str]:
    """Languages ("en", "ru" for Russian or Ukrainian, "es", "de"...) in which `text` names a child,
    as written or as people disguise it (inference/disguises.py: "k1ds", "c h i l d", "deti",
    "aged 12", "a little one")."""
    shown = visible(text)
    found = _word_level_languages(text)
    for reading in _readings(shown):
        found |= _word_level_languages(reading)
    if names_a_child_age(shown) or names_a_child_by_euphemism(fold(shown)):
        found.add("en")
    # "mal'chik": transliteration writes the soft sign as an apostrophe inside the word
    joined = _APOSTROPHE_IN_WORD.sub("", shown)
    latin = [word for reading in [joined, *leet_readings(joined)] for word in _WORD.findall(fold(reading))]
    if any(is_transliterated_child_word(word) for word in latin):
        found.add("ru")
    return found


def _readings(shown: str) -> list[str]:
    """Other ways to read a visible text: digits as letters, spread letters joined, umlauts."""
    leet = leet_readings(shown)
    return [*leet, *(spread for reading in [shown, *leet] for spread in spread_readings(reading)),
            *umlaut_reading(shown)]  # fmt: skip


def _word_level_languages(text: str) -> set[str]:
    """Languages in which a word of `text`, read word by word, names a child."""
    tokens = _WORD.findall(visible(text))
    found: set[str] = set()
    for position, token in enumerate(tokens):
        for language in _word_languages(token):
            if not language.endswith("?"):
                found.add(language)
            elif _reads_as(token, position, text, language[:-1]):
                found.add(language[:-1])
    return found


def _reads_as(token: str, position: int, text: str, language: str) -> bool:
    """A word shared with English counts as `language`'s when written as that language
    writes it (German nouns capitalised, past the first word) or when the whole text
    is identified as that language."""
    from inference.language import identify

    if language == "de" and position > 0 and token[:1].isupper() and not token.isupper():
        return True
    identified, probability = identify(text)
    return identified == language and probability >= 0.5


_warming = threading.Lock()
_warm = threading.Event()


def warm_up() -> None:
    """Load every language's morphology and the language identifier now (about 1.9 s
    on 2 cores) instead of during a visitor's first query. Once per process; a
    caller arriving while another thread loads waits for it instead of loading again."""
    if _warm.is_set():
        return
    with _warming:
        if _warm.is_set():
            return
        from inference.language import identify

        restricted_languages("warm up Aufwärmen разминка razminka")
        transliterated_child_words()
        identify("warm up")
        _warm.set()


def warm_up_in_background() -> None:
    """Start `warm_up` in a thread: a server loads its gallery index meanwhile."""
    threading.Thread(target=warm_up, name="policy-warm-up", daemon=True).start()


@lru_cache(maxsize=1 << 16)  # a data set repeats its texts: 51,323 scored pairs hold 1,000
def is_restricted_text(text: str) -> bool:
    """True when `text` names a child in any language the policy reads."""
    return bool(restricted_languages(text))


def is_restricted_image(captions: Iterable[str]) -> bool:
    """True when any caption known for an image is restricted."""
    return any(is_restricted_text(caption) for caption in captions)


def restricted_images(
    names: Sequence[str],
    captions: Mapping[str, Iterable[str]],
    child_probability: np.ndarray | None = None,
    threshold: float = 1.0,
    released: Collection[str] = frozenset(),
) -> np.ndarray:
    """The one decision of which images are withheld: [N] bool for images `names`.

    Captions known for an image decide for it; images without captions are judged
    by the child-image detector (child_probability [N] >= threshold) where given,
    and allowed where not (training and evaluation label by captions only). A
    person's release (inference/review.py) overrules the detector, never a caption.
    """
    return np.array(
        [
            is_restricted_image(captions[name])
            if name in captions
            else child_probability is not None
            and bool(child_probability[i] >= threshold)
            and name not in released
            for i, name in enumerate(names)
        ],
        dtype=bool,
    )
