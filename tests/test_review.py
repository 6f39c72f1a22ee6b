"""The owner's review queue: what the detector withholds, releases and their limits,
through the engine, the CLI (in process) and the app's callbacks."""

import json
from pathlib import Path

import pytest
from PIL import Image

from app import SearchApp
from inference.__main__ import main as cli
from inference.models import SearchModels
from inference.review import RELEASES_FILE, ReviewError, read_releases
from inference.search import SearchEngine


@pytest.fixture(scope="module")
def models(models_dir):
    return SearchModels(models_dir)


@pytest.fixture()
def uncaptioned(uncaptioned_gallery) -> Path:
    return uncaptioned_gallery


def _engine(gallery: Path, models, tmp_path: Path) -> SearchEngine:
    return SearchEngine(gallery, models, tmp_path / "index", progress=False)


def _restricted(engine: SearchEngine, name: str) -> bool:
    view = engine.view
    return bool(view.restricted[view.row_of[(engine.gallery / name).resolve()]])


def test_queue_lists_what_the_detector_withholds_and_a_release_shows_it(uncaptioned, models, tmp_path):
    engine = _engine(uncaptioned, models, tmp_path)
    queue = engine.review_queue()
    withheld = {item.name for item in queue}
    assert withheld and not any(item.released for item in queue)
    assert withheld == {p.name for p, r in zip(engine.view.paths, engine.view.restricted, strict=True) if r}
    assert all(item.probability >= item.threshold and "P(child)" in item.reason for item in queue)
    name = sorted(withheld)[0]
    (changed,) = engine.release([name])
    assert changed.released and not _restricted(engine, name)
    shown = {r.image.name: r.restricted for r in engine.search("a person", k=12).results}
    assert shown[name] is False
    assert read_releases(uncaptioned)[name].sha256  # recorded in the gallery, tied to the content
    # a restart, and a rebuilt index, keep the release
    again = _engine(uncaptioned, SearchModels(models.dir), tmp_path / "elsewhere")
    assert not _restricted(again, name) and {i.name for i in again.review_queue() if i.released} == {name}
    engine.release([name], revoke=True)
    assert _restricted(engine, name) and name not in read_releases(uncaptioned)


def test_an_edited_photo_goes_back_to_the_detector(uncaptioned, models, tmp_path):
    engine = _engine(uncaptioned, models, tmp_path)
    name = engine.review_queue()[0].name
    engine.release([name])
    picture = uncaptioned / name
    Image.open(picture).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(picture)  # another picture now
    engine.refresh(progress=False)
    item = next(i for i in engine.review_queue() if i.name == name)
    assert not item.released and _restricted(engine, name)
    # the same content with a new timestamp (a copy, a touch) keeps its release
    engine.release([name])
    content = picture.read_bytes()
    picture.write_bytes(content)
    engine.refresh(progress=False)
    assert not _restricted(engine, name)


def test_a_caption_naming_a_child_is_never_released(uncaptioned, models, tmp_path):
    first, second = sorted(p.name for p in uncaptioned.glob("*.jpg"))[:2]
    captions = f"image,caption\n{first},A little girl on a swing\n{second},A man reads a newspaper\n"
    (uncaptioned / "captions.csv").write_text(captions)
    engine = _engine(uncaptioned, models, tmp_path)
    assert first not in {item.name for item in engine.review_queue()}  # captions decide, not the queue
    with pytest.raises(ReviewError) as refused:
        engine.release([first, "no-such.jpg"])
    lines = str(refused.value).splitlines()
    assert len(lines) == 2 and "a caption names a child" in lines[0] and "not in the gallery" in lines[1]
    assert not (uncaptioned / RELEASES_FILE).exists() and _restricted(engine, first)  # nothing recorded
    with pytest.raises(ReviewError, match="not withheld"):  # its caption names no child
        engine.release([second])


def test_a_corrupt_releases_file_is_named_not_ignored(uncaptioned, models, tmp_path):
    (uncaptioned / RELEASES_FILE).write_text("{ half a file")
    with pytest.raises(ReviewError, match=RELEASES_FILE):
        _engine(uncaptioned, models, tmp_path)


def test_cli_review_lists_releases_and_search_shows_the_release(uncaptioned, models_dir, capsys):
    assert cli(["review", "--gallery", str(uncaptioned), "--models", str(models_dir), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["waiting"] == len(listed["withheld"]) > 0 and listed["released"] == 0
    name = listed["withheld"][0]["name"]
    args = ["review", "--gallery", str(uncaptioned), "--models", str(models_dir), "--json", "--release", name]
    assert cli(args) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["released"] == 1 and [c["name"] for c in after["changed"]] == [name]
    assert cli(["search", "a person", "--gallery", str(uncaptioned), "--models", str(models_dir),
                "--top-k", "12", "--json"]) == 0  # fmt: skip
    results = {Path(r["image"]).name: r["restricted"] for r in json.loads(capsys.readouterr().out)["results"]}
    assert results[name] is False
    assert (
        cli(["review", "--gallery", str(uncaptioned), "--models", str(models_dir), "--release", "x.jpg"]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: x.jpg: not in the gallery")


def test_the_queue_is_the_owners_in_the_app(uncaptioned, models, tmp_path):
    engine = _engine(uncaptioned, models, tmp_path)
    guarded = SearchApp(engine, tmp_path / "uploads", uploads_allowed=True, admin_token="s3cret")
    waiting = len(engine.review_queue())
    assert guarded.review_label() == f"Review withheld photos ({waiting} waiting)"
    items, status, choices = guarded.review_queue("guess")
    assert items == [] and choices == [] and "Wrong admin token" in status  # no picture for a visitor
    items, status, choices = guarded.review_queue("s3cret")
    assert len(items) == len(choices) == waiting and f"{waiting} photo(s)" in status
    assert "Wrong admin token" in guarded.release(choices[:1], "guess")[1] and _restricted(engine, choices[0])
    items, status, left = guarded.release(choices[:1], "s3cret")
    assert status.startswith("Released 1 photo(s)") and left == choices[1:]
    assert guarded.review_label() == f"Review withheld photos ({waiting - 1} waiting)"
    page, _, shown = guarded.search("a person", 12, 0.0)
    caption = dict(zip([Path(p).name for p in shown], [c for _, c in page], strict=True))[choices[0]]
    assert caption is not None and caption.startswith("p = ")  # a thumbnail with its probability now
    public = SearchApp(engine, tmp_path / "uploads", uploads_allowed=False)
    assert public.review_queue()[0] == [] and "turned off" in public.release(choices[1:2])[1]
