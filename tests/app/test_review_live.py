"""Releases are state every process obeys at once: an app serving a gallery in its own process,
and the CLI (another process) revoking a release or a caption file written beside the photos.
On the app's next request its search, its `/search` API and find-similar withhold the photo, and
its thumbnail URL answers 404."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inference.cli import main as cli
from inference.engine.front import PhotoSearch
from inference.models.exported import SearchModels
from inference.policy import DISCLAIMER
from webapp.app import SearchApp, thumbnails_folder
from webapp.tiles import _key


@pytest.fixture()
def photos(test_image_paths, tmp_path) -> Path:
    """Eight test photos nobody captioned (the API answers ten: every one comes back)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in test_image_paths[:8]:
        shutil.copy(path, folder / path.name)
    return folder


def _api(client) -> tuple[set[str], int]:
    """(the names of the photos `/search` shows, how many it withholds): a shown photo's caption
    ends with its name, a withheld one is the disclaimer tile, which names nothing."""
    captions = [item["caption"] for item in client.predict("people", api_name="/search")]
    shown = {caption.rsplit(" · ", 1)[1] for caption in captions if caption != DISCLAIMER}
    return shown, captions.count(DISCLAIMER)


def _thumbnail_status(url: str, folder: Path, photo: Path) -> int:
    """HTTP status of the app's public thumbnail of `photo` (named by its path, size and mtime)
    in its thumbnail `folder`."""
    stat = photo.stat()
    file = folder.resolve() / f"{_key(photo, stat.st_size, stat.st_mtime_ns)}.jpg"
    try:
        with urllib.request.urlopen(f"{url}gradio_api/file={file}", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_revoke_and_a_caption_by_another_process_are_obeyed_at_once(
    start_app, photos, models_dir, tmp_path
):
    from gradio_client import Client

    url = start_app(photos)
    # the app's own thumbnail folder: its gallery and its uploads (conftest: uploads-0, its first app)
    thumbnails = models_dir / "index" / thumbnails_folder("strict", [photos, tmp_path / "uploads-0"])
    client = Client(url, verbose=False)
    allowed, hidden = _api(client)
    assert allowed and hidden and len(allowed) + hidden == 8  # the detector withholds some, not all
    # a long-lived engine in this process, as another app would hold one (find-similar below)
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(photos)
    here = SearchApp(engine, tmp_path / "uploads")
    name = engine.review()[0].name
    where = ["review", "--gallery", str(photos), "--models", str(models_dir)]

    assert cli([*where, "--release", name]) == 0  # the CLI: another process's word
    assert _api(client) == (allowed | {name}, hidden - 1)  # shown now, its thumbnail made
    assert _thumbnail_status(url, thumbnails, photos / name) == 200
    assert not _withheld_everywhere(here, photos / name)

    assert cli([*where, "--revoke", name]) == 0
    assert _api(client) == (allowed, hidden)  # the next request obeys the revoke
    assert _thumbnail_status(url, thumbnails, photos / name) == 404  # its public thumbnail is gone
    assert _withheld_everywhere(here, photos / name)

    # a caption naming a child, written beside the photos by anyone: the same at once
    victim = sorted(allowed)[0]
    assert _thumbnail_status(url, thumbnails, photos / victim) == 200
    (photos / "captions.csv").write_text(f"image,caption\n{victim},a little girl on a swing\n")
    assert _thumbnail_status(url, thumbnails, photos / victim) == 404  # even before any search
    assert _api(client) == (allowed - {victim}, hidden + 1)
    assert _withheld_everywhere(here, photos / victim)


def _withheld_everywhere(app: SearchApp, photo: Path) -> bool:
    """The photo is withheld by every read path of a running app's engine: text search, find
    similar from a result, find similar from a picture like it."""
    engine = app.engine
    searched = {r.image.name: r.restricted for r in engine.search("people", k=10).results}
    _, status, _ = app.similar_to_result(0, [str(photo)])
    shown = next(name for name, hidden in searched.items() if name != photo.name and not hidden)
    neighbours = engine.similar(photo.parent / shown, k=10)  # a withheld photo is no query
    similar = {r.image.name: r.restricted for r in neighbours.results}
    by_result = searched[photo.name] and DISCLAIMER in status and similar[photo.name]
    visitor = photo.parent.parent / f"visitor-{photo.name}"  # a picture like it, from outside
    shutil.copy(photo, visitor)
    from_upload = {r.image.name: r.restricted for r in engine.similar(visitor, k=10).results}
    return by_result and from_upload[photo.name]
