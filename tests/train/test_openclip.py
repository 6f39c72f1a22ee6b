"""open_clip backbones (`--image-encoder openclip:MODEL`), offline: tiny models with random
weights built here (a ViT and a ResNet), through the real CLI, against open_clip itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_clip import CONFIGS, TEXT, build_tiny_clip

from export.__main__ import main as export_main
from inference.models.exported import SearchModels
from inference.models.preprocess import load_image, normalize, resize_and_crop
from inference.models.text import TextTokenizer
from inference.policy import DISCLAIMER
from train.__main__ import main as train_main
from train.openclip import (
    BackboneError,
    OpenClipImage,
    OpenClipText,
    image_size,
    load_model,
    tokenizer_folder,
    write_clip_tokenizer,
)

open_clip = pytest.importorskip("open_clip")

CRAFTED = [
    "",
    "   ",
    "Two dogs playing in the snow!!",
    "café crème brûlée, naïve résumé",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＬＥＴＴＥＲＳ",
    "mojibake: CafÃ© and â€œquotesâ€\x9d",
    "&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; &quot;html&quot; &#39;entities&#39;",
    "emoji 🐶🐕‍🦺 and flags 🇫🇷",
    "中文 日本語のテキスト 한국어",
    "العربية עברית हिन्दी ελληνικά",
    "собака бежит по траве, 2 кошки",
    "tabs\tand\nnewlines\r\n  and   spaces",
    "numbers 1234567 and 3.14, 10:30pm, 1st 2nd",
    "it's they're we've I'm you'll he'd",
    "<start_of_text> typed markers <end_of_text>",
    "a man in a red jacket climbs a steep rock face above the sea " * 8,
]


def _strings(data_dir: Path) -> list[str]:
    """Test queries (English), their held-back Russian translations, and crafted strings."""
    queries = pd.read_csv(data_dir / "test_queries.csv", sep="|")["query_text"].drop_duplicates().tolist()
    translated = pd.read_csv(Path(__file__).parents[2] / "bench" / "translated_test.tsv", sep="\t")
    russian = translated["query_text"].tolist()
    return queries + russian + CRAFTED


@pytest.fixture(scope="module")
def clip_tokenizer(tmp_path_factory) -> TextTokenizer:
    """Padded to the longest text of a batch (the causal text sides)."""
    return TextTokenizer(write_clip_tokenizer(tmp_path_factory.mktemp("clip_tokenizer")))


def _to_context(ids: np.ndarray) -> np.ndarray:
    """ids [N, L] padded with 0 to open_clip's [N, 77]."""
    return np.pad(ids, ((0, 0), (0, 77 - ids.shape[1])))


def test_tokenizer_matches_open_clip_token_for_token(clip_tokenizer, data_dir, tmp_path):
    strings = _strings(data_dir)
    assert len(strings) > 400 and any(not s.isascii() for s in strings)
    want = open_clip.get_tokenizer("ViT-B-32")(strings).numpy()  # [N, 77]
    got = clip_tokenizer(strings)
    assert got["input_ids"].shape[1] == 77  # the 480-character string is cut to the context
    pairs = zip(strings, got["input_ids"], want, strict=True)
    mismatched = [s for s, ours, theirs in pairs if not np.array_equal(ours, theirs)]
    assert mismatched == []
    np.testing.assert_array_equal(got["attention_mask"], want != 0)
    short = clip_tokenizer(strings[:3])["input_ids"]
    assert short.shape[1] < 77 and np.array_equal(_to_context(short), want[:3])
    padded = TextTokenizer(write_clip_tokenizer(tmp_path, pad_to_context=True))(strings[:3])["input_ids"]
    np.testing.assert_array_equal(padded, want[:3])


def test_the_first_tokenizer_config_is_still_read_and_rewritten_in_the_cache(tmp_path):
    folder = write_clip_tokenizer(tmp_path / "openclip-tokenizer-77")
    config = folder / "tokenizer_config.json"
    settings = json.loads(config.read_text())
    del settings["context_length"], settings["pad_to_context"]  # the first release wrote only this key:
    config.write_text(json.dumps({**settings, "pad_to_length": 77}))
    assert TextTokenizer(folder)(["a dog"])["input_ids"].shape == (1, 77)  # models exported then
    assert tokenizer_folder("openclip:ViT-B-32", tmp_path) == folder
    assert TextTokenizer(folder)(["a dog"])["input_ids"].shape == (1, 4)  # the cache: per text now


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def tiny(request, tmp_path_factory) -> tuple[str, Path, Path]:
    """(open_clip name, config .json, random weights .pt) of a tiny ViT or ResNet."""
    config, weights = build_tiny_clip(tmp_path_factory.mktemp("tiny"), request.param)
    return request.param, config, weights


def test_torch_sides_match_encode_image_and_encode_text(tiny, test_image_paths, clip_tokenizer):
    """Our pixels are ImageNet-normalised; the in-graph re-normalisation gives open_clip's
    own (CLIP mean/std) pixels of the same crop, so the embeddings are its encode_image's."""
    name, config, weights = tiny
    clip: Any = load_model(f"openclip:{config}", str(weights))
    size = image_size(f"openclip:{config}")
    crops = [resize_and_crop(load_image(p), size) for p in test_image_paths[:3]]
    ours = torch.from_numpy(np.stack([normalize(crop) for crop in crops]))  # ImageNet mean/std
    _, _, clip_preprocess = open_clip.create_model_and_transforms(name)
    to_tensor, clip_normalize = clip_preprocess.transforms[-2:]  # open_clip's ToTensor, Normalize
    theirs = torch.stack([clip_normalize(to_tensor(crop)) for crop in crops])  # CLIP mean/std
    with torch.no_grad():
        want = clip.encode_image(theirs, normalize=True)
        got, logits = OpenClipImage(clip)(ours)
        texts = ["a dog runs on the grass", "собака", "two children"]
        tokens = {k: torch.from_numpy(v) for k, v in clip_tokenizer(texts).items()}
        assert tokens["input_ids"].shape[1] < 77  # read at their own length, as queries are
        want_text = clip.encode_text(open_clip.get_tokenizer("ViT-B-32")(texts), normalize=True)
        got_text = OpenClipText(clip)(**tokens)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
    assert logits.shape == (3, 0)
    torch.testing.assert_close(got_text, want_text, atol=1e-5, rtol=1e-4)


def test_a_non_causal_text_side_reads_the_whole_padded_context(tmp_path):
    """MobileCLIP's text attends to every position, padding included: its tokenizer folder
    pads to 77 and the text side reads all of them, as open_clip's encode_text does."""
    config = tmp_path / "TinyBidirectional.json"
    text = {**TEXT, "no_causal_mask": True}
    config.write_text(json.dumps({"embed_dim": 32, "vision_cfg": CONFIGS["TinyViT"], "text_cfg": text}))
    name = f"openclip:{config}"
    clip: Any = load_model(name, "random")
    tokenizer = TextTokenizer(tokenizer_folder(name, tmp_path))
    texts = ["a dog runs on the grass", "two children"]
    tokens = tokenizer(texts)
    assert tokens["input_ids"].shape == (2, 77)
    with torch.no_grad():
        want = clip.encode_text(open_clip.get_tokenizer("ViT-B-32")(texts), normalize=True)
        got = OpenClipText(clip)(**{k: torch.from_numpy(v) for k, v in tokens.items()})
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


@pytest.fixture(scope="module")
def tiny_models(tiny, data_dir, tmp_path_factory, request) -> tuple[str, Path]:
    """(name, models folder): the tiny backbone trained on the suite's 200-image slice
    (conftest.trained_run: the same cached face features) and exported, by the CLI's mains.
    The ResNet is the suite's own tiny model (conftest.tiny_models_dir, built alike once)."""
    name, config, weights = tiny
    if name == "TinyRN":
        return name, request.getfixturevalue("tiny_models_dir")
    run = tmp_path_factory.mktemp("run")
    models = tmp_path_factory.mktemp("export") / "models"
    common = ["--data", str(data_dir)]
    backbone = ["--image-encoder", f"openclip:{config}", "--image-weights", str(weights)]
    small = ["--max-train-images", "200", "--members", "1"]
    assert train_main([*common, "--out", str(run), *backbone, *small]) == 0
    assert export_main(["--run", str(run), "--out", str(models), *common]) == 0
    return name, models


def _search(search_cli, models: Path, gallery: Path, query: str) -> dict:
    code, out, _ = search_cli("search", query, "--gallery", str(gallery), "--models", str(models), "--json")
    assert code == 0
    return json.loads(out)


def test_tiny_backbone_trains_exports_and_searches(tiny_models, data_dir, search_cli):
    name, models = tiny_models
    manifest = json.loads((models / "manifest.json").read_text())
    assert manifest["backbone"]["family"] == "open_clip"
    assert Path(manifest["backbone"]["image"].removeprefix("openclip:")).stem == name
    checks = manifest["checks_vs_pytorch"]
    assert checks["image_vectors"] <= 1e-4 and checks["text_vectors"] <= 1e-4
    assert manifest["preprocessing"]["max_tokens"] == 77

    gallery = data_dir / "test_images"
    found = _search(search_cli, models, gallery, "a dog runs on the grass")
    assert len(found["results"]) == 10
    assert all(0.0 <= r["score"] <= 1.0 for r in found["results"] if r["score"] is not None)
    refused = _search(search_cli, models, gallery, "a little girl on a swing")
    assert refused["restricted"] and refused["results"] == [] and refused["message"] == DISCLAIMER


def test_served_tokens_are_open_clips(tiny_models):
    """The models folder's tokenizer, read torch-free, gives open_clip's ids: with the torch
    parity above and export's ONNX-vs-PyTorch check, the served text side is encode_text."""
    texts = ["a dog runs on the grass", "Ｆｕｌｌ－ｗｉｄｔｈ café &amp; crème", "word " * 60]
    feeds = SearchModels(tiny_models[1]).text_feeds(texts)
    want = open_clip.get_tokenizer("ViT-B-32")(texts).numpy()
    np.testing.assert_array_equal(_to_context(feeds["input_ids"]), want)


def test_unreachable_hub_is_one_line_and_writes_nothing(tmp_path, monkeypatch, data_dir, capsys):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # nothing cached
    load_model.cache_clear()
    out = tmp_path / "run"
    args = ["--data", str(data_dir), "--out", str(out), "--image-encoder", "openclip:ViT-B-32"]
    assert train_main([*args, "--image-weights", "laion2b_s34b_b79k"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "ViT-B-32" in err and "laion2b_s34b_b79k" in err and "127.0.0.1:9" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("weights", "says"),
    [("no_such_tag", "no_such_tag"), ("imagenet", "pass --image-weights"), ("missing.pt", "missing.pt")],
)
def test_wrong_weights_name_the_fix(weights, says):
    with pytest.raises(BackboneError, match=says) as error:
        load_model("openclip:RN50", weights)
    assert "\n" not in str(error.value)


def test_text_model_beside_an_openclip_backbone_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        train_main(["--image-encoder", "openclip:RN50", "--text-model", "all-MiniLM-L6-v2"])
    assert exit_.value.code == 2
    assert "own text side" in capsys.readouterr().err
