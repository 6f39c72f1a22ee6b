"""One gallery size, in a process of its own so its peak memory is its own:

python -m bench.gallery SIZE --vectors FILE [--models DIR] [--queries Q] [--runs R] [--quick]

Prints one JSON object: cold start, approximate index build time, index size
on disk, query latency p50/p95 (exact and approximate, each over R runs of Q
queries through SearchEngine.search, the engine's real path: normalise, policy,
embed the text, rank, score the top K), recall@10 of approximate vs exact,
and peak RSS. No torch is imported here.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.vectors import synthetic_gallery
from inference.index import GalleryIndex, load_index, save_index
from inference.models import DEFAULT_MODELS_DIR, SearchModels
from inference.ranking import ann_threshold
from inference.search import SearchEngine

TOP_K = 10


def _latencies(engine: SearchEngine, queries: list[str]) -> tuple[list[float], list[list[Path]]]:
    """Seconds per search, and the images each search returned."""
    seconds, found = [], []
    for query in queries:
        start = time.perf_counter()
        response = engine.search(query, k=TOP_K)
        seconds.append(time.perf_counter() - start)
        found.append([r.image for r in response.results])
    return seconds, found


def _runs(engine: SearchEngine, queries: list[str], runs: int) -> dict:
    """p50 and p95 in ms for each run; the images found in the last run."""
    _latencies(engine, queries)  # warm-up pass: onnxruntime plans each new text length once
    p50, p95 = [], []
    found: list[list[Path]] = []
    for _ in range(runs):
        seconds, found = _latencies(engine, queries)
        p50.append(1e3 * float(np.percentile(seconds, 50)))
        p95.append(1e3 * float(np.percentile(seconds, 95)))
    return {"p50_ms": p50, "p95_ms": p95, "found": found}


def _cold_start(models_dir: Path, index_file: Path, query: str) -> tuple[float, SearchEngine]:
    """Seconds from nothing to the first answer: models, index file, ranker, one search."""
    start = time.perf_counter()
    models = SearchModels(models_dir)
    index = load_index(index_file, index_file.parent, models.model_id)
    if index is None:
        raise RuntimeError(f"{index_file}: benchmark index did not load")
    engine = SearchEngine.from_vectors(models, index.paths, index.vectors, index_file=index_file)
    engine.search(query)
    return time.perf_counter() - start, engine


def measure(
    size: int, real: np.ndarray, queries: list[str], models_dir: Path, runs: int, quick: bool
) -> dict:
    vectors = synthetic_gallery(real, size)
    names = [f"{i:07d}.jpg" for i in range(size)]
    models = SearchModels(models_dir)
    result: dict = {"size": size, "default": "approximate" if size >= ann_threshold() else "exact"}
    with tempfile.TemporaryDirectory(dir=Path(models_dir).parent) as tmp:
        if not quick:  # the real on-disk index, written and read back as the engine does
            index_file = Path(tmp) / "gallery.npz"
            stamps = [(0, 0)] * size
            save_index(
                GalleryIndex(Path(tmp), names, stamps, vectors, np.zeros(size, np.float32)),
                index_file,
                models.model_id,
            )
            result["index_mb"] = index_file.stat().st_size / 1e6
            del vectors
            # the first start trains the approximate index and saves it beside the index
            # file; a restart over the unchanged gallery loads it
            result["first_start_s"], engine = _cold_start(Path(models_dir), index_file, queries[0])
            del engine
            result["cold_start_s"], engine = _cold_start(Path(models_dir), index_file, queries[0])
            vectors = engine.view.parts[0].vectors
        paths = [Path(name) for name in names]
        exact = SearchEngine.from_vectors(models, paths, vectors, ann_threshold=size + 1)
        start = time.perf_counter()
        approximate = SearchEngine.from_vectors(models, paths, vectors, ann_threshold=0)
        result["ann_build_s"] = time.perf_counter() - start
        exact_runs = _runs(exact, queries, 1 if size >= 1_000_000 else runs)
        approx_runs = _runs(approximate, queries, runs)
    recall = [
        len(set(a) & set(e)) / max(1, len(e))
        for a, e in zip(approx_runs.pop("found"), exact_runs.pop("found"), strict=True)
    ]
    result.update(exact=exact_runs, approximate=approx_runs, recall_at_10=float(np.mean(recall)))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gallery", description=__doc__)
    parser.add_argument("size", type=int)
    parser.add_argument("--vectors", type=Path, required=True, help="npz with real images and query texts")
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the on-disk index and cold start")
    args = parser.parse_args(argv)
    with np.load(args.vectors) as data:
        real, texts = data["images"], [str(t) for t in data["texts"]]
    result = measure(args.size, real, texts[: args.queries], args.models, args.runs, args.quick)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
