"""The content policy through the paths a user takes: SearchEngine.search, the CLI (its
own entry point, in process; test_engine runs it as a subprocess) and the app's API, for
child queries in other languages and as people disguise them. (The policy's readings
themselves: test_policy_languages.py and test_policy_disguises.py, which need no model.)"""

from __future__ import annotations

import json

import pytest
from child_queries import CHILD_QUERIES, DISGUISED, HARMLESS, TYPED_AS_PEOPLE_DO

from inference.policy import DISCLAIMER


@pytest.fixture(scope="module")
def engine(models_dir, tmp_path_factory, test_image_paths):
    import shutil

    from inference.models import SearchModels
    from inference.search import SearchEngine

    gallery = tmp_path_factory.mktemp("photos")
    for path in test_image_paths[:5]:
        shutil.copy(path, gallery / path.name)
    return SearchEngine(gallery, SearchModels(models_dir), tmp_path_factory.mktemp("index"), progress=False)


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


def test_the_app_shows_the_notice_and_refuses_through_its_api(engine, start_app):
    from gradio_client import Client

    from app import SearchApp

    items, status, _ = SearchApp(engine, engine.gallery / "uploads").search("собака бежит по снегу")
    assert "Searched in Russian" in status and items
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
