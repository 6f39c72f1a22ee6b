"""Texts describing each ImageNet class, for the label bridge's class embeddings.

Class names alone are often words a sentence encoder barely knows ("tabby",
"tench"). timm ships WordNet's lemmas and glosses for the 1,000 classes in its
wheel (`timm/data/_info`), offline: "tabby, tabby cat: a cat with a grey or
tawny coat mottled with black". Without timm, torchvision's class names serve.
"""

from __future__ import annotations

import sys
from importlib import resources

from train.encoders import imagenet_class_names

TEMPLATES = (
    "a photo of a {}.",
    "a picture of a {}.",
    "a {} in the scene.",
)
SYNONYMS = 3  # WordNet lemmas after the first: a few classes list ten, mostly Latin names


def _wordnet_info() -> tuple[list[list[str]], list[str]] | None:
    """(lemmas per class, gloss per class) in ImageNet-1k order, or None without timm."""
    try:
        info = resources.files("timm") / "data" / "_info"
        synsets = (info / "imagenet_synsets.txt").read_text().split()
        lemmas = dict(_tab_rows((info / "imagenet_synset_to_lemma.txt").read_text()))
        glosses = dict(_tab_rows((info / "imagenet_synset_to_definition.txt").read_text()))
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    return [lemmas[s].split(", ") for s in synsets], [glosses[s] for s in synsets]


def _tab_rows(text: str) -> list[tuple[str, str]]:
    return [tuple(line.split("\t", 1)) for line in text.splitlines() if "\t" in line]  # type: ignore[misc]


def class_texts() -> list[list[str]]:
    """Per ImageNet class (1,000, in logit order), the texts whose mean embedding stands for it."""
    names = imagenet_class_names()
    info = _wordnet_info()
    if info is None:
        print("label bridge: class names only (timm not installed)", file=sys.stderr)
        return [[t.format(name) for t in TEMPLATES] for name in names]
    return [_wordnet_texts(*row) for row in zip(names, *info, strict=True)]


def _wordnet_texts(name: str, synonyms: list[str], gloss: str) -> list[str]:
    """Each template with the name and up to 3 WordNet synonyms, and one sentence with the gloss.
    Measured on validation (README): the gloss lifted the beyond-Flickr dev set most."""
    words = [name] + [w for w in synonyms[:SYNONYMS] if w.casefold() != name.casefold()]
    return [t.format(w) for w in words for t in TEMPLATES] + [f"a photo of a {name}, {gloss}."]
