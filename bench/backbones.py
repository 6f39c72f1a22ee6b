"""What each open_clip backbone costs on this machine, measured with random weights of the same
architecture (time does not depend on the weights): parameters and their fp32 size (about the
download), the exported image and text sides, index photos/s (the two served views per photo,
decoding and resizing included) and query ms (tokenise + text side, one query).

python -m bench.backbones [--models ViT-B-32 RN50 MobileCLIP-S2] [--served models/] [--json]

--served times an exported models folder (the bundled default) the same way, beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd

from export.onnx_export import OPENCLIP_OPSET, export_graph
from inference.data.download import locate_data_dir
from inference.models.exported import SearchModels
from inference.models.preprocess import load_image, served_views
from inference.models.text import TextTokenizer
from train.openclip import OpenClipImage, OpenClipText, image_size, load_model, tokenizer_folder

BACKBONES = ("ViT-B-32", "RN50", "MobileCLIP-S2")
PHOTOS, BATCH, QUERIES = 64, 32, 50


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _export_sides(name: str, folder: Path) -> tuple[Path, Path, int, int]:
    """(image .onnx, text .onnx, parameters, input size) of `name` with random weights."""
    import torch

    clip = load_model(f"openclip:{name}", "random")
    size = image_size(f"openclip:{name}")
    image, text = folder / "image.onnx", folder / "text.onnx"
    batch = {0: "batch"}
    pixels = torch.zeros(2, 3, size, size)
    outputs = ["embedding", "logits"]
    dynamic_pixels = {"pixels": batch}
    export_graph(OpenClipImage(clip), (pixels,), image, ["pixels"], outputs, dynamic_pixels, OPENCLIP_OPSET)
    ids = torch.ones(2, 77, dtype=torch.long)
    names = ["input_ids", "attention_mask"]
    dynamic = dict.fromkeys(names, {0: "batch", 1: "tokens"})
    export_graph(OpenClipText(clip), (ids, ids), text, names, ["embedding"], dynamic, OPENCLIP_OPSET)
    return image, text, sum(p.numel() for p in clip.parameters()), size


def _timings(data_dir: Path, index: Callable[[list[Path]], object], query: Callable[[str], object]) -> dict:
    """Photos/s of `index` over batches of test photos and p50 ms of `query`, after a warm-up."""
    photos = sorted((data_dir / "test_images").glob("*.jpg"))[:PHOTOS]
    queries = pd.read_csv(data_dir / "test_queries.csv", sep="|")["query_text"].drop_duplicates()
    index(photos[:BATCH])
    start = time.perf_counter()
    for i in range(0, len(photos), BATCH):
        index(photos[i : i + BATCH])
    photos_per_s = len(photos) / (time.perf_counter() - start)
    query(queries.iloc[0])
    query_ms = []
    for text in queries.tolist()[:QUERIES]:
        start = time.perf_counter()
        query(text)
        query_ms.append(1000 * (time.perf_counter() - start))
    median_ms = float(np.median(query_ms))
    return {"index_photos_per_s": round(photos_per_s, 1), "query_ms_p50": round(median_ms, 1)}


def measure(name: str, data_dir: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        image_path, text_path, parameters, size = _export_sides(name, Path(tmp))
        image, text = _session(image_path), _session(text_path)
        tokenizer = TextTokenizer(tokenizer_folder(f"openclip:{name}", Path(tmp)))

        def index(paths: list[Path]) -> None:
            pixels = np.concatenate([served_views(load_image(p), size) for p in paths])  # [2B, 3, S, S]
            image.run(None, {"pixels": pixels})

        return {
            "backbone": name,
            "input_px": size,
            "parameters_m": round(parameters / 1e6, 1),
            "fp32_mb": round(parameters * 4 / 2**20),
            "onnx_mb": round((image_path.stat().st_size + text_path.stat().st_size) / 2**20),
            **_timings(data_dir, index, lambda query: text.run(None, tokenizer([query]))),
        }


def measure_served(folder: Path, data_dir: Path) -> dict:
    """The same timings for an exported models folder, through SearchModels."""
    models = SearchModels(folder)
    sides = [folder / "image_encoder.onnx", folder / "text_encoder.onnx"]

    def index(paths: list[Path]) -> None:
        models.embed_images(np.stack([models.preprocess(load_image(p)) for p in paths]))

    return {
        "backbone": f"{folder} (served)",
        "input_px": models.input_size,
        "parameters_m": None,
        "fp32_mb": None,
        "onnx_mb": round(sum(p.stat().st_size for p in sides) / 2**20),
        **_timings(data_dir, index, lambda query: models.embed_texts([query])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backbones", description=__doc__)
    parser.add_argument("--models", nargs="+", default=list(BACKBONES), help="open_clip model names")
    parser.add_argument("--served", type=Path, default=None, help="an exported models folder to time too")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="only JSON on stdout")
    args = parser.parse_args(argv)
    data_dir = locate_data_dir(args.data)
    rows = [] if args.served is None else [measure_served(args.served, data_dir)]
    for name in args.models:
        print(f"{name}: exporting with random weights and timing", file=sys.stderr)
        rows.append(measure(name, data_dir))
    if args.json:
        print(json.dumps(rows))
    else:
        columns = list(rows[0])
        print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
        for row in rows:
            print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
