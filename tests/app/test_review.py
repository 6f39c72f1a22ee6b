"""The owner's review queue: what the detector withholds, releases and their limits,
through the engine, the CLI (in process) and the app's callbacks."""

import json
from pathlib import Path

import pytest
from PIL import Image

from inference.cli import main as cli
from inference.engine.front import PhotoSearch
from inference.models.exported import SearchModels
from inference.review.releases import RELEASES_FILE, ReviewError, read_releases
from webapp.app import SearchApp
from webapp.review import PAGE_SIZE


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


@pytest.fixture(scope="module")
def models(models_dir):
    return SearchModels(models_dir)


@pytest.fixture()
def uncaptioned(uncaptioned_gallery) -> Path:
    return uncaptioned_gallery


def _engine(gallery: Path, models, tmp_path: Path) -> PhotoSearch:
    return PhotoSearch(models, index_dir=tmp_path / "index").ensure_index(gallery)


def _restricted(engine: PhotoSearch, name: str) -> bool:
    view = engine.view
    return bool(view.restricted[view.row_of[(engine.gallery / name).resolve()]])


def test_queue_lists_what_the_detector_withholds_and_a_release_shows_it(uncaptioned, models, tmp_path):
    engine = _engine(uncaptioned, models, tmp_path)
    queue = engine.review()
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
    assert not _restricted(again, name) and {i.name for i in again.review() if i.released} == {name}
    engine.release([name], revoke=True)
    assert _restricted(engine, name) and name not in read_releases(uncaptioned)


def test_an_edited_photo_goes_back_to_the_detector(uncaptioned, models, tmp_path):
    engine = _engine(uncaptioned, models, tmp_path)
    name = engine.review()[0].name
    engine.release([name])
    picture = uncaptioned / name
    Image.open(picture).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(picture)  # another picture now
    engine.refresh(progress=False)
    item = next(i for i in engine.review() if i.name == name)
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
    assert first not in {item.name for item in engine.review()}  # captions decide, not the queue
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
    guarded = SearchApp(engine, tmp_path / "uploads", uploads_allowed=True, admin_token="s3cret").review
    waiting = len(engine.review())
    assert guarded.label() == f"Review withheld photos ({waiting} waiting)"
    visitor = guarded.page("guess")
    assert visitor.tiles == [] and "Wrong admin token" in visitor.status  # no picture for a visitor
    assert guarded.released("guess") == []
    page = guarded.page("s3cret")
    assert len(page.tiles) == min(waiting, PAGE_SIZE) and f"{waiting} photo(s)" in page.status
    name = page.names[0]
    assert "Wrong admin token" in guarded.release([name], "guess")[0] and _restricted(engine, name)
    message, released = guarded.release([name], "s3cret")
    assert message.startswith("Released 1 photo(s)") and released == [name]
    assert guarded.label() == f"Review withheld photos ({waiting - 1} waiting)"  # counted afresh
    assert name not in guarded.page("s3cret").names and guarded.released("s3cret") == [name]
    shown, _, paths = SearchApp(engine, tmp_path / "uploads").search("a person", 12, 0.0)
    caption = dict(zip([Path(p).name for p in paths], [c for _, c in shown], strict=True))[name]
    assert caption is not None and caption.startswith("p = ")  # a thumbnail with its probability now
    public = SearchApp(engine, tmp_path / "uploads", uploads_allowed=False).review
    assert public.page().tiles == [] and "turned off" in public.release([name])[0]


def test_tiles_say_which_signal_withholds_each_photo(uncaptioned, models, tmp_path):
    engine = _engine(uncaptioned, models, tmp_path)
    page = SearchApp(engine, tmp_path / "uploads").review.page()
    for tile, item in zip(page.tiles, engine.review(), strict=False):
        explained = engine.explain(item)
        assert tile.label.endswith(f"{item.probability:.2f}")  # the reason's P(child) is the indexed one
        assert abs(explained.probability - item.probability) < 1e-3 and explained.threshold == item.threshold
        assert explained.signal in ("faces", "whole image") and tile.reason.startswith("Withheld mostly by")
        assert f"threshold {item.threshold:.2f}" in tile.reason
    # lowest P(child) first: the likeliest mistakes
    probabilities = [item.probability for item in engine.review("likeliest mistakes")]
    assert probabilities == sorted(probabilities)


def test_release_undo_and_take_back_are_audited_and_appended(uncaptioned, models, tmp_path):
    from inference.review.releases import AUDIT_FILE, read_audit

    engine = _engine(uncaptioned, models, tmp_path)
    review = SearchApp(engine, tmp_path / "uploads").review
    names = review.page().names[:2]
    _, released = review.release(names)
    assert {item.name for item in engine.review() if item.released} == set(released) == set(names)
    log = uncaptioned / AUDIT_FILE
    before = log.read_bytes()
    review.revoke(released[:1])  # the undo of the app: the last release taken back, one by one here
    assert log.read_bytes().startswith(before)  # appended, never rewritten
    entries = read_audit(uncaptioned)
    assert [(e["action"], e["photo"]) for e in entries] == [
        ("release", names[0]), ("release", names[1]), ("revoke", names[0])
    ]  # fmt: skip
    assert all(e["tool"] == "app" and len(e["sha256"]) == 64 for e in entries)
    assert all(e["time"].endswith("+00:00") for e in entries)  # UTC
    where = ["review", "--gallery", str(uncaptioned), "--models", str(models.dir)]
    assert cli([*where, "--revoke", names[1]]) == 0
    last = read_audit(uncaptioned)[-1]
    assert last["action"] == "revoke" and last["photo"] == names[1] and last["tool"].startswith("cli (user ")


def test_cli_lists_the_released_and_explains(uncaptioned, models_dir, capsys):
    where = ["review", "--gallery", str(uncaptioned), "--models", str(models_dir), "--json"]
    assert cli([*where, "--explain"]) == 0
    listed = json.loads(capsys.readouterr().out)["withheld"]
    assert listed and all(item["signals"]["signal"] in ("faces", "whole image") for item in listed)
    assert cli([*where, "--release", listed[0]["name"]]) == 0
    capsys.readouterr()
    assert cli([*where, "--released"]) == 0
    released = json.loads(capsys.readouterr().out)
    assert [item["name"] for item in released["withheld"]] == [listed[0]["name"]]
    assert released["released"] == 1
