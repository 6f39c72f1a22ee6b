"""The local store against milvus-lite, one gallery size:

python -m bench.milvus SIZE --vectors FILE [--models DIR] [--queries Q]

Prints one JSON object: for each store, the time to build it from the vectors
(local: the index file and its approximate index, where the size calls for
one; milvus-lite: inserting every row and sealing them), its size on disk and
query latency p50/p95 through SearchEngine.search; and the share of the local
store's top 10 that milvus-lite returns. The vectors are synthetic (bench/vectors.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.gallery import TOP_K, _runs, write_index
from inference.index import load_index
from inference.models import DEFAULT_MODELS_DIR, SearchModels
from inference.search import SearchEngine


def _disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _store_figures(engine: SearchEngine, build_s: float, folder: Path, queries: list[str]) -> dict:
    runs = _runs(engine, queries, 1)
    return {
        "build_s": build_s,
        "disk_mb": _disk_mb(folder),
        "p50_ms": runs["p50_ms"][0],
        "p95_ms": runs["p95_ms"][0],
        "found": runs["found"],
    }


def measure(size: int, inputs: Path, models_dir: Path, queries: int) -> dict:
    """Both stores over the same `size` synthetic vectors; see the module docstring."""
    with np.load(inputs) as data:
        real, texts = data["images"], [str(t) for t in data["texts"]][:queries]
    models = SearchModels(models_dir)
    result: dict = {"size": size, "queries": len(texts)}
    with tempfile.TemporaryDirectory(dir=Path(models_dir).parent) as tmp:
        local_dir, milvus_dir = Path(tmp) / "local", Path(tmp) / "milvus"
        local_dir.mkdir()
        start = time.perf_counter()
        index_file = write_index(size, real, local_dir, models)
        index = load_index(index_file, local_dir, models.model_id)
        assert index is not None
        local = SearchEngine.from_vectors(models, index.paths, index.vectors, index_file=index_file)
        result["local"] = _store_figures(local, time.perf_counter() - start, local_dir, texts)
        start = time.perf_counter()
        store = str(milvus_dir / "gallery.db")
        milvus = SearchEngine.from_vectors(models, index.paths, index.vectors, store=store)
        result["milvus-lite"] = _store_figures(milvus, time.perf_counter() - start, milvus_dir, texts)
    local_found, milvus_found = result["local"].pop("found"), result["milvus-lite"].pop("found")
    shared = [len(set(a) & set(b)) / TOP_K for a, b in zip(local_found, milvus_found, strict=True)]
    result["milvus_top10_share_of_local"] = float(np.mean(shared))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.milvus", description=__doc__)
    parser.add_argument("size", type=int)
    parser.add_argument("--vectors", type=Path, required=True, help="npz with real images and query texts")
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.size, args.vectors, args.models, args.queries)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
