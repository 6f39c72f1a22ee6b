"""Exact and approximate ranking, and the engine's switch between them."""

import json
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from inference.engine.front import PhotoSearch
from inference.errors import UserError
from inference.models.exported import SearchModels
from inference.store.ranking import (
    ANN_THRESHOLD_ENV,
    MIN_PROBES,
    AnnSettings,
    ApproximateRanker,
    ExactRanker,
    ann_threshold,
    build_ranker,
    top_k,
)


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


def _structured(rng: np.random.Generator, rows: int, dim: int = 300, rank: int = 40) -> np.ndarray:
    """Low-rank vectors plus noise, like real embeddings (pure noise has no neighbours)."""
    basis = rng.normal(size=(rank, dim)).astype(np.float32)
    return rng.normal(size=(rows, rank)).astype(np.float32) @ basis + rng.normal(size=(rows, dim)).astype(
        np.float32
    )


def test_approximate_ranker_finds_the_exact_top_10():
    rng = np.random.default_rng(0)
    vectors = _structured(rng, 5000)
    ranker = ApproximateRanker(vectors)
    recalls = []
    for row in rng.choice(len(vectors), 40, replace=False):
        query = vectors[row] + rng.standard_normal(vectors.shape[1], dtype=np.float32)
        exact = top_k(vectors, query, 10)
        found = ranker.top(query, 10)
        scores = vectors[found] @ query
        assert len(found) == 10 and np.all(np.diff(scores) <= 0)  # re-ranked: best first
        recalls.append(len(set(found) & set(exact)) / 10)
        assert row not in ranker.top(query, 10, exclude=int(row))
    assert np.mean(recalls) >= 0.85  # 0.9 here; a wrong projection or probe count gives < 0.5


def test_approximate_ranker_builds_and_searches_with_the_settings_it_is_given():
    """bench.ann_grid compares settings through this parameter: each must reach the index."""
    vectors = _structured(np.random.default_rng(2), 6000)
    settings = AnnSettings(projected_dim=48, probe_fraction=1 / 2, candidates=64)
    ranker = ApproximateRanker(vectors, settings=settings)
    ivf = faiss.extract_index_ivf(ranker.index)
    assert ranker.projection.shape[1] == 48 and ivf.nprobe == round(ivf.nlist / 2) > MIN_PROBES
    served = ApproximateRanker(vectors)
    assert faiss.extract_index_ivf(served.index).nprobe == MIN_PROBES  # an eighth of few lists: the floor
    found = ranker.top(vectors[0], 10)
    assert len(found) == 10 and np.all(np.diff(vectors[found] @ vectors[0]) <= 0)


def test_build_ranker_switches_at_threshold(monkeypatch):
    vectors = _structured(np.random.default_rng(1), 300)
    assert isinstance(build_ranker(vectors, threshold=301), ExactRanker)
    assert isinstance(build_ranker(vectors, threshold=300), ApproximateRanker)
    monkeypatch.setenv(ANN_THRESHOLD_ENV, "100")
    assert isinstance(build_ranker(vectors, ann_threshold()), ApproximateRanker)
    monkeypatch.setenv(ANN_THRESHOLD_ENV, "lots")
    with pytest.raises(UserError, match=ANN_THRESHOLD_ENV):
        ann_threshold()


def test_the_threshold_setting_is_read_once_when_the_engine_is_built(
    models_dir, small_gallery, tmp_path, monkeypatch
):
    monkeypatch.setenv(ANN_THRESHOLD_ENV, "3")
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(small_gallery)
    assert engine.ann_threshold == 3 and engine.view.approximate
    monkeypatch.setenv(ANN_THRESHOLD_ENV, "lots")  # read at start-up only: a refresh keeps the value
    engine.refresh(progress=False)
    assert engine.view.approximate


def test_engine_answers_the_same_above_a_forced_threshold(models_dir, small_gallery, tmp_path):
    models = SearchModels(models_dir)
    exact = PhotoSearch(models, index_dir=tmp_path / "index", ann_threshold=7).ensure_index(small_gallery)
    approximate = PhotoSearch(models, index_dir=tmp_path / "index", ann_threshold=6).ensure_index(
        small_gallery
    )
    assert not exact.view.approximate and approximate.view.approximate
    for query in ("a dog runs on grass", "people in a city street"):
        assert exact.search(query, k=4).results == approximate.search(query, k=4).results
    source = exact.view.paths[0]
    assert exact.similar(source, k=3).results == approximate.similar(source, k=3).results


def test_cli_works_unchanged_on_the_approximate_index(models_dir, small_gallery, search_cli, monkeypatch):
    args = ("search", "a dog", "--gallery", str(small_gallery), "--models", str(models_dir), "--json")
    default = search_cli(*args)
    monkeypatch.setenv(ANN_THRESHOLD_ENV, "2")
    forced = search_cli(*args)
    assert default[0] == forced[0] == 0, forced[2]
    assert json.loads(forced[1]) == json.loads(default[1])
    monkeypatch.setenv(ANN_THRESHOLD_ENV, "many")
    code, _, err = search_cli(*args)
    assert code == 2 and err.count("\n") == 1 and ANN_THRESHOLD_ENV in err


def test_a_saved_approximate_index_is_loaded_only_for_its_own_gallery(tmp_path):
    vectors = _structured(np.random.default_rng(2), 3000)
    saved = tmp_path / "gallery.ann.npz"
    built = ApproximateRanker(vectors, saved=saved, key="gallery v1")
    assert not built.loaded and saved.is_file()
    again = ApproximateRanker(vectors, saved=saved, key="gallery v1")
    assert again.loaded
    for row in (0, 7, 2999):
        query = vectors[row] * 2.0
        assert np.array_equal(again.top(query, 10), built.top(query, 10))
    assert not ApproximateRanker(vectors, saved=saved, key="gallery v2").loaded  # the gallery changed
    assert not ApproximateRanker(vectors[:2000], saved=saved, key="gallery v2").loaded  # other rows
    saved.write_bytes(b"half a file")
    assert not ApproximateRanker(vectors, saved=saved, key="gallery v2").loaded  # damaged: rebuilt


def test_the_saved_index_lists_live_in_one_file_that_a_rebuild_replaces(tmp_path):
    vectors = _structured(np.random.default_rng(3), 3000)
    saved = tmp_path / "gallery.ann.npz"
    ApproximateRanker(vectors, saved=saved, key="v1")
    (first_lists,) = tmp_path.glob("*.faiss")
    ApproximateRanker(vectors, saved=saved, key="v2")  # trained anew: the old lists are not left behind
    (lists,) = tmp_path.glob("*.faiss")
    assert lists != first_lists
    lists.write_bytes(lists.read_bytes()[:1000])  # cut short
    assert not ApproximateRanker(vectors, saved=saved, key="v2").loaded
    (lists,) = tmp_path.glob("*.faiss")  # the rebuild saved whole lists again
    lists.unlink()
    assert not ApproximateRanker(vectors, saved=saved, key="v2").loaded
    assert ApproximateRanker(vectors, saved=saved, key="v2").loaded


def test_a_restart_over_an_unchanged_gallery_loads_its_approximate_index(
    models_dir, small_gallery, test_image_paths, tmp_path
):
    models = SearchModels(models_dir)
    first = PhotoSearch(models, index_dir=tmp_path / "index", ann_threshold=3).ensure_index(small_gallery)
    assert not first.view.parts[0].ranker.loaded and list((tmp_path / "index").glob("*.ann.npz"))
    restart = PhotoSearch(models, index_dir=tmp_path / "index", ann_threshold=3).ensure_index(small_gallery)
    assert restart.view.parts[0].ranker.loaded
    query = "a dog runs on grass"
    assert restart.search(query, k=4).results == first.search(query, k=4).results
    shutil.copy(test_image_paths[-1], small_gallery / "new.jpg")  # the gallery changes: trained anew
    restart.refresh(progress=False)
    assert not restart.view.parts[0].ranker.loaded and len(restart) == 7
