"""The exported ONNX files against PyTorch, on real images and captions."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from export.modules import load_modules
from export.onnx_export import ExportCheckError, export_run
from inference.models.config import FittedScore, ModelConfig
from inference.models.exported import ModelFilesError, SearchModels
from inference.models.preprocess import SERVED_VIEWS, load_image, served_preprocessing, served_views


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
    pixels = np.stack([served_views(load_image(p), 224) for p in test_image_paths[-3:]])  # [3, V, 3, S, S]
    texts = ["dog", "a man in a red jacket climbs a steep rock face above the sea " * 4]
    tokens = models.text_feeds(texts)
    with torch.no_grad():
        want_image, want_child = image(torch.from_numpy(pixels))
        want_text, want_multilingual = text(**{k: torch.from_numpy(v) for k, v in tokens.items()})
        want_prob = head(want_text, want_image)
    got_image, got_child = models.embed_images(pixels)
    embedded = models.embed_queries(texts)
    got_text = embedded.vectors
    assert embedded.multilingual is not None  # the policy's semantic net reads these
    np.testing.assert_allclose(embedded.multilingual, want_multilingual.numpy(), atol=1e-4)
    np.testing.assert_allclose(got_image, want_image.numpy(), atol=1e-4)
    np.testing.assert_allclose(got_child, want_child.numpy(), atol=1e-3)
    assert got_child.shape == (len(pixels), 2)  # detector heads: child, person
    np.testing.assert_allclose(got_text, want_text.numpy(), atol=1e-4)
    np.testing.assert_allclose(models.probabilities(got_text, got_image), want_prob.numpy(), atol=1e-3)


@pytest.fixture(scope="module")
def penalised_run(trained_run, models_dir, tmp_path_factory):
    """(run folder, models folder) whose checkpoint applies the hub penalty. Validation
    may choose no penalty for the small test run; then a copy with it turned on
    (strength 0.75, T 0.25) is saved and exported."""
    from train.checkpoint import load_checkpoint, save_checkpoint, tokenizer_dir

    checkpoint = load_checkpoint(trained_run / "model.pt")
    if checkpoint.fitted.fusion.bank_strength > 0:
        return trained_run, models_dir
    run = tmp_path_factory.mktemp("penalised")
    fusion = dataclasses.replace(checkpoint.fitted.fusion, bank_strength=0.75, bank_temperature=0.25)
    fitted = dataclasses.replace(checkpoint.fitted, fusion=fusion)
    tokenizer = tokenizer_dir(trained_run / "model.pt")
    save_checkpoint(run, dataclasses.replace(checkpoint, fitted=fitted), tokenizer)
    models = run / "models"
    subprocess.run([sys.executable, "-m", "export", "--run", str(run), "--out", str(models)], check=True)
    return run, models


def test_served_score_is_the_fused_score_less_the_hub_penalty(penalised_run, test_image_paths):
    """text_vectors @ image_vectors.T, as every store ranks by, equals training's fused
    score (tower + bridge - each image's hub penalty against the caption bank)."""
    from train.checkpoint import load_checkpoint
    from train.encoders import SentenceEncoder, build_image_encoder, text_model_dir
    from train.model import TwoTower, mixed_sentences
    from train.scorer import Scorer
    from train.use_encoder import MultilingualSentenceEncoder

    run, models_dir = penalised_run
    checkpoint = load_checkpoint(run / "model.pt")
    config = checkpoint.config
    assert checkpoint.fitted.fusion.bank_strength > 0 and len(checkpoint.query_bank) > 100
    towers = TwoTower(config, members=config.members)
    towers.load_state_dict(checkpoint.towers)
    scorer = Scorer(
        towers.eval(), config, checkpoint.class_embeddings, checkpoint.query_bank, checkpoint.fitted
    )
    models = SearchModels(models_dir)
    pixels = np.stack([served_views(load_image(p), 224) for p in test_image_paths[:4]])  # [4, V, 3, S, S]
    texts = ["a dog runs on the beach", "two men play football"]
    with torch.no_grad():
        pooled, logits = build_image_encoder(config.image)(torch.from_numpy(pixels).flatten(0, 1))
        # training's served features: each picture's views averaged
        pooled, logits = (x.unflatten(0, (4, len(SERVED_VIEWS))).mean(dim=1) for x in (pooled, logits))
        feeds = {k: torch.from_numpy(v) for k, v in models.text_feeds(texts).items()}
        sentences = SentenceEncoder(text_model_dir(config.text_model))(
            feeds["input_ids"], feeds["attention_mask"]
        )
        if config.multilingual_model:  # training's sentence features: both encoders side by side
            other = MultilingualSentenceEncoder()(feeds["multilingual_ids"], feeds["multilingual_mask"])
            sentences = mixed_sentences(feeds["english"], sentences, other)
    want = scorer.fused(pooled.numpy(), logits.numpy(), sentences.numpy())
    served_texts, served_images = models.embed_texts(texts), models.embed_images(pixels)[0]
    np.testing.assert_allclose(served_texts @ served_images.T, want, atol=1e-3)
    # the probabilities too: training's calibration is the exported head's
    want_probability = scorer.probabilities(pooled.numpy(), logits.numpy(), sentences.numpy())
    np.testing.assert_allclose(models.probabilities(served_texts, served_images), want_probability, atol=1e-3)
    before_penalty = scorer.weighted(pooled.numpy(), logits.numpy(), sentences.numpy())
    assert scorer.penalty(pooled.numpy(), logits.numpy()).min() > 0 and not np.allclose(want, before_penalty)


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


def test_a_run_whose_face_nets_are_gone_exports_them_built_again(
    trained_run, test_image_paths, tmp_path, monkeypatch
):
    """The folder a run's detector read its face nets from may be gone (a cleared cache, a
    run from another machine): export builds the same nets again instead of a traceback."""
    from inference.models.exported import file_sha256
    from inference.review.faces import FACE_MODEL_FILES
    from train.checkpoint import load_checkpoint, save_checkpoint, tokenizer_dir

    checkpoint = load_checkpoint(trained_run / "model.pt")
    gone = tmp_path / "elsewhere" / "face_models"
    run = tmp_path / "run"
    detector = dataclasses.replace(checkpoint.detector, face_models_dir=str(gone))
    save_checkpoint(
        run, dataclasses.replace(checkpoint, detector=detector), tokenizer_dir(trained_run / "model.pt")
    )
    monkeypatch.setattr("export.onnx_export.DEFAULT_FACE_MODELS_DIR", tmp_path / "built")
    export_run(run / "model.pt", tmp_path / "models", test_image_paths[:2], ["a dog", "a man"])
    seen = checkpoint.detector.face_models_dir
    assert not gone.exists()
    for name in FACE_MODEL_FILES:  # the very nets the detector was trained with
        assert file_sha256(tmp_path / "models" / name) == file_sha256(Path(seen) / name), name


def _with_manifest(models_dir, folder, change) -> None:
    """`folder`: links to the model files beside a manifest.json edited by `change`."""
    for path in models_dir.rglob("*"):
        if path.is_file() and path.name != "manifest.json":
            (folder / path.relative_to(models_dir)).parent.mkdir(parents=True, exist_ok=True)
            (folder / path.relative_to(models_dir)).symlink_to(path)
    manifest = json.loads((models_dir / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_the_manifest_types_what_serving_reads(models_dir):
    models = SearchModels(models_dir, verify=False)
    written = json.loads((models_dir / "manifest.json").read_text())
    assert written["format_version"] == 3 and "child_threshold" not in written  # the detector's alone
    manifest = models.manifest
    assert isinstance(manifest.model, ModelConfig) and isinstance(manifest.fitted, FittedScore)
    assert manifest.fitted.to_dict() == written["fitted"] and manifest.model.to_dict() == written["model"]
    assert models.no_match_below == written["fitted"]["calibration"]["no_match_below"] > 0
    assert models.detector.threshold == written["detector"]["threshold"]
    assert manifest.preprocessing == served_preprocessing(224, manifest.preprocessing.max_tokens)


def _flat_record(manifest: dict) -> dict:
    """A format 3 manifest's model and fitted sections as formats 1 and 2 kept them, in one record."""
    fusion, calibration = manifest["fitted"]["fusion"], manifest["fitted"]["calibration"]
    renamed = {"calib_scale": calibration["scale"], "calib_bias": calibration["bias"]}
    return {**manifest["model"], **fusion, **renamed, "no_match_below": calibration["no_match_below"]}


def test_a_manifest_of_format_1_is_read_and_another_version_refused(models_dir, tmp_path):
    def as_format_1(manifest):
        manifest["model_config"] = {**_flat_record(manifest), "child_threshold": 0.123}
        del manifest["model"], manifest["fitted"]
        manifest.update(format_version=1, child_threshold=0.123)  # format 1 kept a second copy

    _with_manifest(models_dir, tmp_path / "v1", as_format_1)
    old, new = SearchModels(tmp_path / "v1"), SearchModels(models_dir)
    assert old.detector.threshold == new.detector.threshold
    assert old.manifest.fitted == new.manifest.fitted and old.manifest.model == new.manifest.model
    assert old.penalty_columns == new.penalty_columns == 1
    _with_manifest(models_dir, tmp_path / "v9", lambda manifest: manifest.update(format_version=9))
    with pytest.raises(
        ModelFilesError, match=r"manifest.json: format version 9, this code reads 1/2/3.*python -m export"
    ):
        SearchModels(tmp_path / "v9")


def test_a_model_exported_for_other_preprocessing_is_refused_in_one_line(models_dir, tmp_path):
    def other_normalisation(manifest):
        manifest["preprocessing"]["std"] = [0.5, 0.5, 0.5]

    _with_manifest(models_dir, tmp_path / "other", other_normalisation)
    with pytest.raises(ModelFilesError) as refused:
        SearchModels(tmp_path / "other", verify=False)
    message = str(refused.value)
    assert "std: exported 0.5/0.5/0.5, served 0.229/0.224/0.225" in message and "\n" not in message


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


def test_int8_text_encoder_is_measured_before_offered(
    trained_run, data_dir, test_image_paths, tmp_path, search_cli
):
    from inference.data.dataset import load_test_set

    target = tmp_path / "models"
    manifest = export_run(
        trained_run / "model.pt", target, test_image_paths[:2], ["a dog", "a man"], load_test_set(data_dir)
    )
    int8_size = (target / "text_encoder.int8.onnx").stat().st_size
    # MatMul weights shrink 4x; the fp32 word-embedding table (Gather) stays, and so does the
    # multilingual encoder's table (int8 already: 128k x 512 bytes)
    fp32_size = (target / "text_encoder.onnx").stat().st_size
    assert fp32_size - int8_size > 0.3 * (fp32_size - 128_010 * 512)  # as before: 30% saved
    assert manifest.int8 is not None
    for precision in ("fp32", "int8"):
        assert manifest.int8[precision]["texts_per_second"] > 0
        assert 0 <= manifest.int8[precision]["recall@10"] <= 100
    code, out, err = search_cli(
        "evaluate", "--data", str(data_dir), "--models", str(target), "--int8", "--json"
    )
    assert code == 0, err
    # the manifest ranks float image vectors, the engine its int8 codes: a few queries apart
    # (0.57 points, 2 of 350 queries, with the multilingual encoder; 0.5 allowed before it)
    assert abs(json.loads(out)["recall@10"] - manifest.int8["int8"]["recall@10"]) <= 1.0
    manifest_path = target / "manifest.json"
    without = json.loads(manifest_path.read_text())
    del without["files"]["text_encoder.int8.onnx"]
    manifest_path.write_text(json.dumps(without))
    with pytest.raises(ModelFilesError, match="export with --int8"):
        SearchModels(target, int8=True)


def test_models_whose_detector_saw_other_face_settings_are_refused_by_the_cli(models_dir, tmp_path):
    import shutil

    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["detector"]["face_cascade"]["min_face_px"] += 5  # a detector fitted on other faces
    (copy / "manifest.json").write_text(json.dumps(manifest))
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    search = ["search", "a dog", "--gallery", str(gallery), "--models", str(copy)]
    result = subprocess.run(
        [sys.executable, "-m", "inference", *search],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "min_face_px" in result.stderr and "python -m train" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_check_scales_its_tolerance_with_the_values_compared():
    """float32 keeps about 7 digits: values near 138 (a tiny open_clip model's text vectors) differ
    by 1e-4 after two summation orders, values near 0.5 must agree to 1e-4 as they are."""
    from export.onnx_export import _compare

    assert _compare("large", torch.tensor([138.3492]), np.array([138.3493], np.float32), 1e-4) < 1e-6
    with pytest.raises(ExportCheckError, match="max difference from PyTorch"):
        _compare("small", torch.tensor([0.5]), np.array([0.5002], np.float32), 1e-4)
