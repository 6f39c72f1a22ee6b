"""The Milvus store against a running Milvus standalone server (PyPI's `milvus`
package, started on a free loopback port by the fixture and stopped after): the
same answers as the local index, refreshes seen whole, two engines over one
server, and a server that goes away said in one line."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

milvus = pytest.importorskip("milvus")


from inference.engine.front import PhotoSearch  # noqa: E402
from inference.models.exported import SearchModels  # noqa: E402
from inference.store.milvus import MilvusRanker  # noqa: E402

QUERIES = ("a dog running on the grass", "people in the street", "a man climbing a rock")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A Milvus server on a loopback port for this module; nothing is left running."""
    instance = milvus.MilvusServer()
    instance.set_base_dir(str(tmp_path_factory.mktemp("milvus-server")))
    instance.listen_port = _free_port()
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


def _uri(server) -> str:
    # the package moves to the next free port when the one asked for is taken: read it back
    return f"http://127.0.0.1:{server.listen_port}"


def _cli_search(search_cli, query: str, gallery: Path, models: Path, *extra: str) -> tuple[int, str, str]:
    return search_cli("search", query, "--gallery", str(gallery), "--models", str(models), "--json", *extra)


def _names(engine: PhotoSearch, query: str) -> list[tuple[str, bool]]:
    return [(r.image.name, r.restricted) for r in engine.search(query, k=10).results]


def test_the_cli_gives_the_local_top_10_through_the_server(
    server, models_dir, uncaptioned_gallery, search_cli
):
    for query in QUERIES:
        code, local, _ = _cli_search(search_cli, query, uncaptioned_gallery, models_dir)
        assert code == 0
        code, remote, err = _cli_search(
            search_cli, query, uncaptioned_gallery, models_dir, "--store", f"milvus:{_uri(server)}"
        )
        assert code == 0, err
        assert json.loads(remote)["results"] == json.loads(local)["results"]
        assert len(json.loads(remote)["results"]) == 10


def test_a_refresh_through_the_server_answers_as_a_fresh_local_index(
    server, models_dir, uncaptioned_gallery, tmp_path
):
    models = SearchModels(models_dir)
    store = _uri(server)
    remote = PhotoSearch(models, index_dir=tmp_path / "remote", store=store).ensure_index(uncaptioned_gallery)
    photos = sorted(uncaptioned_gallery.glob("*.jpg"))
    photos[0].unlink()  # removed
    shutil.copy(photos[3], uncaptioned_gallery / "added.jpg")  # added
    with Image.open(photos[4]) as picture:  # changed: the picture turned on its side, same name
        picture.transpose(Image.Transpose.ROTATE_90).save(photos[4])
    remote.refresh(progress=False)
    local = PhotoSearch(models, index_dir=tmp_path / "local").ensure_index(uncaptioned_gallery)
    for query in QUERIES:
        assert _names(remote, query) == _names(local, query)
    assert photos[0].name not in {name for q in QUERIES for name, _ in _names(remote, q)}
    ranker = remote.view.parts[0].ranker
    assert isinstance(ranker, MilvusRanker)
    assert ranker.stale == [] and len(ranker.row_of) == len(list(uncaptioned_gallery.glob("*.jpg")))


def test_two_engines_over_one_server_see_the_same_gallery(server, models_dir, uncaptioned_gallery, tmp_path):
    models = SearchModels(models_dir)
    first, second = (
        PhotoSearch(models, index_dir=tmp_path / name, store=_uri(server)).ensure_index(uncaptioned_gallery)
        for name in ("first", "second")
    )
    ranker = second.view.parts[0].ranker
    assert isinstance(ranker, MilvusRanker) and ranker.written == 0  # the first engine's rows served both
    for query in QUERIES:
        assert _names(first, query) == _names(second, query)
    shutil.copy(sorted(uncaptioned_gallery.glob("*.jpg"))[2], uncaptioned_gallery / "new.jpg")
    first.refresh(progress=False)
    second.refresh(progress=False)
    for query in QUERIES:
        assert _names(first, query) == _names(second, query)
    assert first.search("a dog", k=100).results and len(first.view.paths) == len(second.view.paths)


def _restart(server) -> None:
    """Stop and start the server on the port it had. The package probes a port by binding it
    without SO_REUSEADDR, so a port whose connections linger in TIME_WAIT looks taken and it
    would move on; Milvus itself (Go) rebinds with SO_REUSEADDR, as the probe does here."""
    port = server.listen_port
    server.stop()

    def bind_like_milvus(candidate: int) -> socket.socket | None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", candidate))
        except OSError:
            sock.close()
            return None
        return sock

    server.config.try_bind_port = bind_like_milvus
    server.listen_port = port
    server.start()
    assert server.listen_port == port


def test_a_stopped_server_is_one_line_everywhere_and_the_app_answers_once_it_restarts(
    server, models_dir, uncaptioned_gallery, tmp_path, search_cli
):
    """Last in this module: it stops the server (and starts it again). One engine is built, while
    the server runs: an engine built just after a restart waits ~20 s for the server's clock."""
    from inference.store.milvus import StoreError
    from webapp.app import SearchApp

    uploads = tmp_path / "uploads"
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "i", store=_uri(server)).ensure_index(
        uncaptioned_gallery, uploads
    )
    app = SearchApp(engine, uploads)
    before = app.search("a dog", 5, 0.0)
    assert len(before[0]) == 5
    server.stop()
    items, status, _ = app.search("a dog", 5, 0.0)
    assert items == [] and status.startswith(f"**Error:** the Milvus store at {_uri(server)} cannot be")
    code, out, err = _cli_search(
        search_cli, "a dog", uncaptioned_gallery, models_dir, "--store", f"milvus:{_uri(server)}"
    )
    assert code == 2 and out == "" and err.count("\n") <= 2 and "Traceback" not in err
    assert err.startswith(f"error: the Milvus store at {_uri(server)} cannot be reached")
    with pytest.raises(StoreError, match="cannot be reached"):
        engine.search("a dog")
    with pytest.raises(StoreError, match="cannot be reached"):
        shutil.copy(sorted(uncaptioned_gallery.glob("*.jpg"))[1], uncaptioned_gallery / "during.jpg")
        engine.refresh(progress=False)
    _restart(server)
    # the first search after the start answers (no app restart, no retry loop) from the view
    # the failed refresh left; a restarted server holds Bounded reads ~20 s, the store reads
    # its persisted rows after 3 s
    items, status, shown = app.search("a dog", 5, 0.0)
    assert status == before[1] and shown == before[2]
