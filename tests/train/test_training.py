"""Training on a real slice of the data set, through the CLI."""

import json

import torch


def test_slice_training_beats_chance_clearly(trained_run):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    model = metrics["test"]["model"]["all"]
    images = 70
    chance_at_5 = 100 * 5 / images
    assert model["recall@5"] > 3 * chance_at_5
    assert model["recall@10"] > metrics["test"]["baseline"]["all"]["recall@10"]
    validation = metrics["validation"]["model"]
    assert validation["roc_auc"] > 0.7


def test_report_and_plots_written(trained_run):
    report = (trained_run / "report.md").read_text()
    for name in ("annotations.png", "training.png", "examples.png"):
        assert (trained_run / name).stat().st_size > 1000
        assert name in report
    assert "| model | all" in report


def test_checkpoint_is_typed_versioned_and_carries_its_tokenizer(trained_run, tmp_path):
    import subprocess
    import sys

    import pytest

    from train.checkpoint import CHECKPOINT_VERSION, CheckpointError, load_checkpoint
    from train.encoders import feature_dim

    checkpoint = load_checkpoint(trained_run / "model.pt")
    config = checkpoint.config
    assert checkpoint.version == CHECKPOINT_VERSION and config.members == 1
    assert 0 < checkpoint.detector.combiner["threshold"] < 1 and checkpoint.detector.head_weight.shape == (
        2,
        feature_dim(config.image),
    )
    assert checkpoint.class_embeddings.shape == (1000, config.text_dim)
    assert config.text_model == "all-MiniLM-L6-v2"  # a name, not a path into the training machine
    assert (trained_run / "tokenizer" / "tokenizer.json").is_file()  # export reads it from the run
    old = tmp_path / "old" / "model.pt"
    old.parent.mkdir()
    torch.save({"config": {}, "towers": {}}, old)  # a checkpoint from before versioning
    with pytest.raises(CheckpointError, match="version None.*python -m train"):
        load_checkpoint(old)
    result = subprocess.run(
        [sys.executable, "-m", "export", "--run", str(old.parent), "--out", str(tmp_path / "models")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "checkpoint version None" in result.stderr
    assert "Traceback" not in result.stderr
    payload = torch.load(trained_run / "model.pt", weights_only=False)
    del payload["detector"]["combiner"]["face_cascade"]  # fitted before the face settings were recorded
    torch.save(payload, old)
    with pytest.raises(CheckpointError, match="older settings.*python -m train"):
        load_checkpoint(old)


def test_detector_catches_child_images_out_of_fold(trained_run):
    detector = json.loads((trained_run / "metrics.json").read_text())["detector"]
    combined = detector["signals"]["combined"]
    assert combined["oof_recall_pct"] >= 95.0
    # the combination may not withhold more ordinary images than the whole-image signal alone
    assert combined["oof_other_blocked_pct"] < 100.0
    assert set(detector["signals"]) == {"whole image", "faces and age", "combined"}
    assert "| combined |" in (trained_run / "report.md").read_text()


def test_no_match_level_separates_galleries_with_and_without_the_picture(trained_run):
    import numpy as np

    from train.calibration import no_match_threshold

    rng = np.random.default_rng(0)
    probabilities = rng.uniform(0.0, 0.3, size=(200, 50))  # strangers score low...
    owner = rng.integers(0, 50, size=200)
    probabilities[np.arange(200), owner] = rng.uniform(0.5, 0.9, size=200)  # ...own pictures high
    level, figures = no_match_threshold(probabilities, owner)
    assert 0.5 < level < 0.6  # 5% of own pictures' probabilities (uniform 0.5-0.9) lie under it
    assert 4.0 <= figures["notice_when_image_present_pct"] <= 6.0
    assert figures["notice_when_image_absent_pct"] == 100.0  # no stranger reaches it
    measured = json.loads((trained_run / "metrics.json").read_text())["no_match"]
    assert 0.0 < measured["threshold"] < 1.0 and measured["queries"] > 0
    assert measured["notice_when_image_absent_pct"] > measured["notice_when_image_present_pct"]


def test_the_semantic_net_is_fitted_on_held_out_languages_and_carried_to_serving(trained_run, models_dir):
    """The policy's net on queries: a threshold chosen on languages held out of its fitting, a
    recall for each, and the languages the encoder never learned marked as not served."""
    from inference.models.exported import SearchModels
    from train.checkpoint import load_checkpoint

    report = json.loads((trained_run / "metrics.json").read_text())["query_net"]
    assert 0 < report["threshold"] < 1
    languages = report["held_out_languages"]
    served_languages = {k for k, v in languages.items() if v["served"]}
    assert {"zh", "ja", "ko", "ar", "th", "nl", "pl", "tr"} <= served_languages
    assert {"sv", "cs", "uk"} == {k for k, v in languages.items() if not v["served"]}
    assert all(0 <= v["translation"]["recall"] <= 1 for v in languages.values())
    net = load_checkpoint(trained_run / "model.pt").query_net
    assert net is not None and len(net["weights"]) == 512
    served = SearchModels(models_dir).query_net
    assert served is not None and served.threshold == net["threshold"]
