"""Training on a real slice of the data set, through the CLI."""

import json

import torch

from train.model import ModelConfig


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


def test_checkpoint_rebuilds_config(trained_run):
    checkpoint = torch.load(trained_run / "model.pt", weights_only=False)
    config = ModelConfig.from_dict(checkpoint["config"])
    assert config.members == 1
    assert 0 < config.child_threshold < 1
    assert checkpoint["class_embeddings"].shape == (1000, config.text_dim)


def test_detector_catches_child_images_out_of_fold(trained_run):
    detector = json.loads((trained_run / "metrics.json").read_text())["detector"]
    combined = detector["signals"]["combined"]
    assert combined["oof_recall_pct"] >= 95.0
    # the combination may not withhold more ordinary images than the whole-image signal alone
    assert combined["oof_other_blocked_pct"] < 100.0
    assert set(detector["signals"]) == {"whole image", "faces and age", "combined"}
    assert "| combined |" in (trained_run / "report.md").read_text()
