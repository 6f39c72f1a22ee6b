"""Ways people write child queries that the word-level policy would not read as such.

Each helper turns a query into extra *readings* (strings the policy reads like any
text) or names the languages a phrase restricts in, so the vocabulary stays in
one place (inference/policy/words.py):
- digits and symbols standing for letters ("k1ds", "b0y", "ch!ld");
- letters spread out by spaces or dots ("c h i l d r e n", "k.i.d.s");
- German umlauts typed as two letters ("Maedchen");
- Russian and Ukrainian typed in Latin letters ("deti v parke", "rebyonok",
  "khlopchyk"), matched through a lossy skeleton both sides share;
- common English euphemisms ("a little one", "the wee ones", "minors").

A conservative refusal of a harmless query is acceptable here; a child query let
through is not.
"""

from __future__ import annotations

import re
from functools import cache

from inference.policy.words import RUSSIAN, UKRAINIAN

#: Characters that stand for letters inside a word ("k1ds", "b0y", "ch!ld", "g@l").
LEET = str.maketrans({"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a",
                      "$": "s", "!": "i", "+": "t"})  # fmt: skip
_LEET_TOKEN = re.compile(r"[^\W_]*[0-9@$!|+][\w@$!|+]*|[^\W\d_]+[\w@$!|+]*", re.UNICODE)
_LETTERS_AND_MARKS = re.compile(r"[^\W\d_]")

#: A run of single letters: "c h i l d", "k.i.d.s", "b-o-y".
_SPREAD = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][\s.\-_*·]+){2,}[^\W\d_](?![^\W\d_])", re.UNICODE)

#: Latin transliteration of each Cyrillic letter, reduced to a skeleton in which the
#: common schemes agree (ё, е, э -> e; и, й, ы, і, ї -> i; я -> a; ю -> u; soft and hard signs dropped).
_CYRILLIC_SKELETON = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "e", "э": "e",
    "ж": "zh", "з": "z", "и": "i", "й": "i", "ы": "i", "і": "i", "ї": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c",
    "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ь": "", "ю": "u", "я": "a",
})  # fmt: skip
#: Latin spellings reduced the same way, longest first ("shch" before "sh").
_LATIN_SKELETON = (
    ("shch", "sh"), ("sch", "sh"), ("tsh", "ch"), ("tch", "ch"), ("kh", "h"), ("ts", "c"), ("tz", "c"),
    ("yo", "e"), ("jo", "e"), ("io", "e"), ("ye", "e"), ("je", "e"), ("ya", "a"), ("ja", "a"), ("ia", "a"),
    ("yu", "u"), ("ju", "u"), ("iu", "u"), ("yi", "i"), ("ji", "i"), ("y", "i"), ("j", "i"), ("w", "v"),
    ("x", "h"), ("'", ""), ("’", ""), ("`", ""),
)  # fmt: skip
#: Skeletons too short, or too common in other languages, to read as transliterated Russian.
_SKELETON_EXCEPTIONS = frozenset({"mala", "male", "mal", "dita", "kroh"})
_MIN_SKELETON = 4


def leet_readings(text: str) -> list[str]:
    """`text` with digits and symbols inside words read as letters; "1" and "|" are
    read as "i" in one reading and as "l" in the other ("k1ds", "l1ttle", "g1rl")."""
    if not re.search(r"[0-9@$!|+]", text):
        return []

    def convert(one: str):
        def word(match: re.Match[str]) -> str:
            token = match.group(0)
            if not _LETTERS_AND_MARKS.search(token):  # a number alone is a number ("12")
                return token
            return token.replace("1", one).replace("|", one).translate(LEET)

        return _LEET_TOKEN.sub(word, text)

    return sorted({convert("i"), convert("l")} - {text})


def spread_readings(text: str) -> list[str]:
    """Words written letter by letter, joined: every stretch of three or more of the
    spread letters, so "a k i d" yields "kid" as well as "akid"."""
    found = []
    for match in _SPREAD.finditer(text):
        letters = re.findall(r"[^\W\d_]", match.group(0))
        found += ["".join(letters[i:j]) for i in range(len(letters)) for j in range(i + 3, len(letters) + 1)]
    return [" ".join(found)] if found else []


_TWO_LETTER_UMLAUT = re.compile(r"(?<=[^\W\d_])([aouAOU])e")
_UMLAUTS = {"a": "ä", "o": "ö", "u": "ü", "A": "Ä", "O": "Ö", "U": "Ü"}


def umlaut_reading(text: str) -> list[str]:
    """German umlauts typed as two letters ("Maedchen", "Saeugling") written as umlauts."""
    spelled = _TWO_LETTER_UMLAUT.sub(lambda match: _UMLAUTS[match.group(1)], text)
    return [spelled] if spelled != text else []


def latin_skeleton(word: str) -> str:
    """A Latin word reduced so the common transliterations of one Russian or Ukrainian
    word agree: "rebyonok", "rebenok" -> "rebenok"; "khlopchyk" -> "hlopchik"."""
    skeleton = word.casefold()
    for spelled, reduced in _LATIN_SKELETON:
        skeleton = skeleton.replace(spelled, reduced)
    return skeleton


def cyrillic_skeleton(word: str) -> str:
    return word.casefold().translate(_CYRILLIC_SKELETON)


@cache
def transliterated_child_words() -> frozenset[str]:
    """Skeletons of every inflected form of every Russian and Ukrainian child word, both
    Ukrainian г as "h" and as "g"."""
    import pymorphy3

    skeletons = set()
    for language, lemmas in (("ru", RUSSIAN), ("uk", UKRAINIAN)):
        morph = pymorphy3.MorphAnalyzer(lang=language)
        for lemma in lemmas:
            # nouns' forms only: Ukrainian "діти" is also a verb ("to put"), its forms everyday words
            forms = {lemma} | {form.word for parse in morph.parse(lemma)
                               if parse.normal_form == lemma and parse.tag.POS in ("NOUN", "ADJF")
                               for form in parse.lexeme}  # fmt: skip
            for form in forms:
                skeleton = cyrillic_skeleton(form)
                skeletons.add(skeleton)
                if language == "uk":
                    skeletons.add(cyrillic_skeleton(form.replace("г", "х")))
    return frozenset(s for s in skeletons if len(s) >= _MIN_SKELETON) - _SKELETON_EXCEPTIONS


def is_transliterated_child_word(word: str) -> bool:
    """True when a Latin word is a Russian or Ukrainian child word typed in Latin letters."""
    if not word.isascii() or not word.isalpha() and "'" not in word:
        return False
    return latin_skeleton(word) in transliterated_child_words()


#: English phrases for children whose words are each also used of adults or things.
EUPHEMISMS = re.compile(
    r"\b(?:little|young|wee)\s+ones?\b|\bunder[-‐ ]?age(?:d)?\b|\bminors\b|\ba\s+minor\b(?!\s+\w)"
    r"|\bpre[-‐ ]?schoolers?\b|\bgrade[-‐ ]?schoolers?\b",
    re.I,
)


def names_a_child_by_euphemism(text: str) -> bool:
    return bool(EUPHEMISMS.search(text))
