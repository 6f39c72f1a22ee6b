"""Export a checkpoint to ONNX, verify every graph against PyTorch on real
data, and write the model folder atomically (a failed export keeps the old one)."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from export.attention import traceable_attention
from export.modules import build_modules
from inference.data.dataset import TestSet
from inference.errors import UserError
from inference.models.config import is_openclip
from inference.models.exported import (
    IMAGE_ENCODER,
    MULTILINGUAL_OUTPUT,
    MULTILINGUAL_TOKENIZER_DIR,
    SCORING_HEAD,
    TEXT_ENCODER,
    TOKENIZER_DIR,
)
from inference.models.manifest import Manifest
from inference.models.preprocess import load_image, served_preprocessing, served_views
from inference.models.text import TextTokenizer, text_feeds
from inference.review.faces import FACE_MODEL_FILES
from train.checkpoint import TOKENIZER_FILES, load_checkpoint, tokenizer_dir
from train.face_nets import DEFAULT_FACE_MODELS_DIR, build_face_models, has_face_models

OPSET = 17
#: open_clip's ModifiedResNet (its attention pool) exports wrong at opset 17 (off by up to 0.6)
#: and right at 18; its ViTs match at both (../shared/docs/offline-models.md).
OPENCLIP_OPSET = 18
EMBEDDING_TOLERANCE = 1e-4
#: Queries in other languages the exported multilingual path is checked on, beside the captions.
FOREIGN_CHECKS = (
    "собака бежит по снегу",
    "ein Mann fährt Fahrrad",
    "una mujer en la playa",
    "deux chiens jouent",
)
PROBABILITY_TOLERANCE = 1e-3
LOGIT_TOLERANCE = 1e-3  # detector heads: raw logits of order 1-10


class ExportCheckError(UserError):
    """An exported graph disagrees with PyTorch beyond tolerance."""


def export_graph(module, args, path: Path, inputs, outputs, dynamic, opset: int = OPSET) -> None:
    with traceable_attention(module):  # open_clip's attention, with its shapes kept dynamic
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=False,
        )
    onnx.checker.check_model(str(path))


def _compare(name: str, expected: torch.Tensor, actual: np.ndarray, tolerance: float) -> float:
    """The largest difference of `actual` from `expected`, relative to the largest magnitude
    where that passes 1, checked against `tolerance`: float32 keeps about 7 digits, so values
    near 138 (a tiny random open_clip model's fusion weights made such) differ by 1e-4 after
    two summation orders while values near 0.5 must agree to 1e-4 as they are."""
    reference = expected.detach().numpy()
    relative = float(np.abs(reference - actual).max()) / max(1.0, float(np.abs(reference).max()))
    if not relative <= tolerance:
        raise ExportCheckError(f"{name}: max difference from PyTorch {relative:.2e} > {tolerance:.0e}")
    return relative


def _text_outputs(outputs) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(text vectors, multilingual vectors or None) of a text encoder's forward."""
    return (outputs[0], outputs[1]) if isinstance(outputs, tuple) else (outputs, None)


def _face_models(recorded: Path) -> Path:
    """The folder of the face and age nets the run's detector read: its own, or where that is
    gone (a cleared cache, a run copied from another machine) the same nets built again in
    this checkout's cache, from the same package weights."""
    return recorded if has_face_models(recorded) else build_face_models(DEFAULT_FACE_MODELS_DIR)


def export_all(checkpoint: Path, folder: Path, images: list[Path], captions: list[str]) -> Manifest:
    """Write the three graphs and tokenizer into `folder`; returns their manifest, checked
    against PyTorch (its file list still empty)."""
    trained = load_checkpoint(checkpoint)
    config, image, text, head = build_modules(trained)
    combiner, face_dir = trained.detector.combiner, _face_models(Path(trained.detector.face_models_dir))
    for name in FACE_MODEL_FILES:  # checked against PyTorch when built (train/face_nets.py)
        shutil.copy(face_dir / name, folder / name)
    if trained.projection is not None:  # the vector store's shared space (inference/store/projection.py)
        trained.projection.save(folder)
    tokenizer_src = tokenizer_dir(checkpoint)  # the run's copy: no path into the training machine
    (folder / TOKENIZER_DIR).mkdir()
    for name in TOKENIZER_FILES:
        if (tokenizer_src / name).is_file():
            shutil.copy(tokenizer_src / name, folder / TOKENIZER_DIR / name)
    multilingual, english = None, [True] * len(captions)
    if config.multilingual_model:
        shutil.copytree(tokenizer_dir(checkpoint, multilingual=True), folder / MULTILINGUAL_TOKENIZER_DIR)
        multilingual = TextTokenizer(folder / MULTILINGUAL_TOKENIZER_DIR)
        captions, english = [*captions, *FOREIGN_CHECKS], [*english, *[False] * len(FOREIGN_CHECKS)]
    opset = OPENCLIP_OPSET if is_openclip(config.image.name) else OPSET
    size = config.image.input_size
    pixels = np.stack([served_views(load_image(p), size) for p in images])  # [N, V, 3, S, S]
    tokens = text_feeds(TextTokenizer(folder / TOKENIZER_DIR), multilingual, captions, english)
    pixel_t = torch.from_numpy(pixels)
    token_t = {k: torch.from_numpy(v) for k, v in tokens.items()}
    with torch.no_grad():
        expected_image, expected_heads = image(pixel_t)
        expected_text, expected_multilingual = _text_outputs(text(**token_t))
        expected_prob = head(expected_text, expected_image)
    export_graph(
        image,
        (pixel_t,),
        folder / IMAGE_ENCODER,
        ["pixels"],
        ["image_vectors", "detector_logits"],
        {"pixels": {0: "n"}, "image_vectors": {0: "n"}, "detector_logits": {0: "n"}},
        opset,
    )
    axes = {name: {0: "n", 1: "tokens" if name.startswith(("input", "attention")) else "pieces"}
            for name in tokens if name != "english"}  # fmt: skip
    outputs = ["text_vectors"] + ([MULTILINGUAL_OUTPUT] if expected_multilingual is not None else [])
    export_graph(
        text,
        tuple(token_t.values()),
        folder / TEXT_ENCODER,
        list(tokens),
        outputs,
        {**axes, **({"english": {0: "n"}} if "english" in tokens else {}), **{o: {0: "n"} for o in outputs}},
        opset,
    )
    export_graph(
        head,
        (expected_text, expected_image),
        folder / SCORING_HEAD,
        ["text_vectors", "image_vectors"],
        ["probabilities"],
        {"text_vectors": {0: "q"}, "image_vectors": {0: "n"}, "probabilities": {0: "q", 1: "n"}},
    )
    run = {
        name: ort.InferenceSession(str(folder / name), providers=["CPUExecutionProvider"])
        for name in (IMAGE_ENCODER, TEXT_ENCODER, SCORING_HEAD)
    }
    got_image, got_heads = run[IMAGE_ENCODER].run(None, {"pixels": pixels})
    got_text, *got_multilingual = run[TEXT_ENCODER].run(None, tokens)
    got_prob = run[SCORING_HEAD].run(None, {"text_vectors": got_text, "image_vectors": got_image})[0]
    checks = {
        "image_vectors": _compare(IMAGE_ENCODER, expected_image, got_image, EMBEDDING_TOLERANCE),
        "detector_logits": _compare(IMAGE_ENCODER, expected_heads, got_heads, LOGIT_TOLERANCE),
        "text_vectors": _compare(TEXT_ENCODER, expected_text, got_text, EMBEDDING_TOLERANCE),
        "probabilities": _compare(SCORING_HEAD, expected_prob, got_prob, PROBABILITY_TOLERANCE),
        "images": len(images),
        "captions": len(captions),
    }
    if expected_multilingual is not None:  # what the policy's semantic net reads
        got, name = got_multilingual[0], f"{TEXT_ENCODER} {MULTILINGUAL_OUTPUT}"
        checks[MULTILINGUAL_OUTPUT] = _compare(name, expected_multilingual, got, EMBEDDING_TOLERANCE)
    return Manifest(
        backbone={
            "image": config.image.name,
            "weights": config.image.weights,
            "text": config.text_model,
            **({"family": "open_clip"} if is_openclip(config.image.name) else {}),
        },
        model=config,
        fitted=trained.fitted,
        vector_dim=int(got_image.shape[1]),
        detector=combiner,
        preprocessing=served_preprocessing(size, TextTokenizer(folder / TOKENIZER_DIR).max_tokens),
        checks_vs_pytorch=checks,
        query_net=trained.query_net,
        versions={
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
            "opset": opset,
        },
    )


def replace_folder(new: Path, target: Path) -> None:
    """Swap `new` into place of `target`; the old folder survives until then."""
    backup = target.with_name(target.name + ".old")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        target.rename(backup)
    new.rename(target)
    if backup.exists():
        shutil.rmtree(backup)


def export_run(
    checkpoint: Path, out: Path, images: list[Path], captions: list[str], int8_test: TestSet | None = None
) -> Manifest:
    """Export, verify and install into `out`; returns the manifest. With a test
    set, also write the int8 text encoder and its measured figures."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the model folder is not
    try:
        manifest = export_all(checkpoint, staging, images, captions)
        if int8_test is not None:
            from export.quantize import quantize_and_measure

            multilingual = manifest.model.multilingual_model
            size = manifest.preprocessing.input_size
            manifest = replace(manifest, int8=quantize_and_measure(staging, int8_test, size, multilingual))
        manifest = manifest.with_files(
            staging, checkpoint, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        )
        manifest.write(staging)
        replace_folder(staging, out)
        return manifest
    finally:
        if staging.exists():
            shutil.rmtree(staging)
