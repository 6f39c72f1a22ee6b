"""How the content policy reads a text: in which languages it names a child.

A text names a child when any of its words is, in any language the policy reads
(inference/policy/languages.py `POLICY_READS`), an inflected form of a child word
(inference/policy/words.py):
- English: WordNet's `morphy` noun rules (suffixes plus irregular plurals),
  checked against our vocabulary instead of the WordNet lexicon, so no corpus
  download is needed;
- Russian and Ukrainian: pymorphy3 with the OpenCorpora / LanguageTool
  dictionaries in its wheels (every inflection: детей, ребёнка, малышами);
- Spanish, German, French, Italian, Portuguese, Dutch, Polish, Turkish, Swedish, Czech:
  every form simplemma's dictionaries list, as a table (inference/policy/forms.py);
- Chinese, Japanese, Korean, Arabic, Thai: child words anywhere in the text, and child
  emoji (inference/policy/scripts.py).

The language is never guessed first: every word is read in every language, so
mixed-language text is caught too. Only whole words count, so look-alikes pass
(kidney, girlfriend, Kindle, детектив, мальчишник).

Disguises are read through: case, accents, full-width forms, punctuation,
hyphens, zero-width characters and soft hyphens (dropped, never word breaks),
and letters that look alike across Latin, Cyrillic and Greek (Unicode's
confusables, inference/policy/confusables.py): "сhild" with a Cyrillic с, "дeти" with
a Latin e. So are the ways people type around a word list
(inference/policy/disguises.py): digits for letters ("k1ds"), spread letters ("c h i l d"),
transliterated Russian and Ukrainian ("deti", "rebyonok"), accents dropped ("ninos",
"cocuklar"), ages under 16 in numbers ("aged 12") and euphemisms ("a little one").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache, lru_cache

from inference.policy.ages import names_a_child_age
from inference.policy.confusables import as_cyrillic, as_latin
from inference.policy.disguises import (
    is_transliterated_child_word,
    leet_readings,
    names_a_child_by_euphemism,
    spread_readings,
    transliterated_child_words,
    umlaut_reading,
)
from inference.policy.forms import fold as plain_fold
from inference.policy.forms import language_forms
from inference.policy.scripts import names_a_child_by_emoji, substring_languages
from inference.policy.words import DICTIONARY_LANGUAGES, ENGLISH, PHRASES, RUSSIAN, UKRAINIAN

CHILD_LEMMAS = ENGLISH  # English lemmas; other languages in inference/policy/words.py

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


@lru_cache(maxsize=1 << 16)
def _word_languages(token: str) -> frozenset[str]:
    """Languages in which one typed word (case kept) is a child word. A language
    followed by "?" marks a word also common in English ("kind"): see `_reads_as`."""
    found = set()
    if any(is_restricted_word(w) for w in words(token) + words(as_latin(token))):
        found.add("en")
    if is_restricted_cyrillic(as_cyrillic(token.casefold())):
        found.add("ru")
    for language in DICTIONARY_LANGUAGES:
        forms = language_forms(language)
        readings = {forms.reading(token), forms.reading(as_latin(token))}
        if "child" in readings:
            found.add(language)
        elif "shared" in readings:
            found.add(language + "?")
    return frozenset(found)


def restricted_languages(text: str) -> set[str]:
    """Languages ("en", "ru" for Russian or Ukrainian, "es", "de"...) in which `text` names a child,
    as written or as people disguise it (inference/policy/disguises.py: "k1ds", "c h i l d", "deti",
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
    found |= substring_languages(shown) | phrase_languages(shown)
    if names_a_child_by_emoji(text):
        found.add("emoji")
    return found


@cache
def _phrase_patterns() -> dict[str, re.Pattern[str]]:
    return {language: re.compile("|".join(patterns)) for language, patterns in PHRASES.items()}


def phrase_languages(text: str) -> set[str]:
    """Languages of PHRASES whose phrases for children stand in `text` (folded, apostrophes dropped)."""
    folded = plain_fold(text).replace("'", "").replace("’", "")
    return {language for language, pattern in _phrase_patterns().items() if pattern.search(folded)}


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
    from inference.policy.languages import identify

    if language == "de" and position > 0 and token[:1].isupper() and not token.isupper():
        return True
    identified, probability = identify(text)
    return identified == language and probability >= 0.5


_warming = threading.Lock()
_warm = threading.Event()


def warm_up() -> None:
    """Load every language's morphology and the language identifier now (about 1 s
    here) instead of during a visitor's first query. Once per process; a
    caller arriving while another thread loads waits for it instead of loading again."""
    if _warm.is_set():
        return
    with _warming:
        if _warm.is_set():
            return
        from inference.policy.languages import identify

        restricted_languages("warm up Aufwärmen разминка razminka 준비 운동")
        transliterated_child_words()
        for language in DICTIONARY_LANGUAGES:
            language_forms(language)
        identify("warm up")
        _warm.set()


def warm_up_in_background() -> None:
    """Start `warm_up` in a thread: a server loads its gallery index meanwhile."""
    threading.Thread(target=warm_up, name="policy-warm-up", daemon=True).start()


@lru_cache(maxsize=1 << 16)  # a data set repeats its texts: 51,323 scored pairs hold 1,000
def is_restricted_text(text: str) -> bool:
    """True when `text` names a child in any language the policy reads."""
    return bool(restricted_languages(text))
