"""The app over a photo library (no browser): the date range, the folder, newest first, captions
with folder, date and copies, "More results" under filters, and a group of copies opened, never
showing a withheld photo."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from app_library import captioned_library_in
from gradio_client.utils import is_valid_file
from library_photos import Library, exif_with_date
from PIL import Image

from inference.engine.front import PhotoSearch
from inference.models.exported import SearchModels
from inference.policy import DISCLAIMER
from webapp.app import SearchApp, build_ui
from webapp.library import LibraryFilters
from webapp.tiles import disclaimer_tile, thumbnail
from webapp.uploads import UPLOAD_TYPES

QUERY = "people outside"
DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


@pytest.fixture(scope="module")
def captioned_library(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Library:
    return captioned_library_in(data_dir, tmp_path_factory.mktemp("app-library") / "photos")


@pytest.fixture(scope="module")
def app(models_dir: Path, captioned_library: Library, tmp_path_factory: pytest.TempPathFactory) -> SearchApp:
    """The app over the captioned library, under the strict policy, indexed once."""
    folder = tmp_path_factory.mktemp("library-app")
    engine = PhotoSearch(SearchModels(models_dir), index_dir=folder / "index")
    engine.ensure_index(captioned_library.root, folder / "uploads")
    return SearchApp(engine, folder / "uploads")


def _name(library: Library, path: str | Path) -> str:
    return Path(path).relative_to(library.root).as_posix()


def _copies_of(library: Library, path: str) -> set[str]:
    """The other photos of `path`'s group of copies, by name."""
    name = _name(library, path)
    return next((group - {name} for group in library.copies if name in group), set())


def _is_disclaimer(image_file: str) -> bool:
    return np.array_equal(np.asarray(Image.open(image_file).convert("RGB")), np.asarray(disclaimer_tile()))


def _group_of(app: SearchApp, library: Library, number: int) -> tuple[list[str | None], list[str], str]:
    """(items' captions, paths shown, status) of a search for group `number`'s file name: its
    group comes first (a query naming a file finds it first)."""
    stem = Path(min(library.copies[number])).stem
    items, status, shown = app.search(stem, 10, 0.0)
    return [caption for _, caption in items], shown, status


def test_a_date_range_shows_only_photos_taken_in_it(app, captioned_library):
    dates = LibraryFilters(after="2020-01-01", before=" 2021-01-01 ")
    items, status, shown = app.search(QUERY, 50, 0.0, dates)
    expected = [
        n for n, t in captioned_library.taken.items() if datetime(2020, 1, 1) <= t < datetime(2021, 1, 1)
    ]
    assert len(shown) == len(expected)  # no copy of a photo of 2020: each its own place
    assert {_name(captioned_library, path) for path in shown} == set(expected)
    assert "(taken from 2020-01-01, taken before 2021-01-01)" in status
    for _, caption in items:  # each shown photo's caption says its day; a tile says nothing
        assert caption is None or "2020-01-01" <= DAY.findall(caption)[0] < "2021-01-01"
        assert caption is None or "+" not in caption  # nor copies: no photo of 2020 has one


def test_a_bad_date_or_an_empty_range_is_said_in_one_line(app):
    items, status, shown = app.search(QUERY, 10, 0.0, LibraryFilters(after="June 2021"))
    assert items == [] and shown == [] and status.startswith("**Error:** ") and "\n" not in status
    assert "2021-06-01" in status  # what a date looks like
    _, status, _ = app.search(QUERY, 10, 0.0, LibraryFilters(after="2021-01-01", before="2020-01-01"))
    assert "the date range is empty" in status
    items, status, _ = app.search(QUERY, 10, 0.0, LibraryFilters(after="2030-01-01"))
    assert items == [] and status == "**No photo in this library is taken from 2030-01-01.**"


def test_the_folder_control_lists_the_library_and_restricts_to_a_part(app, captioned_library):
    assert app.folder_choices() == [
        ("Whole library", ""),
        *((folder, folder) for folder in ("2019", "2019/Home", "2020", "2020/Lisbon", "2021")),
        *((folder, folder) for folder in ("2021/Summer", "2021/Summer/Beach", "copies")),
    ]
    assert app.folder_choices() is app.folder_choices()  # worked out once per snapshot
    items, status, shown = app.search(QUERY, 50, 0.0, LibraryFilters(under="2021"))
    assert "(under 2021)" in status and shown
    assert {_name(captioned_library, path) for path in shown} == {
        name for name in captioned_library.taken if name.startswith("2021/")
    }
    assert all(caption is None or " · 2021/Summer/Beach · " in caption for _, caption in items)


def test_newest_first_orders_the_best_fifty_by_date(app, captioned_library):
    best = [r.image for r in app.engine.search(QUERY, 50).results]
    newest = sorted(best, key=lambda path: captioned_library.taken[_name(captioned_library, path)])[::-1]
    _, status, shown = app.search(QUERY, 10, 0.0, LibraryFilters(newest_first=True))
    assert [Path(path) for path in shown] == newest[:10]
    assert "the best 50 newest first" in status


def test_captions_say_probability_folder_date_and_copies(app, captioned_library):
    response = app.engine.search(Path(min(captioned_library.copies[0])).stem, 10)
    captions, shown, _ = _group_of(app, captioned_library, 0)
    first, name = response.results[0], _name(captioned_library, shown[0])
    folder, day = name.rpartition("/")[0], captioned_library.taken[name].date().isoformat()
    assert captions[0] == f"p = {first.score:.2f} · {folder} · {day} · +2 copies · {Path(name).name}"
    captions, _, _ = _group_of(app, captioned_library, 1)
    assert " · +1 copy · " in (captions[0] or "")
    captions, _, _ = _group_of(app, captioned_library, 2)  # withheld: a tile, with no caption
    assert captions[0] is None


def test_more_results_keep_the_filters(app, captioned_library):
    dates = LibraryFilters(after="2019-01-01", before="2019-08-01")
    _, _, shown = app.search(QUERY, 5, 0.0, dates)
    _, _, longer = app.more(QUERY, 5, 0.0, shown, dates)
    assert longer[:5] == shown and len(longer) == 10
    _, status, whole = app.more(QUERY, 5, 0.0, longer, dates)
    # 14 photos from January to July 2019, the copies in their groups' places
    assert len(whole) == 14 and not status.startswith("No more results.")
    _, status, same = app.more(QUERY, 5, 0.0, whole, dates)
    assert same == whole and status.startswith("No more results.")
    assert all(captioned_library.taken[_name(captioned_library, p)] < datetime(2019, 8, 1) for p in whole)
    # from a page that is not these results (a group of copies): the first K again
    _, _, group = app.copies(0, _group_of(app, captioned_library, 0)[1])
    _, _, again = app.more(QUERY, 5, 0.0, group, dates)
    assert again == shown


def test_a_group_of_copies_opens_with_each_copy_shown(app, captioned_library):
    _, shown, _ = _group_of(app, captioned_library, 0)
    assert app.copies_label(0, shown) == "Show the 2 copies of result 1"
    alone = next(place for place, path in enumerate(shown) if not _copies_of(captioned_library, path))
    assert app.copies_label(alone, shown) is None  # a photo without copies: no button
    items, status, group = app.copies(0, shown)
    assert {_name(captioned_library, path) for path in group} == captioned_library.copies[0]
    assert group[0] == shown[0] and status.startswith("Result 1 and its 2 copies")
    assert not any(_is_disclaimer(image) for image, _ in items)
    day = captioned_library.taken[_name(captioned_library, group[0])].date().isoformat()
    for place, ((image, caption), path) in enumerate(zip(items, group, strict=True)):
        width, height = Image.open(path).size
        kind = "result 1" if place == 0 else f"copy {place}"
        assert caption == f"{kind} · {day} · {width}×{height} · {_name(captioned_library, path)}"
        assert Path(image).parent == app.thumbnails.folder


def test_a_withheld_group_of_copies_is_never_shown(app, captioned_library):
    captions, shown, _ = _group_of(app, captioned_library, 2)
    view = app.engine.view
    members = [captioned_library.root / name for name in captioned_library.copies[2]]
    assert all(view.restricted[view.row_of[path.resolve()]] for path in members)  # one verdict
    assert captions[0] is None and app.copies_label(0, shown) is None  # a tile: no group to open
    items, status, group = app.copies(0, shown)
    assert items == [] and group == [] and DISCLAIMER in status
    for copy in range(len(members)):  # asked for by any copy: the same
        assert app.copies(copy, [str(path) for path in members])[0] == []
    # and no picture served anywhere holds their pixels
    hidden = [np.asarray(thumbnail(path), dtype=np.float32) for path in members]
    for file in app.thumbnails.folder.glob("*.jpg"):
        served = np.asarray(Image.open(file).convert("RGB"), dtype=np.float32)
        assert not any(
            picture.shape == served.shape and np.abs(picture - served).mean() < 8 for picture in hidden
        ), file


def test_the_api_keeps_its_two_arguments(app):
    ui = build_ui(app, [])
    (api,) = [fn for fn in ui.fns.values() if getattr(fn, "api_name", None) == "search"]
    assert len(api.inputs) == 2  # (query, offset): existing scripts call it so
    assert len(app.search_api(QUERY, 0)) == 10 and len(app.search_api(QUERY, 70)) < 10


def test_the_owner_may_add_iphone_photos(models_dir, test_image_paths, tmp_path):
    assert all(is_valid_file(f"IMG_0001.{suffix}", UPLOAD_TYPES) for suffix in ("HEIC", "heif", "jpg"))
    gallery = tmp_path / "photos"
    gallery.mkdir()
    Image.open(test_image_paths[3]).save(gallery / "IMG_0002.jpg")
    # no policy: the tiny model's detector would withhold photos nobody captioned, and their captions
    engine = PhotoSearch(SearchModels(models_dir), policy="off", index_dir=tmp_path / "index")
    app = SearchApp(engine.ensure_index(gallery, tmp_path / "uploads"), tmp_path / "uploads")
    phone = tmp_path / "IMG_0001.HEIC"
    Image.open(test_image_paths[4]).save(phone, exif=exif_with_date(datetime(2022, 7, 14, 9, 0), "+02:00"))
    assert "Added 1 image(s); the gallery now holds 2" in app.add_images([str(phone)])
    response = app.engine.search("a photo", 2, after=date(2022, 7, 14), before=date(2022, 7, 15), words="off")
    assert [r.image.name for r in response.results] == ["IMG_0001.heic"]
    items, _, shown = app.search("a photo", 2, 0.0)
    days = {Path(path).name: caption for path, (_, caption) in zip(shown, items, strict=True)}
    assert " · 2022-07-14 · " in (days["IMG_0001.heic"] or "")  # the camera's day
    today = date.fromtimestamp((gallery / "IMG_0002.jpg").stat().st_mtime).isoformat()
    assert f" · {today} (file) · " in (days["IMG_0002.jpg"] or "")  # no EXIF: the file's day
