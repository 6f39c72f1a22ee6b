"""File and folder names read as words: a photo whose name names a child is withheld, as one
whose caption does ("kids party/IMG_2041.jpg", "Geburtstag_Kinder.jpg"). A name only adds a
withhold: a photo without a caption stays with the detector, whatever its name says."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from inference.policy.readings import is_restricted_text

_SEPARATORS = re.compile(r"[\W_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def name_text(part: str) -> str:
    """A file or folder name as words: separators and camel case split ("kidsParty_2019" ->
    "kids Party 2019"); a file's suffix is not a word."""
    return " ".join(_SEPARATORS.sub(" ", _CAMEL.sub(" ", part)).split())


def name_parts(name: str) -> list[str]:
    """A gallery-relative path's folder names and file stem ("a/b/c.jpg" -> ["a", "b", "c"]), split
    as strings: a PurePosixPath per photo costs seconds over a million names."""
    *folders, file = name.split("/")
    return [*folders, file.rsplit(".", 1)[0] if "." in file[1:] else file]


@lru_cache(maxsize=65_536)
def _restricted_part(part: str) -> bool:
    # a library's folders repeat in every name under them: each is read once
    return is_restricted_text(name_text(part))


def restricted_names(names: Sequence[str]) -> np.ndarray:
    """[n] bool: whether each gallery-relative name has a folder or file name that names a child."""
    return np.array([any(_restricted_part(part) for part in name_parts(name)) for name in names], dtype=bool)
