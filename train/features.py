"""Frozen-encoder features, computed once and cached on disk.

A cache entry is keyed by the encoder, the views and every file's name, size
and modification time (or every text), so retraining never re-embeds and a
changed file is never served stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock
from PIL import Image, ImageOps
from torch import nn
from tqdm import tqdm

from inference.atomic import atomic_write
from inference.models.config import ImageEncoderSpec
from inference.models.preprocess import SERVED_VIEWS, VIEW_TRANSFORMS, load_image, preprocess
from inference.models.text import TextTokenizer
from train.encoders import SentenceEncoder

DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / "cache" / "features"


def _view_flip(image: Image.Image, size: int) -> np.ndarray:
    return preprocess(ImageOps.mirror(image), size)


#: Training-time augmentation views; serving averages the pooled features of
#: inference.models.preprocess.SERVED_VIEWS.
VIEWS: dict[str, Callable[[Image.Image, int], np.ndarray]] = {**VIEW_TRANSFORMS, "flip": _view_flip}


def _cache_key(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _load_or_compute(
    cache_dir: Path, key: str, compute: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    path = cache_dir / f"{key}.npz"
    if not path.is_file():
        (cache_dir / ".locks").mkdir(parents=True, exist_ok=True)
        # two runs side by side (or test workers) that need the same entry: the second waits
        # for the first's file rather than computing it again
        with FileLock(cache_dir / ".locks" / f"{key}.lock"):
            if not path.is_file():
                arrays = compute()
                with atomic_write(path, durable=False) as handle:  # never a half-written entry
                    np.savez(handle, **arrays)  # type: ignore[arg-type]
                return arrays
    with np.load(path) as cached:
        return {name: cached[name] for name in cached.files}


#: How texts are batched, part of each text entry's key: by token count, so that a batch,
#: padded to its longest text, is not mostly padding (a run's 11,114 captions and class
#: texts: 386k token slots in the given order, 148k sorted; MiniLM 109 s -> 42 s on one thread)
TEXT_BATCHES = "by-length"


def _embed_texts(
    texts: Sequence[str], tokenizer: TextTokenizer, model: nn.Module, batch_size: int, desc: str
) -> np.ndarray:
    """Embeddings [N, D] of `texts`, in their order, by `model` (ids, mask [B, L] -> [B, D])
    in batches of texts of about one length."""
    if not texts:
        return np.zeros((0, getattr(model, "dim", 0)), np.float32)
    order = np.argsort(tokenizer(list(texts))["attention_mask"].sum(axis=1), kind="stable")
    out = []
    for start in tqdm(range(0, len(texts), batch_size), desc=desc):
        tokens = tokenizer([texts[i] for i in order[start : start + batch_size]])
        with torch.inference_mode():
            out.append(model(**{k: torch.from_numpy(v) for k, v in tokens.items()}).numpy())
    embedded = np.empty_like(out[0], shape=(len(texts), out[0].shape[1]))
    embedded[order] = np.concatenate(out)
    return embedded


def _file_stats(*names: str) -> list:
    """(name, size, mtime) of each name that is a file here: a config or weights file changed
    under the same path is a new cache entry."""
    return [(n, p.stat().st_size, p.stat().st_mtime_ns) for n in names for p in [Path(n)] if p.is_file()]


def image_features(
    paths: Sequence[Path],
    spec: ImageEncoderSpec,
    encoder: Callable[[], nn.Module],
    views: Sequence[str] = ("center",),
    cache_dir: Path = DEFAULT_CACHE_DIR,
    batch_size: int = 32,
) -> dict[str, np.ndarray]:
    """{"pooled": [V, N, F], "logits": [V, N, 1000]} for each view V of each image N."""
    stats = [(p.name, info.st_size, info.st_mtime_ns) for p in paths for info in [p.stat()]]
    files = _file_stats(spec.name.split(":", 1)[-1], spec.weights)
    identity = [spec.name, spec.weights, spec.input_size, files]
    key = _cache_key(["image", *identity, list(views), stats])

    def compute() -> dict[str, np.ndarray]:
        model = encoder()
        pooled, logits = [], []
        for start in tqdm(range(0, len(paths), batch_size), desc=f"embed images ({spec.name})"):
            images = [load_image(p) for p in paths[start : start + batch_size]]
            batch = np.stack(
                [VIEWS[v](image, spec.input_size) for v in views for image in images]
            )  # [V * B, 3, H, W], view-major
            with torch.inference_mode():
                p, lg = model(torch.from_numpy(batch))
            pooled.append(p.numpy().reshape(len(views), len(images), -1))
            logits.append(lg.numpy().reshape(len(views), len(images), -1))
        return {"pooled": np.concatenate(pooled, 1), "logits": np.concatenate(logits, 1)}

    return _load_or_compute(cache_dir, key, compute)


def served_features(
    paths: Sequence[Path],
    spec: ImageEncoderSpec,
    encoder: Callable[[], nn.Module],
    cache_dir: Path = DEFAULT_CACHE_DIR,
) -> tuple[np.ndarray, np.ndarray]:
    """What the served image encoder computes from its pooled features: pooled [N, F] and
    ImageNet logits [N, 1000], each averaged over SERVED_VIEWS."""
    features = image_features(paths, spec, encoder, SERVED_VIEWS, cache_dir)
    return features["pooled"].mean(axis=0), features["logits"].mean(axis=0)


def text_features(
    texts: Sequence[str],
    model_dir: Path,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    batch_size: int = 128,
) -> np.ndarray:
    """L2-normalised sentence embeddings [N, D] of `texts`."""
    key = _cache_key(["text", str(model_dir), TEXT_BATCHES, list(texts)])

    def compute() -> dict[str, np.ndarray]:
        model = SentenceEncoder(model_dir).eval()
        return {"embedding": _embed_texts(texts, TextTokenizer(model_dir), model, batch_size, "embed texts")}

    return _load_or_compute(cache_dir, key, compute)["embedding"]


def openclip_text_features(
    texts: Sequence[str], name: str, weights: str, cache_dir: Path = DEFAULT_CACHE_DIR, batch_size: int = 128
) -> np.ndarray:
    """Unit embeddings [N, E] of `texts` by the text side of open_clip backbone `name` with `weights`,
    tokenised by the same tokenizer file serving reads (train/openclip.py)."""
    from train.openclip import OpenClipText, load_model, tokenizer_folder

    stats = _file_stats(name.split(":", 1)[-1], weights)
    key = _cache_key(["text", name, weights, stats, TEXT_BATCHES, list(texts)])

    def compute() -> dict[str, np.ndarray]:
        tokenizer = TextTokenizer(tokenizer_folder(name, cache_dir))
        model = OpenClipText(load_model(name, weights)).eval()
        return {"embedding": _embed_texts(texts, tokenizer, model, batch_size, "embed texts (open_clip)")}

    return _load_or_compute(cache_dir, key, compute)["embedding"]


def multilingual_text_features(
    texts: Sequence[str], cache_dir: Path = DEFAULT_CACHE_DIR, batch_size: int = 256
) -> np.ndarray:
    """USE-multilingual sentence embeddings [N, 512] of `texts` (train/use_encoder.py),
    tokenised by the same tokenizer file serving reads."""
    from train.use_encoder import MULTILINGUAL_TEXT_MODEL, MultilingualSentenceEncoder, write_tokenizer_json

    key = _cache_key(["text", MULTILINGUAL_TEXT_MODEL, TEXT_BATCHES, list(texts)])

    def compute() -> dict[str, np.ndarray]:
        folder = cache_dir / MULTILINGUAL_TEXT_MODEL
        write_tokenizer_json(folder / "tokenizer.json")
        tokenizer, model = TextTokenizer(folder), MultilingualSentenceEncoder().eval()
        return {"embedding": _embed_texts(texts, tokenizer, model, batch_size, "embed texts (multilingual)")}

    return _load_or_compute(cache_dir, key, compute)["embedding"]


def face_features(
    paths: Sequence[Path], face_models_dir: Path, cache_dir: Path = DEFAULT_CACHE_DIR
) -> np.ndarray:
    """Face and age features [N, FACE_FEATURES] of each image (inference/review/faces.py)."""
    from inference.models.exported import file_sha256
    from inference.review.faces import FACE_FEATURES, FACE_MODEL_FILES, FaceModels, cascade_settings

    stats = [(p.name, info.st_size, info.st_mtime_ns) for p in paths for info in [p.stat()]]
    models = [file_sha256(face_models_dir / name) for name in FACE_MODEL_FILES]
    key = _cache_key(["faces", models, cascade_settings(), stats])

    def compute() -> dict[str, np.ndarray]:
        faces = FaceModels(face_models_dir)
        rows = [faces.features(load_image(p)) for p in tqdm(paths, desc="faces and ages")]
        return {"faces": np.stack(rows) if rows else np.zeros((0, FACE_FEATURES), np.float32)}

    return _load_or_compute(cache_dir, key, compute)["faces"]
