"""Where the content policy applies (--policy strict|off), through the real CLI
and engine, on an uncaptioned gallery of people-free photos and Flickr photos."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.models import SearchModels
from inference.search import SearchEngine
from train.people_free import _package_samples

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


def _cli_search(query: str, gallery: Path, models: Path, *extra: str) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "inference",
            "search",
            query,
            "--gallery",
            str(gallery),
            "--models",
            str(models),
            "--top-k",
            "50",
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_policy_off_shows_everything_and_searches_every_query(models_dir, mixed_gallery, tmp_path):
    strict = _cli_search("children playing", mixed_gallery, models_dir)
    assert strict["restricted"] and strict["results"] == []
    off = _cli_search("children playing", mixed_gallery, models_dir, "--policy", "off")
    assert not off["restricted"] and len(off["results"]) == 12
    assert not any(r["restricted"] for r in off["results"])


def test_captions_override_the_detector(models_dir, mixed_gallery, tmp_path):
    models = SearchModels(models_dir)
    engine = SearchEngine(mixed_gallery, models, cache_dir=tmp_path / "index", progress=False)
    flags = dict(zip([p.name for p in engine.paths], engine.restricted.tolist(), strict=True))
    name = next(n for n, restricted in flags.items() if not restricted)  # the detector let it through
    (mixed_gallery / "captions.csv").write_text(f"image,caption\n{name},a little girl on a swing\n")
    engine.refresh(progress=False)
    assert dict(zip([p.name for p in engine.paths], engine.restricted.tolist(), strict=True))[name]


def test_unknown_policy_is_a_one_line_error(models_dir, mixed_gallery):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "inference",
            "search",
            "a dog",
            "--gallery",
            str(mixed_gallery),
            "--models",
            str(models_dir),
            "--policy",
            "lenient",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr
    with pytest.raises(ValueError, match="unknown content policy"):
        SearchEngine(mixed_gallery, SearchModels(models_dir), policy="lenient", progress=False)


def test_detector_probability_in_the_index_matches_the_serving_models(models_dir, mixed_gallery, tmp_path):
    from inference.index import update_index
    from inference.preprocess import load_image

    models = SearchModels(models_dir)
    index = update_index(models, mixed_gallery, tmp_path / "index", progress=False)
    images = [load_image(mixed_gallery / n) for n in index.names]
    _, heads = models.embed_images(np.stack([models.preprocess(i) for i in images]))
    np.testing.assert_allclose(index.child_probability, models.child_probability(images, heads), atol=1e-5)
