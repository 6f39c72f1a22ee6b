"""The content policy through the paths a user takes: PhotoSearch.search, the CLI (its
own entry point, in process; test_engine runs it as a subprocess) and the app's API, for
child queries in other languages and as people disguise them. (The policy's readings
themselves: test_policy_languages.py and test_policy_disguises.py, which need no model.)"""

from __future__ import annotations

import json

import pytest
from child_queries import (
    CHILD_QUERIES,
    DISGUISED,
    HARMLESS,
    HARMLESS_NEW_LANGUAGES,
    NEW_LANGUAGES,
    TYPED_AS_PEOPLE_DO,
    UNREADABLE,
)

from inference.engine.front import PhotoSearch
from inference.policy import DISCLAIMER


@pytest.fixture(scope="module")
def engine(models_dir, tmp_path_factory, test_image_paths):
    import shutil

    from inference.models.exported import SearchModels

    gallery = tmp_path_factory.mktemp("photos")
    for path in test_image_paths[:5]:
        shutil.copy(path, gallery / path.name)
    return PhotoSearch(SearchModels(models_dir), index_dir=tmp_path_factory.mktemp("index")).ensure_index(
        gallery
    )


@pytest.mark.parametrize("query", CHILD_QUERIES + DISGUISED)
def test_search_refuses_them(engine, query):
    response = engine.search(query)
    assert response.restricted and response.results == [] and response.message == DISCLAIMER


def test_cli_refuses_them(engine, search_cli):
    where = ["--gallery", str(engine.gallery), "--models", str(engine.models.dir), "--json"]
    for query in CHILD_QUERIES + DISGUISED:
        code, out, _ = search_cli("search", query, *where)
        response = json.loads(out)
        assert code == 0 and response["restricted"] and response["results"] == [], query


def test_a_russian_query_is_searched_with_a_notice_and_no_probabilities(engine):
    response = engine.search("собака бежит по снегу", k=3).to_json()
    assert not response["restricted"] and len(response["results"]) == 3
    assert response["language"] == "ru" and response["notice"].startswith("Searched in Russian")
    assert "Russian" in response["notice"]
    assert all(r["score"] is None for r in response["results"])
    english = engine.search("a dog runs through the snow", k=3).to_json()
    assert english["language"] is None and (english["notice"] is None or english["weak"])
    assert all(0 <= r["score"] <= 1 for r in english["results"])


@pytest.mark.parametrize(
    ("query", "name"),
    [("两只狗在雪地里玩", "Chinese"), ("雪の中で遊ぶ犬", "Japanese"), ("눈 속에서 노는 개", "Korean"),
     ("كلب يلعب في الثلج", "Arabic"), ("สุนัขเล่นในหิมะ", "Thai"), ("een hond in de sneeuw", "Dutch")],
)  # fmt: skip
def test_every_language_the_search_reads_is_named_in_its_notice(engine, query, name):
    response = engine.search(query, k=3)
    assert not response.restricted and len(response.results) == 3
    assert response.language is not None and response.notice is not None
    assert response.notice.startswith(f"Searched in {name}. Match probabilities are shown for English")


def test_the_app_shows_the_notice_and_refuses_through_its_api(engine, start_app):
    from gradio_client import Client

    from webapp.app import SearchApp

    app = SearchApp(engine, engine.gallery / "uploads")
    items, status, _ = app.search("собака бежит по снегу")
    assert "Searched in Russian" in status and items
    # a query in another language has no probability to cut: it says so, and shows its ranking
    items, status, _ = app.search("собака бежит по траве", 10, 1.0)
    assert items and "cut-off does not apply" in status and "Searched in Russian" in status
    items, status, _ = app.search("собака бежит по траве", 10, 0.0)
    assert items and "cut-off" not in status
    client = Client(start_app(engine.gallery), verbose=False)
    for query in CHILD_QUERIES + DISGUISED:
        items = client.predict(query, api_name="/search")
        assert [item["caption"] for item in items] == [DISCLAIMER], query


def test_the_cli_and_the_engine_refuse_disguised_queries(engine, search_cli):
    where = ["--gallery", str(engine.gallery), "--models", str(engine.models.dir), "--json"]
    for query in TYPED_AS_PEOPLE_DO[:6]:  # the six, through the CLI's own code
        code, out, _ = search_cli("search", query, *where)
        response = json.loads(out)
        assert code == 0 and response["restricted"] and response["results"] == [], query
        assert response["message"] == DISCLAIMER, query
    for query in TYPED_AS_PEOPLE_DO:
        assert engine.search(query).restricted, query
    for query in HARMLESS[:3]:
        assert not engine.search(query).restricted, query


def _cli_json(search_cli, engine, query: str) -> dict:
    where = ["--gallery", str(engine.gallery), "--models", str(engine.models.dir), "--json"]
    code, out, _ = search_cli("search", query, *where)
    assert code == 0, query
    return json.loads(out)


def test_the_cli_refuses_child_queries_in_every_language_it_reads(engine, search_cli):
    for query in NEW_LANGUAGES:  # the list, one more of ours per language, and 👧
        response = _cli_json(search_cli, engine, query)
        assert response["restricted"] and response["results"] == [], query
        assert response["refusal"] in ("words", "semantic") and response["message"] == DISCLAIMER, query


def test_harmless_queries_in_those_languages_are_searched_and_answered(engine):
    for query in HARMLESS_NEW_LANGUAGES:
        response = engine.search(query, k=3)
        assert not response.restricted and len(response.results) == 3, (query, response.refusal)


def test_a_script_no_reading_covers_is_refused_with_one_line_through_the_cli(engine, search_cli):
    for query in UNREADABLE:
        response = _cli_json(search_cli, engine, query)
        assert response["restricted"] and response["results"] == [] and response["refusal"] == "script"
        assert "\n" not in response["message"] and "script are not available" in response["message"]
    where = ["--gallery", str(engine.gallery), "--models", str(engine.models.dir)]
    code, out, _ = search_cli("search", "ძაღლი", *where)
    assert code == 0 and out.startswith("Searches in Georgian script are not available")


def test_the_app_refuses_them_through_its_api_and_names_an_unreadable_script(engine, start_app):
    from gradio_client import Client

    client = Client(start_app(engine.gallery), verbose=False)
    for query in NEW_LANGUAGES[:6] + ["👧 on a swing"]:
        assert [item["caption"] for item in client.predict(query, api_name="/search")] == [DISCLAIMER], query
    captions = [item["caption"] for item in client.predict("ძაღლი თოვლში", api_name="/search")]
    assert len(captions) == 1 and captions[0].startswith("Searches in Georgian script")
    assert len(client.predict("雪の中の犬", api_name="/search")) == 5  # Japanese is read: all 5 photos


def test_the_semantic_net_refuses_what_the_words_let_through(engine, models_dir):
    """A net that reads every query as about a child (threshold 0): the engine refuses a harmless
    English query by it, after embedding, and evaluation counts it; Swedish is left to the words."""
    import dataclasses

    from inference.models.exported import SearchModels

    models = SearchModels(models_dir)
    assert models.query_net is not None  # training fitted it, export carried it
    models.query_net = dataclasses.replace(models.query_net, threshold=0.0)
    strict = PhotoSearch(models, index_dir=engine.index_dir).ensure_index(engine.gallery)
    response = strict.search("a dog runs through the snow")
    assert response.restricted and response.refusal == "semantic" and response.message == DISCLAIMER
    assert not strict.search("en hund i snön").restricted
    assert strict.searchable(["a dog", "kids"]) == [False, False]
    assert engine.searchable(["a dog runs through the snow", "kids"]) == [True, False]
