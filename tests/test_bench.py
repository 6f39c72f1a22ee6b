"""The benchmark runs end to end (its figures are not asserted: speed targets
live in bench/results.md, not in tests)."""

import importlib
import json
import subprocess
import sys

import pytest


def test_quick_bench_prints_the_headline_figures(tiny_models_dir, tiny_run):
    # end to end on the tiny model: what is checked is that every figure is measured and printed
    command = [sys.executable, "-m", "bench", "--quick", "--json", "--models", str(tiny_models_dir)]
    command += ["--checkpoint", str(tiny_run / "model.pt")]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    headline = {"image_ort_vs_torch", "text_ort_vs_torch", "query_p95_ms_100k", "index_images_per_s"}
    assert set(figures) == headline
    assert all(isinstance(v, float) and v > 0 for v in figures.values())


def test_bench_without_a_checkpoint_is_one_line(models_dir, tmp_path, capsys):
    from bench.__main__ import main

    code = main(["--quick", "--json", "--models", str(models_dir), "--checkpoint", str(tmp_path / "none.pt")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.startswith("error: ") and err.count("\n") == 1


def test_foreign_photos_are_ranked_each_for_its_own_query(models_dir, data_dir):
    """The beyond-Flickr test (bench/foreign.py) through its CLI: every installed sample
    photo gets a rank among the test images and all sample photos, JSON only on stdout."""
    from bench.foreign import foreign_photos

    command = [sys.executable, "-m", "bench.foreign", "--json", "--models", str(models_dir)]
    result = subprocess.run(command + ["--data", str(data_dir)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    photos = foreign_photos()
    gallery_size = len(list((data_dir / "test_images").glob("*.jpg"))) + len(photos)
    assert figures["photos"] == len(photos) >= 10
    assert {row["photo"] for row in figures["ranks"]} == {path.name for path in photos}
    assert all(1 <= row["rank"] <= gallery_size for row in figures["ranks"])
    assert figures["first"] == sum(row["rank"] == 1 for row in figures["ranks"]) <= figures["top5"]


def test_real_derived_vectors_are_distinct_variants_that_stay_near_their_photo(models_dir, test_image_paths):
    """bench.augmented: each variant is embedded for real, differs from the plain photo,
    and is still closer to its own photo than to the other photos."""
    import numpy as np

    from bench.augmented import derived_vectors
    from inference.models.exported import SearchModels
    from inference.models.preprocess import load_image

    models = SearchModels(models_dir)
    photos = test_image_paths[:4]
    plain = models.embed_images(np.stack([models.preprocess(load_image(p)) for p in photos]))[0]
    derived = derived_vectors(models, photos, per_photo=3)
    assert derived.shape == (12, plain.shape[1])
    assert len(np.unique(derived.round(5), axis=0)) == 12
    similarity = derived @ plain.T  # [12, 4]
    own = np.repeat(np.arange(4), 3)
    assert (similarity.argmax(axis=1) == own).mean() >= 0.75
    assert not np.allclose(derived[::3], plain, atol=1e-3)
    np.testing.assert_array_equal(derived, derived_vectors(models, photos, per_photo=3))  # seeded


@pytest.mark.parametrize(
    ("bench", "size", "message"),
    [
        ("bench.augmented", ["--per-photo", "0"], "--per-photo must be at least 1"),
        ("bench.ann_grid", ["--synthetic", "-5"], "--synthetic -5: a gallery size cannot be negative"),
    ],
)
def test_gallery_benches_reject_a_bad_size_in_one_line(bench, size, message, capsys):
    main = importlib.import_module(bench).main
    with pytest.raises(SystemExit) as exit_:  # argparse's error: usage, then the one line
        main(size)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert err.strip().splitlines()[-1].endswith(message) and "Traceback" not in err


def test_larger_test_adds_validation_images_with_their_own_captions(models_dir, data_dir):
    """bench.larger_test through its CLI: one gallery of the 70 test images plus 3
    validation images, every query ranked, JSON only on stdout."""
    import pandas as pd

    from bench.larger_test import validation_split

    command = [sys.executable, "-m", "bench.larger_test", "--draws", "1", "--extra", "3"]
    result = subprocess.run(
        command + ["--models", str(models_dir), "--data", str(data_dir)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    (draw,) = figures["draws"]
    test_images = len(pd.read_csv(data_dir / "test_images.csv"))
    test_queries = len(pd.read_csv(data_dir / "test_queries.csv", sep="|"))
    own = validation_split(data_dir).train_set.captions.groupby("image").size()
    assert draw["images"] == test_images + 3
    assert test_queries + 3 * own.min() <= draw["queries"] <= test_queries + 3 * own.max()
    assert 0 < draw["recall@1"] <= draw["recall@5"] <= draw["recall@10"] <= 100
    assert figures["mean"] == {key: draw[key] for key in ("recall@1", "recall@5", "recall@10", "mrr")}


def test_larger_test_rejects_more_extra_images_than_validation_has_in_one_line(models_dir, data_dir, capsys):
    from bench.larger_test import main

    code = main(["--draws", "1", "--extra", "100000", "--models", str(models_dir), "--data", str(data_dir)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    last_line = err.strip().splitlines()[-1]
    assert last_line.startswith("error: --extra 100000: the validation split has only")
    assert "Traceback" not in err


def test_held_back_translations_are_test_queries_of_photos_without_children(data_dir):
    """bench/translated_test.tsv: each row translates a test query the policy allows, of a
    test photo without children, two per photo; none is a validation caption."""
    import pandas as pd

    from bench.translated_test import TRANSLATIONS
    from inference.data.dataset import load_test_set
    from inference.engine.evaluate import test_set_policy

    test = load_test_set(data_dir)
    allowed, _ = test_set_policy(test)
    allowed_ids = set(test.queries.loc[allowed, "query_id"])
    rows = pd.read_csv(TRANSLATIONS, sep="\t", quoting=3, dtype=str)
    assert rows["query_id"].is_unique and set(rows["query_id"]) <= allowed_ids
    per_photo = rows["query_id"].str.split("#").str[0].value_counts()
    assert set(per_photo) == {2} and len(per_photo) == test.queries.loc[allowed, "image"].nunique()
    assert rows["query_text"].str.len().min() > 5 and set(rows["language"]) == {"ru"}


def test_translated_test_ranks_every_query_through_the_engine(models_dir, data_dir):
    """bench.translated_test in process: each language's translations and their English
    originals ranked over the test photos as a plain folder."""
    from bench.translated_test import measure

    figures = measure(data_dir, models_dir)
    assert figures["gallery_images"] == len(list((data_dir / "test_images").glob("*.jpg")))
    russian = figures["languages"]["ru"]
    for side in ("translated", "english"):
        recall = [russian[side][f"recall@{k}"] for k in (1, 5, 10)]
        assert russian[side]["queries"] == 82 and 0 <= recall[0] <= recall[1] <= recall[2] <= 100
    translated, english = russian["translated"]["recall@1"], russian["english"]["recall@1"]
    assert russian["ratio_recall@1"] == round(translated / english, 3)


def test_a_refused_query_ranks_its_photo_last(models_dir, small_gallery):
    """A query the policy refuses finds nothing, so its photo counts as a miss (N + 1)."""

    from bench.translated_test import own_ranks
    from inference.engine.front import PhotoSearch
    from inference.models.exported import SearchModels

    models = SearchModels(models_dir)
    engine = PhotoSearch(models, index_dir=small_gallery.parent / "c").ensure_index(small_gallery)
    photo = sorted(small_gallery.glob("*.jpg"))[0].name
    ranks = own_ranks(engine, ["children playing in a park", "a dog"], [photo, photo])
    size = len(engine.view.paths)
    assert ranks[0] == size + 1 and 1 <= ranks[1] <= size
