"""A photo library, not a folder: dates, subfolders, words in names and captions, copies grouped,
pages, HEIC, through the CLI and `PhotoSearch.search` as a user reaches them."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from library_photos import Library, build_library, exif_with_date
from PIL import Image

from inference.engine.front import PhotoSearch
from inference.engine.responses import QueryError
from inference.policy import DISCLAIMER
from inference.store.facts import FROM_EXIF, FROM_FILE, NO_OFFSET, file_facts, taken_text

RENAMED = "2020/Lisbon/IMG_2041.jpg"  # a file a person names in a query


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


@pytest.fixture(scope="module")
def library(test_image_paths: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Library:
    """The 70 test photos over three years in nested folders, copies of three of them, one
    photo renamed IMG_2041.jpg."""
    built = build_library(test_image_paths, tmp_path_factory.mktemp("library") / "photos")
    victim = next(name for name in built.taken if name.startswith("2020/Lisbon/"))
    (built.root / victim).rename(built.root / RENAMED)
    built.taken[RENAMED] = built.taken.pop(victim)
    return built


@pytest.fixture(scope="module")
def photos(models_dir: Path, library: Library, tmp_path_factory: pytest.TempPathFactory) -> PhotoSearch:
    """The library indexed once, under no content policy (what is ranked is what is checked)."""
    index = tmp_path_factory.mktemp("library-index")
    return PhotoSearch.open(models_dir, policy="off", index_dir=index).ensure_index(library.root)


def _names(response, root: Path) -> list[str]:
    return [r.image.relative_to(root).as_posix() for r in response.results]


def test_exif_dates_are_read_with_their_offset_and_a_file_time_is_marked(tmp_path):
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (64, 48), "red").save(photo, exif=exif_with_date(datetime(2021, 6, 1, 12, 30), "-03:30"))
    facts = file_facts(photo)
    assert facts.source == FROM_EXIF and facts.offset == -210
    assert taken_text(facts.taken, facts.source, facts.offset) == "2021-06-01T12:30:00-03:30"
    plain = tmp_path / "b.jpg"
    Image.new("RGB", (64, 48), "red").save(plain)
    facts = file_facts(plain)
    assert facts.source == FROM_FILE and facts.offset == NO_OFFSET
    assert taken_text(facts.taken, facts.source, facts.offset).endswith("(file time)")


def test_after_returns_only_photos_taken_from_then_best_first(search_cli, models_dir, library):
    where = ("--gallery", str(library.root), "--models", str(models_dir))
    code, out, _ = search_cli("search", "a dog", *where, "--after", "2021-01-01", "--policy", "off", "--json")
    assert code == 0
    results = json.loads(out)["results"]
    assert len(results) == 10  # the range holds more than ten: the page fills
    for result in results:
        name = Path(result["image"]).relative_to(library.root).as_posix()
        assert library.taken[name] >= datetime(2021, 1, 1) and int(result["taken"][:4]) >= 2021
    scores = [result["score"] for result in results]
    assert scores == sorted(scores, reverse=True)


def test_a_date_range_and_a_folder_hold_only_their_photos(photos, library):
    response = photos.search("people outside", k=100, after="2019-06-01", before="2020-03-01")
    names = _names(response, library.root)
    expected = {n for n, t in library.taken.items() if datetime(2019, 6, 1) <= t < datetime(2020, 3, 1)}
    # every photo of the range, copies in their group's one place
    grouped = {min(group) for group in library.copies}
    assert set(names) <= expected and len(names) == len(
        expected - {n for g in library.copies for n in g}
    ) + len({n for n in grouped if n in expected})
    under = photos.search("people outside", k=100, under="2020/Lisbon")
    assert {r.folder for r in under.results} == {"2020/Lisbon"}
    assert len(under.results) == sum(name.startswith("2020/Lisbon/") for name in library.taken)


def test_a_range_with_no_photo_says_so(photos):
    response = photos.search("a dog", after="2030-01-01")
    assert response.results == [] and "taken from 2030-01-01" in (response.notice or "")
    with pytest.raises(QueryError, match="2021-06-01"):
        photos.search("a dog", after="June 2021")
    with pytest.raises(QueryError, match="empty"):
        photos.search("a dog", after="2021-01-01", before="2020-01-01")


def test_a_bad_date_is_one_line_from_the_cli(search_cli, models_dir, library):
    code, out, err = search_cli(
        "search",
        "a dog",
        "--gallery",
        str(library.root),
        "--models",
        str(models_dir),
        "--before",
        "2021-13-01",
    )
    assert (
        code == 2
        and out == ""
        and err.count("\n") == 1
        and "--before" in err.replace("before '", "--before '")
    )


def test_newest_first_orders_the_best_n_by_date(photos, library):
    best = photos.search("a dog running", k=8)
    newest = photos.search("a dog running", k=8, newest_first=8)
    assert {r.image for r in newest.results} == {r.image for r in best.results}
    dates = [library.taken[name] for name in _names(newest, library.root)]
    assert dates == sorted(dates, reverse=True)


def test_a_query_naming_a_file_finds_it_first(photos, library):
    response = photos.search("IMG_2041", k=5)
    assert _names(response, library.root)[0] == RENAMED and response.results[0].words == 1.0
    assert photos.search("img 2041", k=1).results[0].image.name == "IMG_2041.jpg"


def test_a_folder_word_lifts_its_photos_over_look_alikes(photos):
    response = photos.search("a dog in Lisbon", k=5)
    assert all(r.folder == "2020/Lisbon" for r in response.results)


def test_each_group_of_copies_takes_one_place(photos, library):
    for group in library.copies:
        original = min(group)  # the year folder sorts before "copies/"
        query = Path(original).stem  # a query that names the original: its group comes first
        response = photos.search(query, k=10)
        names = _names(response, library.root)
        assert len(set(names) & group) == 1  # one place for the whole group
        first = response.results[0]
        assert {first.image.relative_to(library.root).as_posix(), *(
            c.relative_to(library.root).as_posix() for c in first.copies)} == group  # fmt: skip
    top = photos.search("a dog", k=10)
    shown = _names(top, library.root)
    assert all(len(set(shown) & group) <= 1 for group in library.copies)


def test_copies_off_gives_each_copy_its_own_place(photos, library):
    group = max(library.copies, key=len)
    response = photos.search(Path(min(group)).stem, k=10, group_copies=False)
    assert group <= set(_names(response, library.root))


def test_page_one_plus_page_two_is_the_top_twenty(photos):
    whole = photos.search("children playing on the grass", k=20)
    first = photos.search("children playing on the grass", k=10)
    second = photos.search("children playing on the grass", k=10, offset=10)
    assert [r.image for r in first.results + second.results] == [r.image for r in whole.results]


def test_duplicates_cli_lists_the_groups(search_cli, models_dir, library):
    code, out, _ = search_cli(
        "duplicates", "--gallery", str(library.root), "--models", str(models_dir), "--json"
    )
    assert code == 0
    groups = json.loads(out)["groups"]
    found = [{Path(p).relative_to(library.root).as_posix() for p in g["photos"]} for g in groups]
    assert sorted(map(sorted, found)) == sorted(map(sorted, library.copies))
    assert [g["exact"] for g in groups] == [False, False, False]  # a resized copy in each


def test_no_two_distinct_test_photos_are_grouped(photos, library):
    copied = {name for group in library.copies for name in group}
    grouped = {str(p) for group in photos.duplicates() for p in group.photos}
    assert all(Path(p).relative_to(library.root).as_posix() in copied for p in grouped)


def test_a_heic_photo_is_indexed_with_its_date_and_found(models_dir, test_image_paths, tmp_path):
    gallery = tmp_path / "phone"
    gallery.mkdir()
    with Image.open(test_image_paths[5]) as image:
        image.save(gallery / "IMG_0001.HEIC", exif=exif_with_date(datetime(2022, 7, 14, 9, 0), "+02:00"))
    for photo in test_image_paths[6:9]:
        shutil.copy(photo, gallery / photo.name)
    assert pillow_heif.is_supported(gallery / "IMG_0001.HEIC")
    photos = PhotoSearch.open(models_dir, policy="off", index_dir=tmp_path / "index").ensure_index(gallery)
    assert len(photos) == 4 and not photos.view.skipped
    found = photos.search("IMG 0001", k=1).results[0]
    assert found.image.name == "IMG_0001.HEIC" and found.taken == "2022-07-14T09:00:00+02:00"


def test_a_child_word_in_a_name_withholds_and_reaches_copies(models_dir, test_image_paths, tmp_path):
    """A child word in a file or folder name withholds the photo (never released), and what
    withholds one copy withholds its group: the copy's own name says nothing."""
    gallery = tmp_path / "names"
    (gallery / "Kids party").mkdir(parents=True)
    photos = test_image_paths[20:24]
    shutil.copy(photos[0], gallery / "Kids party" / "a.jpg")
    shutil.copy(photos[1], gallery / "beach_boys_2019.jpg")
    shutil.copy(photos[2], gallery / "harbour.jpg")
    with Image.open(photos[1]) as image:  # a resized copy of the boys' photo, named harmlessly
        image.resize((image.width // 2, image.height // 2)).save(gallery / "sunset.jpg", quality=70)
    engine = PhotoSearch.open(models_dir, index_dir=tmp_path / "index").ensure_index(gallery)
    view = engine.view
    withheld = {path.name for path, hidden in zip(view.paths, view.restricted, strict=True) if hidden}
    assert {"a.jpg", "beach_boys_2019.jpg", "sunset.jpg"} <= withheld
    page = {r.image.name: r for r in engine.search("a photo", k=10).results}
    assert all(page[name].restricted for name in page if name != "harbour.jpg")  # one place for two copies
    shown = engine.search("harbour", k=1).results[0]
    assert shown.image.name == "harbour.jpg" and shown.words > 0
    assert not any(
        item.name in {"a.jpg", "beach_boys_2019.jpg"} for item in engine.review()
    )  # not the detector's


def test_a_release_of_one_copy_releases_its_group_from_the_detector(models_dir, test_image_paths, tmp_path):
    gallery = tmp_path / "copies"
    gallery.mkdir()
    for photo in test_image_paths[:12]:
        shutil.copy(photo, gallery / photo.name)
    engine = PhotoSearch.open(models_dir, index_dir=tmp_path / "index").ensure_index(gallery)
    queue = engine.review()
    if not queue:
        pytest.skip("the tiny detector withholds none of these photos")
    name = queue[0].name
    with Image.open(gallery / name) as image:
        image.resize((image.width // 2, image.height // 2)).save(gallery / "copy.jpg", quality=70)
    engine.refresh()
    row = engine.view.row_of[(gallery / "copy.jpg").resolve()]
    assert engine.view.restricted[row]  # a copy of a withheld photo is withheld
    engine.release([name])
    assert not engine.view.restricted[engine.view.row_of[(gallery / "copy.jpg").resolve()]]
    assert np.all(engine.view.restricted == (engine.view.restricted & True))
    assert DISCLAIMER  # the tiles say it: tests/app


@pytest.mark.parametrize("store", ["approximate", "milvus"])
def test_a_filtered_search_ranks_the_same_in_every_store(
    photos, models_dir, library, tmp_path, monkeypatch, store
):
    """The approximate index filters inside faiss (its ID selector, forced here at any size) and a
    Milvus store ranks the filtered rows exactly: the same page as the local exact ranking."""
    from inference.engine import view

    monkeypatch.setattr(view, "EXACT_SUBSET_UP_TO", 0)
    options = {"policy": "off", "index_dir": tmp_path / "index"}
    if store == "approximate":
        other = PhotoSearch.open(models_dir, ann_threshold=1, **options)
    else:
        other = PhotoSearch.open(models_dir, store=f"milvus:{tmp_path / 'store.db'}", **options)
    other.ensure_index(library.root)
    assert other.view.approximate  # the store too: the model has its projection
    for after, under in (("2021-01-01", None), (None, "2020/Lisbon")):
        expected = photos.search("a dog on the grass", k=5, after=after, under=under)
        found = other.search("a dog on the grass", k=5, after=after, under=under)
        assert [r.image for r in found.results] == [r.image for r in expected.results]


def test_a_group_is_shown_as_its_largest_file(photos, library):
    """The small copy's own name wins the group its place; the place shows the original."""
    group = library.copies[1]
    small = next(name for name in group if name.endswith("-small.jpg"))
    original = next(name for name in group if not name.startswith("copies/"))
    first = photos.search(Path(small).stem, k=3).results[0]
    assert first.image == library.root / original
    assert library.root / small in first.copies


def test_many_word_hits_rank_as_few(photos, monkeypatch):
    """Past WORD_HITS_SCORED hits each strength level's best come from the ranker over that level
    alone: the page is the one every hit scored one by one gives."""
    from inference.engine import searching

    expected = photos.search("people in Lisbon 2020", k=10)
    monkeypatch.setattr(searching, "WORD_HITS_SCORED", 0)
    found = photos.search("people in Lisbon 2020", k=10)
    assert [r.image for r in found.results] == [r.image for r in expected.results]
    assert any(r.words > 0 for r in found.results)
