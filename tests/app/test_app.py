"""App callbacks on a real small gallery with real exported models (no browser)."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.engine.front import PhotoSearch
from inference.errors import UserError
from inference.models.exported import SearchModels
from inference.policy import DISCLAIMER, SEARCH_REFUSED, is_restricted_text
from webapp.app import SearchApp, example_queries
from webapp.tiles import ThumbnailStore, disclaimer_tile


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


@pytest.fixture()
def app(models_dir, small_gallery, tmp_path):
    uploads = tmp_path / "uploads"
    names = sorted(p.name for p in small_gallery.glob("*.jpg"))
    rows = [f"{names[0]},A girl smiles"] + [f"{name},A photo" for name in names[1:]]
    (small_gallery / "captions.csv").write_text("image,caption\n" + "\n".join(rows) + "\n")
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(
        small_gallery, uploads
    )
    return SearchApp(engine, uploads)


def _is_disclaimer(image_file: str) -> bool:
    return np.array_equal(np.asarray(Image.open(image_file).convert("RGB")), np.asarray(disclaimer_tile()))


def test_search_shows_probabilities_and_hides_restricted_pixels(app):
    items, status, _ = app.search("a dog", 6, 0.0)
    assert len(items) == 6 and "Results for “a dog”: 6 of 6 images." in status  # says what is shown
    hidden = [caption for image, caption in items if _is_disclaimer(image)]
    assert hidden == [None]  # the one captioned child image, and only it; the tile says why
    shown = [caption for image, caption in items if not _is_disclaimer(image)]
    assert all(caption.startswith("p = ") for caption in shown)


def test_restricted_blank_and_cutoff_messages(app):
    items, status, _ = app.search("Three small children", 10, 0.0)
    assert items == [] and status == f"**{SEARCH_REFUSED}**"  # about the search, not an image
    items, status, _ = app.search("   ", 10, 0.0)
    assert items == [] and "empty" in status
    items, status, _ = app.search("a dog", 10, 1.0)
    assert items == [] and "lower the cut-off" in status
    # a query in another language: tests/inference/test_policy_served.py (a model that reads it)


def test_thumbnails_of_very_large_photos_are_decoded_small(tmp_path, test_image_paths):
    from PIL import Image

    from inference.models.preprocess import load_image
    from webapp.tiles import THUMBNAIL_SIZE, thumbnail

    big = tmp_path / "wallpaper.jpg"
    with Image.open(test_image_paths[0]) as photo:
        photo.convert("RGB").resize((5120, 2880)).save(big, quality=90)
    decoded = load_image(big, at_least=(0, THUMBNAIL_SIZE))  # what thumbnail() decodes
    assert THUMBNAIL_SIZE <= max(decoded.size) <= 2 * THUMBNAIL_SIZE  # 1/4 scale in the decoder
    assert max(thumbnail(big).size) == THUMBNAIL_SIZE


def test_apps_over_other_galleries_keep_each_others_thumbnails(models_dir, test_image_paths, tmp_path):
    """Two app processes over one model folder's index, serving other galleries: each prunes
    the thumbnails its own view does not show, never the other's (they were deleted while the
    other's visitors fetched them)."""

    def app_over(name: str, photos: list[Path]) -> SearchApp:
        gallery = tmp_path / name
        gallery.mkdir()
        for photo in photos:
            (gallery / photo.name).symlink_to(photo)
        (gallery / "captions.csv").write_text(
            "image,caption\n" + "".join(f"{p.name},a photo\n" for p in photos)
        )
        engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(gallery)
        return SearchApp(engine, tmp_path / f"uploads-{name}")

    first = app_over("first", test_image_paths[:3])
    items, _, _ = first.search("a photo", 3, 0.0)
    made = [Path(image) for image, _ in items]
    assert len(made) == 3 and all(file.is_file() for file in made)
    second = app_over("second", test_image_paths[3:6])
    second.search("a photo", 3, 0.0)
    assert first.thumbnails.folder != second.thumbnails.folder
    assert all(file.is_file() for file in made)  # the second app's prune left them


def test_more_appends_the_next_results_until_there_are_none(app):
    _, _, shown = app.search("a dog", 2, 0.0)
    _, _, longer = app.more("a dog", 2, 0.0, shown)
    assert longer[:2] == shown and len(longer) == 4  # the same first results, two more after them
    _, _, whole = app.more("a dog", 2, 0.0, longer)
    assert len(whole) == 6  # the gallery's six
    _, status, last = app.more("a dog", 2, 0.0, whole)
    assert last == whole and status.startswith("No more results.")
    # the API's pages: the next page skips what the first showed
    assert len(app.search_api("a dog", 4)) == 2 and app.search_api("a dog", 6) == []


def test_api_returns_disclaimer_tile_for_child_query(app):
    ((image, caption),) = app.search_api("a toddler")
    assert caption == DISCLAIMER and _is_disclaimer(image)
    assert len(app.search_api("a dog")) == 6


def test_find_similar_from_result_and_upload(app, test_image_paths):
    _, _, shown = app.search("a dog", 3, 0.0)
    items, status, similar = app.similar_to_result(0, shown, 4)
    assert len(items) == 4 and shown[0] not in similar
    assert f"{Path(shown[0]).name} (cosine similarity" in status and "4 images most like <img" in status
    assert app.similar_to_result(None, shown, 4)[1].startswith("Select a result")
    items, _, _ = app.similar_to_upload(str(test_image_paths[-1]), 2)
    assert len(items) == 2


def test_add_images_indexes_good_and_reports_bad(app, test_image_paths, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a picture")
    message = app.add_images([str(test_image_paths[-1]), str(bad), str(tmp_path / "notes.txt")])
    assert "Added 1 image(s); the gallery now holds 7" in message
    assert "not an image: broken.jpg" in message and "not an image type we index: notes.txt" in message
    items, _, _ = app.search("a dog", 50, 0.0)
    assert len(items) == 7


def test_oversized_upload_is_refused_and_not_copied(app, tmp_path):
    big = tmp_path / "huge.jpg"
    with open(big, "wb") as handle:
        handle.truncate(21 * 2**20)
    message = app.add_images([str(big)])
    assert "larger than 20 MB: huge.jpg" in message and "Added 0 image(s)" in message
    assert not list(app.uploads.glob("*huge*"))


def test_skipped_gallery_files_are_noticed(models_dir, small_gallery, tmp_path):
    (small_gallery / "broken.png").write_bytes(b"\x89PNG garbage")
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(small_gallery)
    notice = SearchApp(engine, tmp_path / "uploads").skipped_notice()
    assert notice.startswith("**1 file(s)") and "broken.png: not a readable image" in notice
    assert len(engine) == 6


def test_examples_come_from_the_gallerys_own_allowed_captions(models_dir, data_dir, tmp_path):
    from webapp.app import GENERIC_EXAMPLES, clean_caption

    assert clean_caption("Four people at a river 's edge .") == "Four people at a river's edge"
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(
        data_dir / "test_images"
    )
    examples = example_queries(engine)
    assert len(examples) == 10 and len(set(examples)) == 10
    assert not any(is_restricted_text(q) or " ." in q or " 's" in q for q in examples)
    owners = known_captions_by_text(data_dir)
    flags = {p.name: r for p, r in zip(engine.view.paths, engine.view.restricted, strict=True)}
    assert all(not flags[owners[q]] for q in examples)  # each describes a photo shown, not a tile
    plain = tmp_path / "photos"  # a folder nobody captioned: generic queries
    plain.mkdir()
    shutil.copy(next((data_dir / "test_images").glob("*.jpg")), plain / "a.jpg")
    other = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(plain)
    assert example_queries(other) == list(GENERIC_EXAMPLES)


def known_captions_by_text(data_dir):
    """cleaned test query -> its image name."""
    from inference.data.dataset import load_test_set
    from webapp.app import clean_caption

    queries = load_test_set(data_dir).queries
    return {clean_caption(t): image for t, image in zip(queries["query_text"], queries["image"], strict=True)}


def test_app_imports_no_torch():
    code = (
        "import sys, app; bad = [m for m in sys.modules if m == 'torch' or m.startswith("
        "('torch.', 'train'))]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_refresh_swaps_one_consistent_snapshot(app, test_image_paths):
    """A search holding the old snapshot keeps consistent rows while uploads land."""
    before = app.engine.view
    app.add_images([str(test_image_paths[-2])])
    after = app.engine.view
    assert after is not before
    assert len(before.paths) == len(before.vectors_at(range(len(before)))) == len(before.restricted) == 6
    assert len(after.paths) == len(after.vectors_at(range(len(after)))) == len(after.restricted) == 7
    # only the uploads folder was re-scanned: the main gallery's part (index, ranker) is the same object
    assert after.parts[0] is before.parts[0] and [p.gallery for p in after.parts][1] == app.uploads
    app.add_images([str(test_image_paths[-3])])
    again = app.engine.view
    assert again.parts[0] is before.parts[0] and again.parts[1] is not after.parts[1] and len(again) == 8


def test_find_similar_from_a_restricted_image_is_refused(app):
    items, _, shown = app.search("a dog", 6, 0.0)
    hidden = [i for i, (image, _) in enumerate(items) if _is_disclaimer(image)]
    assert len(hidden) == 1  # the captioned child image
    items, status, similar = app.similar_to_result(hidden[0], shown, 5)
    assert items == [] and similar == [] and DISCLAIMER in status
    response = app.engine.similar(shown[hidden[0]], k=5)  # the engine refuses too (any API on top)
    assert response.restricted and response.results == []


def test_a_file_changed_since_indexing_shows_the_tile_until_judged_again(app, test_image_paths):
    _, _, shown = app.search("a dog", 6, 0.0)
    allowed = [p for p in shown if not app.engine.view.restricted[app.engine.view.row_of[Path(p).resolve()]]]
    target = Path(allowed[0])
    target.write_bytes(test_image_paths[-1].read_bytes())  # other pixels under the same name
    items, _, after = app.search("a dog", 6, 0.0)
    changed = dict(zip(after, items, strict=True))[str(target)]
    assert _is_disclaimer(changed[0])
    app.engine.refresh(progress=False)  # judged again: its own thumbnail (or tile) by the new flag
    items, _, after = app.search("a dog", 6, 0.0)
    row = app.engine.view.row_of[target.resolve()]
    assert (
        _is_disclaimer(dict(zip(after, items, strict=True))[str(target)][0])
        == app.engine.view.restricted[row]
    )


def test_the_same_picture_is_added_once_under_its_own_safe_name(app, test_image_paths, tmp_path):
    source = tmp_path / "My Holiday (1).jpg"
    source.write_bytes(test_image_paths[-1].read_bytes())
    message = app.add_images([str(source), str(source), str(test_image_paths[-1])])
    assert "Added 1 image(s)" in message
    assert message.count("already in the gallery as My_Holiday_1.jpg") == 2
    other = tmp_path / "My Holiday (1).JPG"  # another picture, same safe name: numbered
    other.write_bytes(test_image_paths[-2].read_bytes())
    assert "Added 1 image(s)" in app.add_images([str(other)])
    assert sorted(p.name for p in app.uploads.iterdir()) == ["My_Holiday_1-1.jpg", "My_Holiday_1.jpg"]


def test_adding_images_is_the_owners(models_dir, small_gallery, tmp_path):
    from webapp.app import build_ui, upload_permission

    assert upload_permission("127.0.0.1", False, None) == (True, None)
    assert upload_permission("0.0.0.0", False, "s3cret") == (False, "s3cret")
    assert upload_permission("0.0.0.0", True, "s3cret") == (True, "s3cret")
    with pytest.raises(UserError, match="needs an admin token"):
        upload_permission("0.0.0.0", True, None)
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(small_gallery)
    public = SearchApp(engine, tmp_path / "uploads", uploads_allowed=False)
    assert "turned off" in public.add_images([str(next(small_gallery.glob("*.jpg")))])
    names = {getattr(fn, "api_name", None) for fn in build_ui(public, []).fns.values()}
    assert "ui_add_images" not in names and "search" in names  # no event: no API can add either
    guarded = SearchApp(engine, tmp_path / "uploads", uploads_allowed=True, admin_token="s3cret")
    picture = str(next(small_gallery.glob("*.jpg")))
    assert "Wrong admin token" in guarded.add_images([picture], "guess")
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())
    assert "Added 1 image(s)" in guarded.add_images([picture], "s3cret")


def test_a_visitors_picture_is_deleted_once_searched(app, test_image_paths, tmp_path):
    from gradio.utils import get_upload_folder

    cache = Path(get_upload_folder()) / f"test-{tmp_path.name}"  # where Gradio puts a visitor's upload
    cache.mkdir(parents=True, exist_ok=True)
    picture = cache / "visitor.jpg"
    picture.write_bytes(test_image_paths[-1].read_bytes())
    items, _, _ = app.similar_to_upload(str(picture), 3)
    assert len(items) == 3 and not picture.exists()
    fake = cache / "fake.jpg"
    fake.write_text("not a picture")
    items, status, _ = app.similar_to_upload(str(fake), 3)
    assert items == [] and "fake.jpg" in status and not fake.exists()
    outside = tmp_path / "mine.jpg"  # a path outside the upload cache is never deleted
    outside.write_bytes(test_image_paths[-1].read_bytes())
    app.similar_to_upload(str(outside), 1)
    assert outside.exists() and test_image_paths[-1].exists()


def test_no_good_match_is_said_below_the_validated_level(app):
    level = app.engine.models.no_match_below
    assert 0.0 < level < 1.0  # measured on validation captions by training, carried in the manifest
    for query in ("a dog", "qwzx blorf", "a dog running on the grass", "an astronaut on the moon"):
        response = app.engine.search(query, k=6)
        best = max(r.score for r in response.results)
        assert response.weak == (best < level), (query, best, level)
        assert (response.notice is not None) == response.weak
        items, status, _ = app.search(query, 6, 0.0)
        assert len(items) == 6 and ("No good match" in status) == response.weak  # results still shown


def test_thumbnails_are_kept_only_for_allowed_images_as_indexed(app, tmp_path):
    items, _, shown = app.search("a dog", 6, 0.0)
    folder = app.thumbnails.folder
    made = sorted(folder.glob("*.jpg"))
    assert len(made) == 5 and all(Path(image).parent == folder for image, _ in items)  # 5 allowed, 1 tile
    view = app.engine.view
    rows = [view.row_of[Path(path).resolve()] for path in shown]
    flagged = view.restricted.copy()
    flagged[next(row for row in rows if not view.restricted[row])] = True  # say, captioned "a boy" since
    assert app.thumbnails.prune(view.paths, view.stamps, flagged) == 1  # restricted since: gone
    assert len(list(folder.glob("*.jpg"))) == 4
    other = ThumbnailStore(tmp_path / "other")  # another instance: its own folder
    assert other.folder != folder and other.prune(view.paths, view.stamps, view.restricted) == 0
