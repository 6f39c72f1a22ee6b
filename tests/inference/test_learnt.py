"""What the engine does with what a model has learnt: the real slice model (conftest.models_dir),
where the tests of what it does with any model run on the tiny one (tests/inference/test_engine.py)."""

import json
import shutil
import subprocess
import sys

from inference.engine.front import PhotoSearch
from inference.models.exported import SearchModels


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "inference", *args], capture_output=True, text=True)


def test_find_similar_ranks_the_image_itself_out(models_dir, small_gallery, tmp_path):
    # policy off: a restricted source is refused (tests/app/test_app.py); this checks the ranking
    engine = PhotoSearch(SearchModels(models_dir), index_dir=tmp_path / "index", policy="off").ensure_index(
        small_gallery
    )
    source = engine.view.paths[0]
    results = engine.similar(source, k=3).results
    assert len(results) == 3 and source not in [r.image for r in results]
    copy = tmp_path / "copy.jpg"
    shutil.copy(source, copy)
    assert engine.similar(copy, k=1).results[0].image == source  # an uploaded twin finds the original


def test_cli_evaluate_agrees_with_training(trained_run, models_dir, data_dir):
    result = _cli("evaluate", "--data", str(data_dir), "--models", str(models_dir), "--json")
    assert result.returncode == 0, result.stderr
    engine = json.loads(result.stdout)
    trained = json.loads((trained_run / "metrics.json").read_text())["test"]["model"]["all"]
    # training ranks float vectors, the engine its int8 codes: rounding moves a near tie or two
    # (0.57 points, 2 of 350 queries, for the small test model since the multilingual encoder)
    for key in ("recall@1", "recall@5", "recall@10"):
        assert abs(engine[key] - trained[key]) <= 1.0
    assert engine["queries"] == trained["queries"] and engine["images"] == 70 and engine["ranker"] == "exact"
    # every query went through the policy's one verdict, the semantic net included
    from inference.data.dataset import load_test_set
    from inference.policy import word_verdict

    queries = load_test_set(data_dir).queries["query_text"]
    assert engine["refused_by_policy"]["words"] == sum(word_verdict(q).refused for q in queries)
    assert isinstance(engine["refused_by_policy"]["semantic"], int)
    forced = _cli("evaluate", "--data", str(data_dir), "--models", str(models_dir), "--approximate", "--json")
    approximate = json.loads(forced.stdout)
    assert approximate["ranker"] == "approximate"  # the faiss path is measured, not skipped
    for key in ("recall@1", "recall@5", "recall@10"):  # 70 images fit its 256 re-ranked candidates
        assert approximate[key] == engine[key]
