"""The ONNX engine: index updates, atomic writes, ranking, policy, CLI."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.engine.front import PhotoSearch
from inference.engine.responses import QueryError
from inference.errors import UserError
from inference.models.exported import SearchModels
from inference.policy import DISCLAIMER
from inference.store.facts import RowFacts
from inference.store.index import READABLE_SCHEMAS, index_path, load_index, update_index
from inference.store.ranking import top_k


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


class CountingModels(SearchModels):
    """Real models that count how many images they embed (a spy, not a fake)."""

    embedded = 0

    def embed_images(self, pixels):
        self.embedded += len(pixels)
        return super().embed_images(pixels)


def test_index_adds_changes_and_deletes_incrementally(models_dir, small_gallery, test_image_paths, tmp_path):
    models = CountingModels(models_dir)
    cache = tmp_path / "index"
    first = update_index(models, small_gallery, cache, progress=False)
    assert len(first.names) == 6 and models.embedded == 6
    again = update_index(models, small_gallery, cache, progress=False)
    assert models.embedded == 6  # nothing new
    np.testing.assert_array_equal(again.vectors.codes, first.vectors.codes)

    shutil.copy(test_image_paths[10], small_gallery / "added.jpg")
    changed = sorted(first.names)[0]
    shutil.copy(test_image_paths[11], small_gallery / changed)
    os.utime(small_gallery / changed, ns=(1, 1))
    deleted = sorted(first.names)[1]
    (small_gallery / deleted).unlink()
    updated = update_index(models, small_gallery, cache, progress=False)
    assert models.embedded == 8  # the added and the changed file only
    assert deleted not in updated.names and "added.jpg" in updated.names
    row = updated.names.index(changed)
    assert not np.allclose(updated.vectors[row], first.vectors[first.names.index(changed)])


def test_crash_during_save_keeps_old_index(models_dir, small_gallery, tmp_path, monkeypatch):
    models = SearchModels(models_dir)
    cache = tmp_path / "index"
    update_index(models, small_gallery, cache, progress=False)
    path = index_path(models, small_gallery, cache)
    before = path.read_bytes()
    (small_gallery / sorted(os.listdir(small_gallery))[0]).unlink()

    def crash(handle, **arrays):
        handle.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr("inference.store.index.np.savez", crash)
    with pytest.raises(KeyboardInterrupt):
        update_index(models, small_gallery, cache, progress=False)
    assert path.read_bytes() == before
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temp file left
    assert load_index(path, small_gallery, models.model_id) is not None


def test_corrupt_index_is_rebuilt(models_dir, small_gallery, tmp_path):
    models = SearchModels(models_dir)
    cache = tmp_path / "index"
    update_index(models, small_gallery, cache, progress=False)
    path = index_path(models, small_gallery, cache)
    path.write_bytes(b"not an index")
    assert load_index(path, small_gallery, models.model_id) is None
    assert len(update_index(models, small_gallery, cache, progress=False).names) == 6


def test_index_is_rebuilt_when_only_the_detector_changed(models_dir, small_gallery, tmp_path):
    """Stored child probabilities come from the detector's combiner, a manifest entry:
    a model folder with the same files but another combiner must not reuse them."""
    other = tmp_path / "models"
    other.mkdir()
    for item in models_dir.iterdir():
        if item.name not in ("manifest.json", "index"):
            (other / item.name).symlink_to(item)
    manifest = json.loads((models_dir / "manifest.json").read_text())
    manifest["detector"]["threshold"] = 0.99  # withholds (almost) nothing
    (other / "manifest.json").write_text(json.dumps(manifest))
    cache = tmp_path / "index"
    first = CountingModels(models_dir)
    update_index(first, small_gallery, cache, progress=False)
    changed = CountingModels(other)
    assert changed.model_id != first.model_id
    update_index(changed, small_gallery, cache, progress=False)
    assert changed.embedded == 6  # embedded again, not read from the first model's index


def _rewrite_index(path, change: str) -> None:
    """Re-save an index file with one thing wrong: its schema, model or vectors."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    meta = json.loads(str(arrays["meta"]))
    if change == "schema":
        meta["schema"] = min(READABLE_SCHEMAS) - 1  # a schema this code no longer reads
    elif change == "model":
        meta["model_id"] = "0" * 16
    else:  # vectors changed on disk, checksum not updated
        arrays["codes"] = arrays["codes"] // 2
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def test_an_index_of_the_schema_before_opens_without_re_embedding(models_dir, small_gallery, tmp_path):
    """Schema 3 (before the detector's signals were kept) is read as it is: the same vectors and
    verdicts, its signals unknown, so the review's reasons are worked out from the photo."""
    models = CountingModels(models_dir)
    cache = tmp_path / "index"
    first = update_index(models, small_gallery, cache, progress=False)
    assert not np.isnan(first.signals[:, :2]).any()  # the heads always; faces where looked for
    path = index_path(models, small_gallery, cache)
    with np.load(path) as data:
        dropped = ("signals", *RowFacts.FIELDS)  # what schema 3 did not keep
        arrays = {key: data[key] for key in data.files if key not in dropped}
    arrays["meta"] = np.array(json.dumps({**json.loads(str(arrays["meta"])), "schema": 3}))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    models.embedded = 0
    again = update_index(models, small_gallery, cache, progress=False)
    assert models.embedded == 0 and np.isnan(again.signals).all()
    np.testing.assert_array_equal(again.child_probability, first.child_probability)
    assert first.facts is not None and again.facts is not None  # dates and hashes read from the files
    for field in RowFacts.FIELDS:
        np.testing.assert_array_equal(getattr(again.facts, field), getattr(first.facts, field))
    upgraded = load_index(path, small_gallery, models.model_id)
    assert upgraded is not None and upgraded.facts is not None  # and kept: upgraded once
    engine = PhotoSearch(SearchModels(models_dir), index_dir=cache).ensure_index(small_gallery)
    for item in engine.review():  # worked out afresh, the same as the index's signals say
        signals = first.signals[first.names.index(item.name)]
        fresh, recorded = engine.explain(item), models.detector.explain(signals[:2], signals[2:])
        assert abs(fresh.probability - recorded.probability) < 1e-3 and fresh.signal == recorded.signal


@pytest.mark.parametrize("change", ["schema", "model", "vectors"])
def test_outdated_or_tampered_index_is_rebuilt_not_trusted(models_dir, small_gallery, tmp_path, change):
    models = CountingModels(models_dir)
    cache = tmp_path / "index"
    first = update_index(models, small_gallery, cache, progress=False)
    path = index_path(models, small_gallery, cache)
    _rewrite_index(path, change)
    assert load_index(path, small_gallery, models.model_id) is None
    rebuilt = update_index(models, small_gallery, cache, progress=False)
    assert models.embedded == 12  # everything embedded again
    np.testing.assert_allclose(rebuilt.vectors[:], first.vectors[:], atol=1e-6)


def test_top_k_matches_brute_force_on_seeded_vectors():
    rng = np.random.default_rng(42)
    vectors = rng.normal(size=(1000, 32)).astype(np.float32)
    for _ in range(20):
        query = rng.normal(size=32).astype(np.float32)
        k = int(rng.integers(1, 50))
        brute = np.argsort(-(vectors @ query), kind="stable")[:k]
        np.testing.assert_array_equal(top_k(vectors, query, k), brute)
    assert len(top_k(vectors[:3], query, 10)) == 3
    assert 0 not in top_k(vectors[:3], vectors[0], 10, exclude=0)


def test_search_policy_and_errors(models_dir, small_gallery, tmp_path):
    (small_gallery / "captions.csv").write_text(
        "image,caption\n" + f"{sorted(os.listdir(small_gallery))[0]},A little boy on a swing\n"
    )
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index").ensure_index(small_gallery)
    response = engine.search("a person outdoors", k=6)
    scores = [r.score for r in response.results if r.score is not None]
    assert len(scores) == 6 and all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    flagged = {r.image.name for r in response.results if r.restricted}
    assert sorted(os.listdir(small_gallery))[0] in flagged
    child = engine.search("Two KIDS' toys")
    assert child.restricted and child.message == DISCLAIMER and child.results == []
    with pytest.raises(QueryError):
        engine.search(" \t\n")
    # the cut-off drops exactly the results under it (an empty answer alone would prove nothing)
    cut = scores[2]
    kept = engine.search("a person outdoors", k=6, min_probability=cut).results
    kept_scores = [r.score for r in kept]
    assert kept_scores == [s for s in scores if s >= cut] and 3 <= len(kept) < 6 or scores[3] == cut


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "inference", *args], capture_output=True, text=True)


def test_cli_search_json(models_dir, small_gallery):
    result = _cli(
        "search",
        "a dog runs",
        "--gallery",
        str(small_gallery),
        "--models",
        str(models_dir),
        "--top-k",
        "3",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    fields = {"query", "restricted", "refusal", "message", "language", "notice", "weak", "results", "skipped"}
    assert set(payload) == fields
    assert payload["language"] is None  # an English query
    assert (payload["notice"] is None) != payload["weak"]  # the only notice it may get: no good match
    assert len(payload["results"]) == 3
    result_fields = {"image", "score", "restricted", "folder", "taken", "copies", "words"}
    assert all(set(r) == result_fields for r in payload["results"])
    child = json.loads(
        _cli(
            "search", "a baby", "--gallery", str(small_gallery), "--models", str(models_dir), "--json"
        ).stdout
    )
    assert child["restricted"] and child["message"] == DISCLAIMER and child["results"] == []


def test_cli_blank_query_is_one_line(models_dir, small_gallery):
    result = _cli("search", "   ", "--gallery", str(small_gallery), "--models", str(models_dir))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


def test_cli_missing_models_is_one_line(small_gallery, tmp_path):
    result = _cli("search", "dog", "--gallery", str(small_gallery), "--models", str(tmp_path))
    assert result.returncode == 2 and "manifest.json: not found" in result.stderr
    assert "python -m export" in result.stderr and "Traceback" not in result.stderr


def test_serving_imports_no_torch():
    code = (
        "import sys, inference, inference.engine.front, inference.models.exported, inference.store.index, "
        "inference.engine.evaluate, inference.cli; "
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'train'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_interrupted_indexing_resumes_without_re_embedding(models_dir, small_gallery, tmp_path, monkeypatch):
    """A crash after the first checkpoint leaves a loadable index; the next run
    embeds only what was not done."""
    monkeypatch.setattr("inference.store.index.BATCH_SIZE", 2)
    monkeypatch.setattr("inference.store.index.CHECKPOINT_EVERY", 2)
    models = CountingModels(models_dir)
    original = models.embed_images
    calls = []

    def crash_on_third_batch(pixels):
        calls.append(len(pixels))
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process dies mid-way
        return original(pixels)

    monkeypatch.setattr(models, "embed_images", crash_on_third_batch)
    cache = tmp_path / "index"
    with pytest.raises(KeyboardInterrupt):
        update_index(models, small_gallery, cache, progress=False)
    saved = load_index(index_path(models, small_gallery, cache), small_gallery, models.model_id)
    assert saved is not None and len(saved.names) == 4  # two checkpointed batches

    resumed = CountingModels(models_dir)
    index = update_index(resumed, small_gallery, cache, progress=False)
    assert resumed.embedded == 2 and len(index.names) == 6


KILLABLE_INDEXER = """
import sys, time
from pathlib import Path
import inference.store.index as ix
from inference.models.exported import SearchModels

ix.BATCH_SIZE, ix.CHECKPOINT_EVERY, ix.CHECKPOINT_WORK_PER_SAVE = 2, 2, 0.0
slow = SearchModels(sys.argv[1])
embed = slow.embed_images
slow.embed_images = lambda pixels: (time.sleep(0.2), embed(pixels))[1]  # time to be killed in
ix.update_index(slow, Path(sys.argv[2]), Path(sys.argv[3]), progress=False)
"""


def test_indexer_killed_mid_way_leaves_a_loadable_index_and_resumes(models_dir, test_image_paths, tmp_path):
    import signal
    import time

    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for path in test_image_paths[:30]:
        (gallery / path.name).symlink_to(path)
    cache = tmp_path / "index"
    models = CountingModels(models_dir)
    path = index_path(models, gallery, cache)
    process = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_INDEXER, str(models_dir), str(gallery), str(cache)]
    )
    deadline = time.monotonic() + 120
    while not path.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # let it get into the middle of later batches and saves
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = load_index(path, gallery, models.model_id)
    assert saved is not None and 2 <= len(saved.names) < 30
    resumed = update_index(models, gallery, cache, progress=False)
    assert models.embedded == 30 - len(saved.names) and len(resumed.names) == 30
    assert not list(cache.glob("*.tmp-*"))  # a save cut off by the kill is cleaned up


def test_two_folders_rank_like_one(models_dir, small_gallery, tmp_path):
    """Each folder has its own ranker; their answers merge into the one-folder ranking."""
    first, second = tmp_path / "first", tmp_path / "second"
    names = sorted(os.listdir(small_gallery))
    for folder, share in ((first, names[:3]), (second, names[3:])):
        folder.mkdir()
        for name in share:
            shutil.copy(small_gallery / name, folder / name)
    models = SearchModels(models_dir)
    one = PhotoSearch(models, index_dir=tmp_path / "index").ensure_index(small_gallery)
    two = PhotoSearch(models, index_dir=tmp_path / "index").ensure_index(first, second)
    assert len(two.view.parts) == 2 and len(two) == len(one) == 6
    for query in ("a dog runs on grass", "people in a city street"):
        expected = [(r.image.name, round(r.score or 0.0, 5)) for r in one.search(query, k=4).results]
        assert [(r.image.name, round(r.score or 0.0, 5)) for r in two.search(query, k=4).results] == expected
    source = second / sorted(os.listdir(second))[0]  # excluded from its own answer, across parts
    found = [r.image.name for r in two.similar(source, k=5).results]
    expected_names = [r.image.name for r in one.similar(small_gallery / source.name, k=5).results]
    assert source.name not in found and found == expected_names


def test_an_engine_over_vectors_refuses_to_refresh(models_dir):
    vectors = np.random.default_rng(0).standard_normal((5, 8), dtype=np.float32)
    paths = [Path(f"{i}.jpg") for i in range(5)]
    engine = PhotoSearch.over_vectors(SearchModels(models_dir), paths, vectors)
    assert len(engine) == 5
    with pytest.raises(UserError, match="no folder to re-scan"):
        engine.refresh()


def test_large_jpegs_are_decoded_at_a_reduced_scale_and_embed_alike(models_dir, test_image_paths, tmp_path):
    """Draft decoding never goes below what indexing needs, and the vector barely moves."""
    from PIL import Image

    from inference.models.preprocess import load_image

    models = SearchModels(models_dir)
    need = models.decode_at_least  # (short side, long side)
    photo = Image.open(test_image_paths[0]).convert("RGB")
    big = tmp_path / "big.jpg"
    photo.resize((4000, 3000), Image.Resampling.BICUBIC).save(big, quality=90)
    drafted, full = load_image(big, at_least=need), load_image(big)
    assert full.size == (4000, 3000) and drafted.size[0] < 4000
    assert min(drafted.size) >= need[0] and max(drafted.size) >= need[1]
    assert load_image(test_image_paths[0], at_least=need).size == photo.size  # small: untouched
    png = tmp_path / "big.png"
    photo.resize((2000, 1500)).save(png)
    assert load_image(png, at_least=need).size == (2000, 1500)  # only JPEG decoders can do this
    vectors, _ = models.embed_images(np.stack([models.preprocess(drafted), models.preprocess(full)]))
    cosine = vectors[0] @ vectors[1] / np.linalg.norm(vectors[0]) / np.linalg.norm(vectors[1])
    assert cosine > 0.98


OPEN_AND_INDEX = """
import json, os, sys, threading
from threadpoolctl import threadpool_info
from inference import PhotoSearch

def blas():
    return sorted((pool["internal_api"], pool["num_threads"]) for pool in threadpool_info())

before = (threading.active_count(), blas())
library = PhotoSearch.open(sys.argv[1], index_dir=sys.argv[2])
opened = (threading.active_count(), blas())
wrote = os.path.exists(sys.argv[2])
library.ensure_index(sys.argv[3])
print(json.dumps({"before": before, "opened": opened, "wrote": wrote, "indexed": len(library)}))
"""


def test_opening_indexes_nothing_starts_no_thread_and_leaves_blas_alone(models_dir, small_gallery, tmp_path):
    # a process of its own: what is asserted is process-wide (threads, BLAS pools)
    index = tmp_path / "index"
    command = [sys.executable, "-c", OPEN_AND_INDEX, str(models_dir), str(index), str(small_gallery)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout)
    assert figures["opened"] == figures["before"]  # no thread started, no BLAS pool resized
    assert not figures["wrote"]  # no index written
    assert figures["indexed"] == 6  # ensure_index is what indexes, and it did


def test_pages_of_a_query_add_up_to_its_top_k_through_the_engine_and_the_cli(
    models_dir, small_gallery, tmp_path, search_cli
):
    library = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index", policy="off")
    library.ensure_index(small_gallery)
    query = "a dog on the grass"
    whole = library.search(query, k=6)
    first, second = library.search(query, k=3), library.search(query, k=3, offset=3)
    assert [r.image for r in first.results + second.results] == [r.image for r in whole.results]
    assert [r.score for r in second.results] == [r.score for r in whole.results[3:]]
    assert second.weak == whole.weak  # whether anything matches well is the query's, not the page's
    assert library.search(query, k=3, offset=6).results == []  # past the end: an empty page
    with pytest.raises(QueryError):
        library.search(query, offset=-1)

    where = ["--gallery", str(small_gallery), "--models", str(models_dir), "--policy", "off"]
    code, out, _ = search_cli("search", query, *where, "--top-k", "3", "--offset", "3", "--json")
    assert code == 0 and [r["image"] for r in json.loads(out)["results"]] == [
        str(r.image) for r in second.results
    ]
    code, out, err = search_cli("search", query, *where, "--offset", "-1")
    assert code == 2 and out == "" and "--offset must be 0 or more" in err
