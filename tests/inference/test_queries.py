"""Whatever people paste into the search box gets an answer or one clear error."""

from pathlib import Path

import pytest

from inference.engine.front import PhotoSearch
from inference.models.exported import SearchModels
from inference.models.text import MAX_TOKENS


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


ODD_QUERIES = [
    "dog " * 2500,  # 10,000 characters
    "🐕🐕 in the ❄️ snow 😀",
    "a dog\x00 on\x1b[31m grass\u202e",  # control and bidi characters
    "собака бежит по траве",  # Russian
    "犬が雪の中で遊んでいる",  # Japanese
    "un chien qui court 🐶 на траве",  # mixed scripts
    "\U0001f600",  # a lone emoji
]


@pytest.fixture(scope="module")
def engine(models_dir, test_image_paths, tmp_path_factory):
    gallery = tmp_path_factory.mktemp("gallery")
    for path in test_image_paths[:5]:
        (gallery / path.name).symlink_to(path)
    return PhotoSearch(SearchModels(models_dir), index_dir=tmp_path_factory.mktemp("index")).ensure_index(
        gallery
    )


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_odd_queries_get_ranked_answers(engine, query):
    response = engine.search(query, k=3)
    assert not response.restricted and len(response.results) == 3
    if response.language is None:  # English (or unclear): calibrated probabilities
        assert all(r.score is not None and 0.0 <= r.score <= 1.0 for r in response.results)
    else:  # a language the model cannot read: ranked, with a notice and no probability
        assert response.notice and all(r.score is None for r in response.results)


def test_only_the_queries_in_other_languages_get_the_notice(engine):
    languages = [engine.search(query, k=1).language for query in ODD_QUERIES]
    assert languages[3] == "ru" and languages[4] is not None and languages[5] is not None
    assert languages[0] is None and languages[1] is None


def test_long_query_is_cut_to_the_tokenizer_limit(engine):
    tokens = engine.models.tokenizer(["dog " * 2500, "a cat"])
    limit = engine.models.manifest.preprocessing.max_tokens  # MiniLM's 256, CLIP's 77
    assert tokens["input_ids"].shape == (2, limit) and limit <= MAX_TOKENS
    assert tokens["attention_mask"][1].sum() < 10  # the short one is padding after its few tokens


def test_cli_answers_a_10000_character_query(models_dir, small_gallery, search_cli):
    args = ["search", "dog " * 2500, "--gallery", str(small_gallery), "--models", str(models_dir), "--json"]
    code, _, err = search_cli(*args)
    assert code == 0, err[-500:]
