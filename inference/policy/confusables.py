"""Letters that look alike across Latin, Cyrillic and Greek, from Unicode's
confusables data (UTS #39, as shipped by the `confusable-homoglyphs` package).

"сhild" with a Cyrillic с reads as "child" in Latin; "дeти" with a Latin e reads
as "дети" in Cyrillic. The policy reads every word in both directions, so a
disguise in either script is seen through.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from importlib.resources import files


def _script(char: str) -> str:
    """'LATIN', 'CYRILLIC', 'GREEK' or '' for one letter (from its Unicode name)."""
    name = unicodedata.name(char, "")
    return next((script for script in ("LATIN", "CYRILLIC", "GREEK") if name.startswith(script)), "")


def _is_basic(char: str, script: str) -> bool:
    """The plain letters people type: ASCII a-z, Cyrillic а-я/ё and Ukrainian і/ї/є/ґ."""
    if script == "LATIN":
        return char.isascii() and char.isalpha()
    return "\u0400" <= char <= "\u045f" or char in "ґҐ"


@cache
def _table(target: str) -> dict[int, str]:
    """str.translate table: letters of other scripts -> their look-alike basic `target` letter."""
    data = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table: dict[int, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or _script(char) not in ("LATIN", "CYRILLIC", "GREEK") or _script(char) == target:
            continue
        for entry in entries:
            other = entry["c"]
            if len(other) == 1 and _script(other) == target and _is_basic(other, target):
                table[ord(char)] = other
                break
    return table


def as_latin(text: str) -> str:
    """`text` with Cyrillic and Greek look-alikes of Latin letters replaced by them."""
    return text.translate(_table("LATIN"))


def as_cyrillic(text: str) -> str:
    """`text` with Latin and Greek look-alikes of Cyrillic letters replaced by them."""
    return text.translate(_table("CYRILLIC"))
