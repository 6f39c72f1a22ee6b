"""Where the content policy applies (--policy strict|off), through the real CLI
and engine, on an uncaptioned gallery of people-free photos and Flickr photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inference.engine.front import PhotoSearch
from inference.errors import UserError
from inference.models.exported import SearchModels
from train.people_free import _package_samples


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


PEOPLE_FREE = ("coffee", "moon", "brick", "grass", "coins", "rocket")


@pytest.fixture()
def mixed_gallery(test_image_paths: list[Path], tmp_path: Path) -> Path:
    """Six Flickr test photos and six people-free package sample photos, no captions."""
    gallery = tmp_path / "photos"  # not "test_images": no data set captions apply
    gallery.mkdir()
    for path in test_image_paths[:6]:
        shutil.copy(path, gallery / path.name)
    samples = {p.stem: p for p in _package_samples()}
    for name in PEOPLE_FREE:
        shutil.copy(samples[name], gallery / f"{name}{samples[name].suffix}")
    return gallery


def _cli_search(search_cli, query: str, gallery: Path, models: Path, *extra: str) -> dict:
    args = ["search", query, "--gallery", str(gallery), "--models", str(models), "--top-k", "50", "--json"]
    code, out, err = search_cli(*args, *extra)
    assert code == 0, err
    return json.loads(out)


def test_policy_off_shows_everything_and_searches_every_query(models_dir, mixed_gallery, search_cli):
    strict = _cli_search(search_cli, "children playing", mixed_gallery, models_dir)
    assert strict["restricted"] and strict["results"] == []
    off = _cli_search(search_cli, "children playing", mixed_gallery, models_dir, "--policy", "off")
    assert not off["restricted"] and len(off["results"]) == 12
    assert not any(r["restricted"] for r in off["results"])


def test_captions_override_the_detector(models_dir, mixed_gallery, tmp_path):
    models = SearchModels(models_dir)
    engine = PhotoSearch(models, index_dir=tmp_path / "index").ensure_index(mixed_gallery)
    flags = dict(zip([p.name for p in engine.view.paths], engine.view.restricted.tolist(), strict=True))
    name = next(n for n, restricted in flags.items() if not restricted)  # the detector let it through
    (mixed_gallery / "captions.csv").write_text(f"image,caption\n{name},a little girl on a swing\n")
    engine.refresh(progress=False)
    assert dict(zip([p.name for p in engine.view.paths], engine.view.restricted.tolist(), strict=True))[name]


def test_unknown_policy_is_a_one_line_error(models_dir, mixed_gallery, search_cli):
    args = ["search", "a dog", "--gallery", str(mixed_gallery), "--models", str(models_dir)]
    code, _, err = search_cli(*args, "--policy", "lenient")
    assert code == 2 and "invalid choice" in err
    with pytest.raises(UserError, match="unknown content policy"):
        PhotoSearch(SearchModels(models_dir), policy="lenient")


def test_detector_probability_in_the_index_matches_the_serving_models(models_dir, mixed_gallery, tmp_path):
    from inference.models.preprocess import load_image
    from inference.store.index import update_index

    models = SearchModels(models_dir)
    index = update_index(models, mixed_gallery, tmp_path / "index", progress=False)
    images = [load_image(mixed_gallery / n) for n in index.names]
    _, heads = models.embed_images(np.stack([models.preprocess(i) for i in images]))
    np.testing.assert_allclose(index.child_probability, models.child_probability(images, heads), atol=1e-5)


def test_restricted_images_is_the_one_decision():
    from inference.policy import restricted_images

    names = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]
    captions = {"a.jpg": ["a boy on a bike"], "b.jpg": ["a man on a bike"]}
    probability = np.array([0.0, 0.99, 0.99, 0.01])
    # captions decide where known (a, b), the detector elsewhere (c, d)
    assert restricted_images(names, captions, probability, 0.5).tolist() == [True, False, True, False]
    assert restricted_images(names, captions).tolist() == [True, False, False, False]


def test_captions_file_keys_nested_images_and_a_bad_one_is_a_one_line_error(
    models_dir, mixed_gallery, tmp_path, search_cli
):
    nested = mixed_gallery / "holiday"
    nested.mkdir()
    shutil.move(str(mixed_gallery / "coffee.png"), nested / "coffee.png")
    (mixed_gallery / "captions.csv").write_text("image,caption\nholiday/coffee.png,a toddler with a cup\n")
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(mixed_gallery)
    row = [p.relative_to(mixed_gallery).as_posix() for p in engine.view.paths].index("holiday/coffee.png")
    assert engine.view.restricted[row]  # matched by its path in the gallery, not the detector
    (mixed_gallery / "captions.csv").write_text("image,text\ncoffee.png,a cup\n")
    code, _, err = search_cli("search", "a cup", "--gallery", str(mixed_gallery), "--models", str(models_dir))
    assert code == 2
    assert "Traceback" not in err  # one line, after the indexing progress bar
    expected = f"error: {mixed_gallery / 'captions.csv'}: missing column(s) caption"
    assert err.strip().splitlines()[-1] == expected


def test_no_faces_can_lift_an_image_over_its_upper_bound(models_dir, test_image_paths):
    """The bound that lets indexing skip the face nets holds for any faces, and the
    engine's shortcut gives the decision the full computation gives."""
    from inference.models.exported import SearchModels
    from inference.models.preprocess import load_image
    from inference.review.faces import NO_FACE

    models = SearchModels(models_dir)
    detector = models.detector
    rng = np.random.default_rng(0)
    heads = rng.normal(0, 3, size=(200, 2))
    found = np.column_stack(
        [
            np.ones(200),
            np.log1p(rng.integers(1, 40, 200)),
            rng.uniform(size=(200, 4)),
        ]
    )
    for faces in (found, np.tile(NO_FACE, (200, 1))):
        assert np.all(detector.probability(heads, faces) <= detector.upper_bound(heads) + 1e-6)
    images = [load_image(p) for p in test_image_paths[:12]]
    pixels = np.stack([models.preprocess(image) for image in images])
    _, head_logits = models.embed_images(pixels)
    full = detector.probability(head_logits, np.stack([models.faces.features(i) for i in images]))
    fast = models.child_probability(images, head_logits)
    threshold = detector.threshold
    assert np.array_equal(fast >= threshold, full >= threshold)
    looked = detector.upper_bound(head_logits) >= threshold
    assert np.allclose(fast[looked], full[looked], atol=1e-6)  # where faces could matter, they were read
