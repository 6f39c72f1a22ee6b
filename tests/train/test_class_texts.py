"""The label bridge's class texts: WordNet's lemmas and glosses from timm's data files."""

from __future__ import annotations

from importlib import resources

import pytest

from train import class_texts as module
from train.encoders import imagenet_class_names

TABBY = 281  # ImageNet-1k logit order


def test_every_class_has_its_name_synonyms_and_gloss():
    texts = module.class_texts()
    names = imagenet_class_names()
    assert len(texts) == len(names) == 1000
    assert all(any(name in text for text in own) for name, own in zip(names, texts, strict=True))
    assert "a photo of a tabby cat." in texts[TABBY]
    assert texts[TABBY][-1] == "a photo of a tabby, a cat with a grey or tawny coat mottled with black."


def test_without_timm_the_class_names_serve(monkeypatch, capsys):
    def missing(package):
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(resources, "files", missing)
    texts = module.class_texts()
    assert texts[TABBY] == [template.format("tabby") for template in module.TEMPLATES]
    assert "timm not installed" in capsys.readouterr().err


@pytest.mark.parametrize("synonyms", [["tench", "Tinca tinca"], ["Tench"]])
def test_the_name_is_not_repeated_among_synonyms(synonyms):
    texts = module._wordnet_texts("tench", synonyms, "a fish")
    assert sum(text == "a photo of a tench." for text in texts) == 1
