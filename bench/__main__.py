"""Benchmarks, side by side in one run on this machine.

python -m bench                  everything; writes bench/results.md and bench/latency.png
python -m bench --quick --json   under a minute; prints the three headline ratios/latency

Needs exported models (models/) and the training checkpoint they came from
(runs/default/model.pt) for the PyTorch side.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from bench.cli import BenchError
from bench.embedding import (
    IMAGE_BATCH,
    TEXT_BATCHES,
    TorchModels,
    image_rates,
    index_build_seconds_per_1000,
    text_rates,
)
from bench.load import load_test
from bench.vectors import CACHE, RealInputs, allowed_queries, linked_slice, save_inputs
from inference.data.download import locate_data_dir
from inference.errors import UserError
from inference.models.exported import DEFAULT_MODELS_DIR, TEXT_ENCODER_INT8, SearchModels
from inference.models.sessions import default_threads
from inference.paths import PROJECT_ROOT

SIZES = (1_000, 10_000, 100_000, 1_000_000)
STORES_SIZE = 100_000  # local store against milvus-lite (bench/milvus.py)
THREADS = default_threads()  # the same for onnxruntime and PyTorch
LOAD_CLIENTS, LOAD_SECONDS = 20, 60
RESULTS = Path(__file__).resolve().parent / "results.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small samples, 100k gallery only")
    parser.add_argument("--json", action="store_true", help="print the headline figures as JSON")
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--checkpoint", type=Path, default=PROJECT_ROOT / "runs" / "default" / "model.pt")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help=f"gallery sizes (default {SIZES})")
    parser.add_argument("--repeats", type=int, default=5)
    return parser.parse_args(argv)


def gallery_worker(size: int, inputs_file: Path, models: Path, quick: bool, repeats: int) -> dict:
    """Run bench.gallery for one size in a fresh process; its JSON result."""
    command = [sys.executable, "-m", "bench.gallery", str(size), "--vectors", str(inputs_file)]
    command += ["--models", str(models), "--runs", str(repeats)]
    command += ["--quick", "--queries", "50"] if quick else []
    return _json_of(command)


def _json_of(command: list[str]) -> dict:
    """Run a benchmark module in a fresh process (its peak memory its own); the JSON it printed last."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command[2:4])} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def stores_worker(size: int, inputs_file: Path, models: Path) -> dict:
    """Run bench.milvus (local store against milvus-lite) in a fresh process; its JSON result."""
    command = [sys.executable, "-m", "bench.milvus", str(size), "--vectors", str(inputs_file)]
    return _json_of([*command, "--models", str(models)])


def run(args: argparse.Namespace) -> dict:
    """All figures as one dict (lists of repeated measurements where repeated)."""
    quick, repeats = args.quick, 2 if args.quick else args.repeats
    models = SearchModels(args.models, threads=THREADS)
    text_engines = {"onnxruntime": models}
    if not quick and TEXT_ENCODER_INT8 in models.manifest.files:
        text_engines["onnxruntime int8"] = SearchModels(args.models, threads=THREADS, int8=True)
    eager = TorchModels(args.checkpoint, THREADS)
    data_dir = locate_data_dir(args.data)
    queries = allowed_queries(data_dir)
    images = sorted((data_dir / "train_images").glob("*.jpg"))[: 48 if quick else 256]
    texts = queries[:48] if quick else queries
    figures: dict = {
        "threads": THREADS,
        "image_batch": IMAGE_BATCH,
        "images": len(images),
        "texts": len(texts),
    }
    figures["image"] = image_rates(models, eager, images, repeats)
    batches = (1,) if quick else TEXT_BATCHES
    figures["text"] = {str(b): text_rates(text_engines, eager, texts, b, repeats) for b in batches}
    # from nothing: decode, embed, detector (faces where they could matter), save; the
    # vectors built are the real ones the synthetic galleries are drawn like
    gallery = linked_slice(data_dir / "train_images", 200) if quick else data_dir / "train_images"
    build_repeats = 1 if quick else 2
    figures["index_build_s_per_1000"], vectors = index_build_seconds_per_1000(models, gallery, build_repeats)
    inputs = RealInputs(vectors, queries)
    inputs_file = save_inputs(inputs, CACHE / ("inputs-quick.npz" if quick else "inputs.npz"))
    sizes = [100_000] if quick else (args.sizes or SIZES)
    figures["galleries"] = [
        gallery_worker(s, inputs_file, args.models, quick, min(repeats, 3)) for s in sizes
    ]
    if not quick:
        figures["stores"] = stores_worker(STORES_SIZE, inputs_file, args.models)
        figures["quality"] = quality(data_dir, args.models, text_engines)
        figures["load"] = load_test(LOAD_CLIENTS, LOAD_SECONDS, data_dir / "test_images", args.models)
    return figures


def quality(data_dir: Path, models_dir: Path, engines: dict) -> dict:
    """Recall@1/5/10 on the shared test set for each text encoder variant."""
    from inference.engine.evaluate import evaluate_test_set

    return {
        name: evaluate_test_set(data_dir, models_dir, int8="int8" in name)
        for name in engines
        if name.startswith("onnxruntime")
    }


def headline(figures: dict) -> dict:
    """The headline figures `--quick --json` prints."""
    image, text = figures["image"], figures["text"]["1"]
    at_100k = [g[g["default"]]["p95_ms"] for g in figures["galleries"] if g["size"] == 100_000]
    return {
        "image_ort_vs_torch": round(float(np.median(image["onnxruntime"]) / np.median(image["pytorch"])), 2),
        "text_ort_vs_torch": round(float(np.median(text["onnxruntime"]) / np.median(text["pytorch"])), 2),
        "query_p95_ms_100k": round(float(np.median(at_100k[0])), 2) if at_100k else None,
        "index_images_per_s": round(1000.0 / float(np.median(figures["index_build_s_per_1000"])), 1),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        figures = run(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.quick:
        from bench.report import write_report

        (CACHE / "figures.json").write_text(json.dumps(figures))  # to re-render without re-measuring

        write_report(
            figures, RESULTS, headline(figures), " ".join(["python -m bench", *(argv or sys.argv[1:])])
        )
        print(f"wrote {RESULTS}", file=sys.stderr)
    if args.json:
        print(json.dumps(headline(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
