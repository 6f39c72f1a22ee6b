"""One gallery size, in a process of its own so its peak memory is its own:

python -m bench.gallery SIZE --vectors FILE [--models DIR] [--queries Q] [--runs R] [--quick]

Prints one JSON object: index size on disk, first start (training the
approximate index and saving it) and cold start (loading it), query latency
p50/p95 (exact and approximate, each over R runs of Q queries through
PhotoSearch.search, the engine's real path: normalise, policy, embed the text,
rank, score the top K), recall@10 of approximate vs exact, and the serving
process's peak RSS. This process only writes the index; each start runs in a
serving process of its own (`--serve`), so the generator's memory is not
counted. No torch is imported here.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.cli import BenchError
from bench.vectors import synthetic_codes
from inference.engine.front import PhotoSearch
from inference.models.exported import DEFAULT_MODELS_DIR, SearchModels
from inference.policy import warm_up_in_background
from inference.store.index import SIGNALS, GalleryIndex, load_index, save_index
from inference.store.ranking import ann_threshold

TOP_K = 10


def _latencies(engine: PhotoSearch, queries: list[str]) -> tuple[list[float], list[list[Path]]]:
    """Seconds per search, and the images each search returned."""
    seconds, found = [], []
    for query in queries:
        start = time.perf_counter()
        response = engine.search(query, k=TOP_K)
        seconds.append(time.perf_counter() - start)
        found.append([r.image for r in response.results])
    return seconds, found


def _runs(engine: PhotoSearch, queries: list[str], runs: int) -> dict:
    """p50 and p95 in ms for each run; the images found in the last run."""
    _latencies(engine, queries)  # warm-up pass: onnxruntime plans each new text length once
    p50, p95 = [], []
    found: list[list[Path]] = []
    for _ in range(runs):
        seconds, found = _latencies(engine, queries)
        p50.append(1e3 * float(np.percentile(seconds, 50)))
        p95.append(1e3 * float(np.percentile(seconds, 95)))
    return {"p50_ms": p50, "p95_ms": p95, "found": found}


def _cold_start(models_dir: Path, index_file: Path, query: str) -> tuple[float, PhotoSearch]:
    """Seconds from nothing to the first answer: models, index file, ranker, one search.
    The policy's dictionaries start loading first, as PhotoSearch starts them before it
    reads its gallery's index (here the index is read before the engine exists)."""
    start = time.perf_counter()
    warm_up_in_background()
    models = SearchModels(models_dir)
    index = load_index(index_file, index_file.parent, models.model_id)
    if index is None:
        raise BenchError(f"{index_file}: benchmark index did not load")
    engine = PhotoSearch.over_vectors(models, index.paths, index.vectors, index_file=index_file)
    engine.search(query)
    return time.perf_counter() - start, engine


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM starts afresh at exec;
    getrusage's ru_maxrss does not (it would report the parent's peak when higher)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, bytes on macOS


def serve(index_file: Path, queries: list[str], models_dir: Path, runs: int) -> dict:
    """The serving side alone, as a user's process runs it: start over the index file
    (loading a saved approximate index, or training and saving it), then search."""
    result: dict = {}
    result["start_s"], approximate = _cold_start(models_dir, index_file, queries[0])
    result["ann_loaded"] = approximate.view.parts[0].ranker.loaded
    approx_runs = _runs(approximate, queries, runs)
    result["peak_rss_mb"] = _peak_rss_mb()  # before the exact pass, which no user runs at this size
    vectors = approximate.view.parts[0].vectors
    exact = PhotoSearch.over_vectors(
        approximate.models, approximate.view.paths, vectors, ann_threshold=len(vectors) + 1
    )
    exact_runs = _runs(exact, queries, 1 if len(vectors) >= 1_000_000 else runs)
    recall = [
        len(set(a) & set(e)) / max(1, len(e))
        for a, e in zip(approx_runs.pop("found"), exact_runs.pop("found"), strict=True)
    ]
    return {**result, "approximate": approx_runs, "exact": exact_runs, "recall_at_10": float(np.mean(recall))}


def _serving_process(
    size: int, index_file: Path, inputs: Path, models_dir: Path, queries: int, runs: int
) -> dict:
    command = [
        sys.executable,
        "-m",
        "bench.gallery",
        str(size),
        "--vectors",
        str(inputs),
        "--serve",
        str(index_file),
    ]
    command += ["--models", str(models_dir), "--queries", str(queries), "--runs", str(runs)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"bench.gallery --serve failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def write_index(size: int, real: np.ndarray, folder: Path, models: SearchModels) -> Path:
    """The synthetic gallery as an index file, written as the engine writes one."""
    codes = synthetic_codes(real, size)
    names = [f"{i:07d}.jpg" for i in range(size)]
    index_file = folder / "gallery.npz"
    stamps = [(0, 0)] * size
    signals = np.full((size, SIGNALS), np.nan, np.float32)  # no detector ran: not recorded
    index = GalleryIndex(folder, names, stamps, codes, np.zeros(size, np.float32), signals, None)
    save_index(index, index_file, models.model_id)
    return index_file


def measure(size: int, inputs: Path, queries: int, models_dir: Path, runs: int, quick: bool) -> dict:
    """Index file written here; first start and restart each in a serving process of its own."""
    with np.load(inputs) as data:
        real = data["images"]
    models = SearchModels(models_dir)
    result: dict = {"size": size, "default": "approximate" if size >= ann_threshold() else "exact"}
    with tempfile.TemporaryDirectory(dir=Path(models_dir).parent) as tmp:
        index_file = write_index(size, real, Path(tmp), models)
        result["index_mb"] = index_file.stat().st_size / 1e6
        if not quick:  # the first start trains the approximate index and saves it beside the index file
            first = _serving_process(size, index_file, inputs, models_dir, 1, 1)
            result["first_start_s"], result["first_start_peak_rss_mb"] = (
                first["start_s"],
                first["peak_rss_mb"],
            )
        served = _serving_process(size, index_file, inputs, models_dir, queries, runs)
        saved_ann = index_file.parent.glob(f"{index_file.stem}.ann.*")  # the trained approximate index
        result["ann_index_mb"] = sum(path.stat().st_size for path in saved_ann) / 1e6
    result["cold_start_s" if not quick else "first_start_s"] = served.pop("start_s")
    return {**result, **served}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gallery", description=__doc__)
    parser.add_argument("size", type=int)
    parser.add_argument("--vectors", type=Path, required=True, help="npz with real images and query texts")
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the first start (training the index)")
    parser.add_argument(
        "--serve", type=Path, default=None, help="internal: the serving process over this index"
    )
    args = parser.parse_args(argv)
    if args.serve is not None:
        with np.load(args.vectors) as data:
            texts = [str(t) for t in data["texts"]][: args.queries]
        print(json.dumps(serve(args.serve, texts, args.models, args.runs)))
        return 0
    print(json.dumps(measure(args.size, args.vectors, args.queries, args.models, args.runs, args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
