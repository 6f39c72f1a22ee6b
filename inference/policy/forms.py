"""Every dictionary form of the child words of the dictionary languages, read without loading
a dictionary.

simplemma's dictionaries map each form of a language to its lemma; loading them took most
of a server's start (Polish alone 3.5 s, ten languages about 10 s on 2 cores). The forms
whose lemma is a child word are few, so they are taken out once, here, into
`child_forms.json` beside this file (`python -m inference.policy.build_forms` writes it
again from simplemma's dictionaries; tests/inference/test_policy_languages.py checks it is current).
A word is then read as simplemma's dictionary lookup reads it: the word as typed, else with
its first letter's case turned;
a word typed without its accents ("ninos", "cocuklar") is matched by its folded form.

Per language the table holds:
- child: forms whose lemma is a child word (inference/policy/words.py);
- shared: those of them whose lemma is also an everyday English word ("kind", "barn");
- decoys: other words that differ from a child form only in case or accents (German
  "junge", an adjective, beside "Junge", a boy): read as typed, they are not child words.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from inference.policy.words import COMPOUND_TAIL, COMPOUNDING

TABLE = Path(__file__).resolve().parent / "child_forms.json"
TABLE_VERSION = 1
#: Letters without a decomposition that people type as their base letter.
_PLAIN = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe", "ð": "d",
                        "þ": "th"})  # fmt: skip


def fold(word: str) -> str:
    """`word` lower-cased, without accents, as typed on a plain keyboard: "Dziewczę" -> "dziewcze"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").translate(_PLAIN)


def turned_case(word: str) -> str:
    """simplemma's second try: lower-cased if it starts upper-case, else capitalised."""
    return word.lower() if word[:1].isupper() else word.capitalize()


@dataclass(frozen=True)
class Forms:
    """One language's child forms (see the module's docstring)."""

    child: frozenset[str]
    shared: frozenset[str]
    decoys: frozenset[str]
    folded: frozenset[str]  # fold() of each child form
    folded_shared: frozenset[str]
    tails: frozenset[str]  # folded forms that end a compound (COMPOUNDING languages; else none)

    def reading(self, word: str) -> str | None:
        """"child", "shared" (a child word also common in English) or None for one typed word."""
        for candidate in (word, turned_case(word)):
            if candidate in self.child:
                return "shared" if candidate in self.shared else "child"
            if candidate in self.decoys:
                return None
        folded = fold(word)
        if folded in self.folded:
            return "shared" if folded in self.folded_shared else "child"
        ends = (folded[start:] for start in range(1, len(folded) - COMPOUND_TAIL + 1))
        return "child" if self.tails and any(end in self.tails for end in ends) else None


@cache
def language_forms(language: str) -> Forms:
    """The table's forms of one dictionary language."""
    entry = table()["languages"][language]
    child, shared, decoys = frozenset(entry["child"]), frozenset(entry["shared"]), frozenset(entry["decoys"])
    folded = frozenset(fold(form) for form in child)
    folded_shared = frozenset(fold(form) for form in shared)
    # a compound's tail: a child form that is neither also an English word nor, folded, another word
    tails = folded - folded_shared - {fold(word) for word in decoys}
    tails = frozenset(t for t in tails if len(t) >= COMPOUND_TAIL) if language in COMPOUNDING else frozenset()
    return Forms(child, shared, decoys, folded, folded_shared, tails)


@cache
def table() -> dict:
    return json.loads(TABLE.read_text(encoding="utf-8"))
