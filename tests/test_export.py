"""The exported ONNX files against PyTorch, on real images and captions."""

import json

import numpy as np
import pytest
import torch

from export.modules import load_modules
from export.onnx_export import ExportCheckError, export_run
from inference.models import ModelFilesError, SearchModels
from inference.preprocess import load_image, preprocess


def test_manifest_records_checks_and_checksums(models_dir):
    manifest = json.loads((models_dir / "manifest.json").read_text())
    checks = manifest["checks_vs_pytorch"]
    assert checks["image_vectors"] <= 1e-4 and checks["text_vectors"] <= 1e-4
    assert checks["probabilities"] <= 1e-3
    assert {
        "image_encoder.onnx",
        "text_encoder.onnx",
        "scoring_head.onnx",
        "tokenizer/tokenizer.json",
    } <= set(manifest["files"])


def test_onnx_matches_pytorch_on_new_batch_shapes(trained_run, models_dir, test_image_paths):
    """Dynamic axes: other batch sizes and sequence lengths than the export used."""
    _, image, text, head = load_modules(trained_run / "model.pt")
    models = SearchModels(models_dir)
    pixels = np.stack([preprocess(load_image(p), 224) for p in test_image_paths[-3:]])
    texts = ["dog", "a man in a red jacket climbs a steep rock face above the sea " * 4]
    tokens = models.tokenizer(texts)
    with torch.no_grad():
        want_image, want_child = image(torch.from_numpy(pixels))
        want_text = text(**{k: torch.from_numpy(v) for k, v in tokens.items()})
        want_prob = head(want_text, want_image)
    got_image, got_child = models.embed_images(pixels)
    got_text = models.embed_texts(texts)
    np.testing.assert_allclose(got_image, want_image.numpy(), atol=1e-4)
    np.testing.assert_allclose(got_child, want_child.numpy(), atol=1e-3)
    np.testing.assert_allclose(got_text, want_text.numpy(), atol=1e-4)
    np.testing.assert_allclose(models.probabilities(got_text, got_image), want_prob.numpy(), atol=1e-3)


def test_export_fails_loudly_and_keeps_old_models(
    trained_run, models_dir, test_image_paths, tmp_path, monkeypatch
):
    target = tmp_path / "models"
    export_run(trained_run / "model.pt", target, test_image_paths[:2], ["a dog", "a man"])
    before = (target / "manifest.json").read_text()
    monkeypatch.setattr("export.onnx_export.EMBEDDING_TOLERANCE", -1.0)  # nothing passes
    with pytest.raises(ExportCheckError, match="max difference from PyTorch"):
        export_run(trained_run / "model.pt", target, test_image_paths[:2], ["a dog", "a man"])
    assert (target / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["models"]  # no staging left behind


def test_corrupt_model_file_is_named(models_dir, tmp_path):
    import shutil

    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    with open(copy / "text_encoder.onnx", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"garbage")
    with pytest.raises(ModelFilesError, match=r"text_encoder.onnx: checksum mismatch.*python -m export"):
        SearchModels(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(ModelFilesError, match="manifest.json: not found"):
        SearchModels(copy)
