"""The policy's reading of scripts without spaces between words, of emoji, and of scripts it
cannot read at all.

Chinese, Japanese, Korean, Arabic and Thai are read by finding child words anywhere in the
text (inference/policy/words.py `SUBSTRINGS`): it fails safe, needs no segmenter and loads
nothing. Text is brought to one form first, so the disguises the Latin readings see through
are seen through here too:
- NFKC (full-width and half-width forms, presentation forms of Arabic letters), without
  format characters (zero-width spaces and joiners) or combining marks (Arabic vowel signs);
- Arabic letter variants as one letter (أ إ آ ٱ as ا, ى as ي, ة as ه, ؤ as و, ئ as ي,
  Persian ک and ی) and the stretching tatweel dropped;
- katakana as hiragana (コドモ as こども), traditional Chinese characters as simplified;
- everything but letters dropped, so spread-out letters ("孩 子", "ط-ف-ل") join up.
A letter of a script no reading covers (Georgian, Devanagari, Hebrew, ...) makes the text
unreadable to the policy: such a query is not searched (`unreadable_scripts`).
"""

from __future__ import annotations

import unicodedata
from functools import cache

from inference.policy.languages import READABLE_SCRIPTS, letter_scripts
from inference.policy.words import CHILD_EMOJI, SUBSTRING_EXCEPTIONS, SUBSTRINGS

_ARABIC = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
                         "ک": "ك", "ی": "ي", "ـ": None})  # fmt: skip
#: Traditional forms (and Japanese shinjitai where they differ) of the characters in SUBSTRINGS.
_SIMPLIFIED = str.maketrans({"兒": "儿", "児": "儿", "嬰": "婴", "寶": "宝", "學": "学", "園": "园"})
_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


def scan_form(text: str) -> str:
    """`text` in the one form child words are searched in (see the module's docstring)."""
    composed = unicodedata.normalize("NFKC", text)
    kept = "".join(ch for ch in composed if unicodedata.category(ch) not in ("Cf", "Mn")).casefold()
    unified = kept.translate(_ARABIC).translate(_KATAKANA_TO_HIRAGANA).translate(_SIMPLIFIED)
    return "".join(ch for ch in unified if ch.isalpha())


@cache
def _scan_words() -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """Per language: its child words and its exceptions, each in scan form (exceptions longest first)."""
    found = {}
    for language, words in SUBSTRINGS.items():
        exceptions = {scan_form(word) for word in SUBSTRING_EXCEPTIONS.get(language, ())}
        longest_first = tuple(sorted(exceptions, key=len, reverse=True))
        found[language] = (frozenset(scan_form(word) for word in words), longest_first)
    return found


def substring_languages(text: str) -> set[str]:
    """Languages of SUBSTRINGS whose child words stand anywhere in `text` (in scan form)."""
    scanned = scan_form(text)
    found = set()
    for language, (words, exceptions) in _scan_words().items():
        rest = scanned
        for exception in exceptions:
            rest = rest.replace(exception, " ")
        if any(word in rest for word in words):
            found.add(language)
    return found


def names_a_child_by_emoji(text: str) -> bool:
    """True when `text` holds an emoji of a child (a skin tone or a family sequence included)."""
    composed = unicodedata.normalize("NFKC", text)
    return any(emoji in composed for emoji in CHILD_EMOJI)


def unreadable_scripts(text: str) -> list[str]:
    """Names of the scripts of `text`'s letters that no reading of the policy covers ("Georgian",
    "Devanagari"), in order of appearance; [] when every letter can be read. Letters common to
    all scripts (mathematical letters fold to Latin under NFKC; ʼ) count as readable."""
    composed = unicodedata.normalize("NFKC", text)
    unreadable: list[str] = []
    for ch in composed:
        if not ch.isalpha() or letter_scripts(ch) & READABLE_SCRIPTS or _common(ch):
            continue
        name = _script_name(ch)
        if name not in unreadable:
            unreadable.append(name)
    return unreadable


@cache
def _common_pattern():
    import regex

    return regex.compile(r"[\p{scx=Common}\p{scx=Inherited}]")


def _common(ch: str) -> bool:
    return bool(_common_pattern().match(ch))


def _script_name(ch: str) -> str:
    """"Greek", "Hebrew", "Georgian", ...: the first word of the letter's Unicode name."""
    first = unicodedata.name(ch, "").split(" ")[0]
    return first.title() if first else "an unknown"
