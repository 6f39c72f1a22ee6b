"""Milvus as the vector store (`--store milvus:...`), against a real milvus-lite: the same
answers as the local store, incremental syncs, old-or-new views, the policy flag stored."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("milvus_lite")


from inference.engine.front import PhotoSearch  # noqa: E402
from inference.models.exported import SearchModels  # noqa: E402
from inference.store.milvus import (  # noqa: E402
    MilvusRanker,
    StoreError,
    parse_store,
    reaching,
)
from inference.store.vectors import Int8Rows  # noqa: E402


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


def _search(search_cli, query: str, gallery: Path, models: Path, *extra: str) -> dict:
    """The CLI's JSON answer, called in this process (tests/inference/test_engine.py runs the real one)."""
    code, out, err = search_cli(
        "search", query, "--gallery", str(gallery), "--models", str(models), "--json", *extra
    )
    assert code == 0, err
    return json.loads(out)


def _same_up_to_ties(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> None:
    """Same scores in order; where two images tie, either may come first."""
    assert [round(s, 5) for _, s in ours] == [round(s, 5) for _, s in theirs]
    for score in {round(s, 5) for _, s in ours}:
        assert {n for n, s in ours if round(s, 5) == score} == {n for n, s in theirs if round(s, 5) == score}


def test_cli_search_on_milvus_lite_answers_as_the_local_store(
    models_dir, small_gallery, tmp_path, search_cli
):
    store = f"milvus:{tmp_path / 'store' / 'gallery.db'}"
    for query in ("a dog running on the grass", "people in the street"):
        local = _search(search_cli, query, small_gallery, models_dir, "--policy", "off")
        milvus = _search(search_cli, query, small_gallery, models_dir, "--policy", "off", "--store", store)
        assert milvus["results"] == local["results"]
    assert (tmp_path / "store" / "gallery.db").exists()


def test_every_test_query_gets_the_local_top_10(models_dir, data_dir, tmp_path):
    """The whole test set: 70 images, every query, through both stores."""
    from inference.data.dataset import load_test_set

    test = load_test_set(data_dir)
    models = SearchModels(models_dir)
    local = PhotoSearch(models, index_dir=tmp_path / "index", policy="off").ensure_index(test.image_dir)
    store = str(tmp_path / "g.db")
    milvus = PhotoSearch(models, index_dir=tmp_path / "index", policy="off", store=store).ensure_index(
        test.image_dir
    )
    texts = test.queries["query_text"].tolist()
    vectors = models.embed_texts(texts)
    for vector in vectors:
        ours, theirs = local.view.top(vector, 10), milvus.view.top(vector, 10)
        scores = [local.view.parts[0].vectors[list(rows)] @ vector for rows in (ours, theirs)]
        _same_up_to_ties(
            [(str(r), float(s)) for r, s in zip(ours, scores[0], strict=True)],
            [(str(r), float(s)) for r, s in zip(theirs, scores[1], strict=True)],
        )


def _stored(store: str, name: str) -> dict[str, bool]:
    from pymilvus import MilvusClient

    from inference.store.milvus import _client

    client: MilvusClient = _client(store)
    client.load_collection(name)
    rows = client.query(name, filter="", output_fields=["path", "restricted"], limit=1000)
    return {Path(row["path"]).name: row["restricted"] for row in rows}


def _collection(engine: PhotoSearch) -> str:
    """The shared collection the engine's first folder is stored in."""
    ranker = engine.view.parts[0].ranker
    assert isinstance(ranker, MilvusRanker)
    return ranker.name


def test_a_refresh_writes_only_what_changed_and_deletes_what_is_gone(models_dir, small_gallery, tmp_path):
    models, store = SearchModels(models_dir), str(tmp_path / "g.db")
    engine = PhotoSearch(models, index_dir=tmp_path / "index", store=store).ensure_index(small_gallery)
    name = _collection(engine)
    first = engine.view.parts[0].ranker
    assert isinstance(first, MilvusRanker) and first.written == 6
    assert set(_stored(store, name)) == {p.name for p in small_gallery.iterdir()}

    photos = sorted(small_gallery.iterdir())
    photos[0].unlink()  # deleted
    shutil.copy(photos[2], small_gallery / "copy.jpg")  # new
    os.utime(photos[1], ns=(1, 1))  # touched: re-embedded, same vector, same row
    engine.refresh(progress=False)
    second = engine.view.parts[0].ranker
    assert isinstance(second, MilvusRanker) and second.written == 1
    assert set(_stored(store, name)) == {p.name for p in small_gallery.iterdir()}


def test_the_policy_flag_is_stored_with_each_row(models_dir, small_gallery, tmp_path):
    (small_gallery / "captions.csv").write_text(
        "image,caption\n"
        + "\n".join(f"{p.name},a child on a swing" for p in sorted(small_gallery.iterdir())[:2])
    )
    models, store = SearchModels(models_dir), str(tmp_path / "g.db")
    engine = PhotoSearch(models, index_dir=tmp_path / "index", store=store).ensure_index(small_gallery)
    stored = _stored(store, _collection(engine))
    view = engine.view
    assert stored == {p.name: bool(r) for p, r in zip(view.paths, view.restricted, strict=True)}
    assert sum(stored.values()) >= 2


def test_two_galleries_share_one_collection_and_never_see_each_other(models_dir, test_image_paths, tmp_path):
    from inference.engine.view import GalleryView

    models, store = SearchModels(models_dir), str(tmp_path / "g.db")
    galleries = []
    for name, photos in (("a", test_image_paths[:8]), ("b", test_image_paths[8:16])):
        galleries.append(tmp_path / name)
        galleries[-1].mkdir()
        for photo in photos:
            shutil.copy(photo, galleries[-1] / photo.name)
    engines = [
        PhotoSearch(models, index_dir=tmp_path / "index", store=store, policy="off").ensure_index(gallery)
        for gallery in galleries
    ]
    both = _stored(store, _collection(engines[0]))
    assert len(both) == 16  # one collection holds both galleries' rows
    for engine, gallery in zip(engines, galleries, strict=True):
        assert isinstance(engine.view, GalleryView)
        ranker = engine.view.parts[0].ranker
        assert isinstance(ranker, MilvusRanker)
        with reaching(store):  # straight from the store: the gallery's own rows, and all of them
            rows = ranker.client.query(ranker.name, filter=ranker.filter, output_fields=["path"], limit=100)
        assert {Path(row["path"]).parent for row in rows} == {gallery}
        assert len(rows) == 8
        shown = engine.search("a dog", k=16).results
        assert len(shown) == 8 and {r.image.parent for r in shown} == {gallery}


def test_a_release_or_revoke_changes_what_the_store_returns(models_dir, uncaptioned_gallery, tmp_path):
    models, store = SearchModels(models_dir), str(tmp_path / "g.db")
    engine = PhotoSearch(models, index_dir=tmp_path / "index", store=store).ensure_index(uncaptioned_gallery)
    queue = engine.review()
    if not queue:
        pytest.skip("the tiny detector withholds none of these photos")
    name = _collection(engine)
    photo = queue[0].name
    assert _stored(store, name)[photo] is True
    engine.release([photo])
    engine.search("a dog")  # the next search decides again and writes the flag
    assert _stored(store, name)[photo] is False
    engine.release([photo], revoke=True)
    engine.search("a dog")
    assert _stored(store, name)[photo] is True


def test_credentials_go_to_the_server_and_never_into_a_message(monkeypatch):
    """At the boundary: what pymilvus's client is given, and what an error says."""
    import pymilvus

    from inference.store import milvus

    given: dict = {}

    class Refusing:
        def __init__(self, uri, **credentials):
            given.update(uri=uri, **credentials)

        def has_collection(self, name):
            raise ConnectionError("auth failed for user root with s3cret")

    monkeypatch.setattr(pymilvus, "MilvusClient", Refusing)
    milvus._client.cache_clear()
    uri = "http://root:s3cret@127.0.0.1:19530"
    with pytest.raises(StoreError) as raised:
        MilvusRanker(uri, "c", "g", [Path("/p/a.jpg")], Int8Rows.quantize(np.ones((1, 4), np.float32)),
                     np.zeros(1, bool), [None])  # fmt: skip
    assert given == {"uri": "http://127.0.0.1:19530", "user": "root", "password": "s3cret"}
    assert "s3cret" not in str(raised.value) and "127.0.0.1:19530" in str(raised.value)
    milvus._client.cache_clear()
    monkeypatch.setenv("MILVUS_TOKEN", "tok-123")
    with pytest.raises(StoreError) as raised:
        MilvusRanker("http://10.0.0.1:19530", "c", "g", [Path("/p/a.jpg")],
                     Int8Rows.quantize(np.ones((1, 4), np.float32)), np.zeros(1, bool), [None])  # fmt: skip
    assert given["token"] == "tok-123" and "tok-123" not in str(raised.value)
    milvus._client.cache_clear()


def test_a_search_sees_the_old_state_or_the_new_one(tmp_path):
    """Between a sync and `retire`, one collection holds two states' rows; each view
    finds its own k best, never the other state's rows."""
    store, rng = str(tmp_path / "g.db"), np.random.default_rng(0)
    old = rng.normal(size=(40, 16)).astype(np.float32)
    new = np.concatenate([old[:30], rng.normal(size=(15, 16)).astype(np.float32)])  # 10 gone, 15 new
    paths_old = [Path(f"/p/{i}.jpg") for i in range(40)]
    paths_new = paths_old[:30] + [Path(f"/p/new{i}.jpg") for i in range(15)]
    rows_old, rows_new = Int8Rows.quantize(old), Int8Rows.quantize(new)
    before = MilvusRanker(store, "states", "g", paths_old, rows_old, np.zeros(40, bool), [None] * 40)
    after = MilvusRanker(store, "states", "g", paths_new, rows_new, np.zeros(45, bool), [None] * 45)
    assert after.written == 15 and len(after.stale) == 10
    for query in rng.normal(size=(5, 16)).astype(np.float32):
        for ranker, rows in ((before, rows_old), (after, rows_new)):
            expected = np.argsort(-(rows[:] @ query), kind="stable")[:12]
            np.testing.assert_array_equal(ranker.top(query, 12), expected)
    after.retire()
    query = rng.normal(size=16).astype(np.float32)
    np.testing.assert_array_equal(after.top(query, 45), np.argsort(-(rows_new[:] @ query), kind="stable"))


def test_a_bad_store_value_is_one_clear_line(models_dir, small_gallery, search_cli):
    code, _, err = search_cli(
        "search", "a dog", "--gallery", str(small_gallery), "--models", str(models_dir), "--store", "redis:x"
    )
    assert code == 2
    assert err.strip().splitlines() == [
        "error: --store 'redis:x': expected 'local', 'milvus:FILE.db' or 'milvus:http://HOST:19530'"
    ]
    assert parse_store("local") is None and parse_store(None) is None
    with pytest.raises(StoreError):
        parse_store("milvus:")


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_store_that_cannot_be_reached_is_one_line_not_a_traceback(
    models_dir, small_gallery, tmp_path, capsys
):
    from inference.cli import main

    store = f"http://127.0.0.1:{_closed_port()}"
    args = ["search", "a dog", "--gallery", str(small_gallery), "--models", str(models_dir), "--json"]
    assert main([*args, "--store", f"milvus:{store}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"error: the Milvus store at {store} cannot be reached")
    assert "--store local" in captured.err  # what to do
    # a store lost after start-up: the search says so in one line, and the app's page shows it
    from webapp.app import SearchApp

    lite = str(tmp_path / "lite.db")
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index", store=lite).ensure_index(
        small_gallery
    )
    assert engine.search("a dog").results
    for part in engine.view.parts:
        part.ranker.uri = store  # type: ignore[attr-defined]  # as if the server went away
    with pytest.raises(StoreError, match="cannot be reached"):
        engine.search("a dog")
    items, status, _ = SearchApp(engine, tmp_path / "uploads").search("a dog")
    assert items == [] and status.startswith("**Error:** the Milvus store at")


def test_the_app_serves_from_milvus_lite_as_from_local_files(start_app, small_gallery, tmp_path):
    from gradio_client import Client

    answers = []
    for args in ((), ("--store", f"milvus:{tmp_path / 'app.db'}")):
        client = Client(start_app(small_gallery, *args), verbose=False)
        answers.append([item["caption"] for item in client.predict("a dog in the grass", api_name="/search")])
    assert answers[0] and answers[1] == answers[0]
    assert (tmp_path / "app.db").exists()


@pytest.mark.parametrize(
    ("code", "message", "held"),
    [
        # a restarted server holding Bounded reads: its deadline, wrapped by pymilvus's retries
        (65535, "[search] Retry timeout: 3.0s, message=proxy TaskCondition context Done", True),
        ("DEADLINE_EXCEEDED", "[search] Retry timeout: 3.0s, Deadline Exceeded", True),
        ("UNAVAILABLE", "[search] Retry timeout: 3.0s, failed to connect to all addresses", False),
        (100, "collection not found[collection=gallery_0]", False),
    ],
)
def test_a_search_held_past_its_deadline_is_told_from_a_failed_one(code, message, held):
    """Held: the store reads the rows the server has (inference/store/milvus.py _search);
    anything else is said in one line."""
    from grpc import StatusCode
    from pymilvus.exceptions import MilvusException

    from inference.store.milvus import _held

    code = getattr(StatusCode, code) if isinstance(code, str) else code
    assert _held(MilvusException(code=code, message=message)) is held


def test_the_approximate_store_re_ranks_its_candidates_with_the_full_vectors(tmp_path):
    """Candidates from the projection's HNSW index, re-ranked with the full codes stored beside
    each: the order of what comes back is exact, and the exact top 10 is found."""
    from inference.store.milvus import MilvusApproximateRanker
    from inference.store.projection import Projection

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 64)).astype(np.float32)
    vectors = centres[rng.integers(0, 30, 3000)] + 0.3 * rng.normal(size=(3000, 64)).astype(np.float32)
    rows = Int8Rows.quantize(vectors)
    projection = Projection.fit(rows[:], dim=48)
    paths = [Path(f"/p/{i}.jpg") for i in range(3000)]
    ranker = MilvusApproximateRanker(
        str(tmp_path / "g.db"), "approx", "g", paths, rows, np.zeros(3000, bool), [None] * 3000,
        projection=projection,
    )  # fmt: skip
    exact, found = rows[:], []
    for query in rng.normal(size=(20, 64)).astype(np.float32):
        top = ranker.top(query, 10)
        scores = exact[top] @ query
        assert np.all(np.diff(scores) <= 1e-6)  # re-ranked: best first by the full score
        found.append(len(set(top.tolist()) & set(top_k_rows(exact, query))) / 10)
    assert np.mean(found) >= 0.95


def top_k_rows(vectors: np.ndarray, query: np.ndarray) -> list[int]:
    return np.argsort(-(vectors @ query), kind="stable")[:10].tolist()
