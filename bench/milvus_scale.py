"""Milvus at scale (issue 47): the approximate store through a Milvus server on loopback (PyPI's
`milvus` package), the local store measured beside it in the same run.

python -m bench.milvus_scale [--size N] [--per-photo P] [--models DIR] [--queries Q] [--json]

- latency: `--size` synthetic vectors (drawn as bench.gallery draws them); the time to build
  each store, the server's disk and memory, and a search through the engine (the query
  embedded, the policy read, ranked, probabilities) p50/p95;
- recall: real-derived vectors (`bench.augmented`'s way: P variants of each data-set photo,
  cached between runs in cache/bench): the share of the exact top 10 the store returns.

The model's projection (projection.npz) is used where the model has one; a model exported
before it gets one fitted here on its training photos' vectors, as training fits it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from bench.augmented import cached_derived, source_photos
from bench.gallery import _runs
from bench.milvus import _disk_mb, milvus_server_process
from bench.vectors import real_inputs, synthetic_codes
from inference.data.download import locate_data_dir
from inference.engine.front import PhotoSearch
from inference.models.exported import DEFAULT_MODELS_DIR, SearchModels
from inference.store.milvus import VECTOR_FIELD, MilvusRanker
from inference.store.projection import Projection
from inference.store.ranking import top_k
from inference.store.vectors import Int8Rows

CANDIDATES = (256, 128, 64)  # re-ranked per query: each measured on the same server


def _engine(models: SearchModels, vectors: Int8Rows, store: str | None) -> tuple[PhotoSearch, float]:
    paths = [Path(f"/synthetic/{i:08d}.jpg") for i in range(len(vectors))]
    start = time.perf_counter()
    engine = PhotoSearch.over_vectors(models, paths, vectors, store=store)
    return engine, time.perf_counter() - start


def _latency(engine: PhotoSearch, queries: list[str]) -> dict:
    runs = _runs(engine, queries, 1)
    return {"p50_ms": round(runs["p50_ms"][0], 1), "p95_ms": round(runs["p95_ms"][0], 1)}


def _indexed(engine: PhotoSearch, limit_s: float = 1800) -> float:
    """Seconds until the store's index covers every row (Milvus builds it after the rows are
    sealed; until then a search scans the unindexed segments)."""
    ranker = engine.view.parts[0].ranker
    assert isinstance(ranker, MilvusRanker)
    start = time.perf_counter()
    while time.perf_counter() - start < limit_s:
        described = ranker.client.describe_index(ranker.name, index_name=VECTOR_FIELD)
        if int(described.get("pending_index_rows", 0)) == 0 and described.get("state") != "InProgress":
            break
        time.sleep(2)
    return time.perf_counter() - start


def _recall(engine: PhotoSearch, exact: np.ndarray, queries: np.ndarray) -> float:
    ranker = engine.view.parts[0].ranker
    found = [len(set(ranker.top(q, 10).tolist()) & set(top_k(exact, q, 10).tolist())) / 10 for q in queries]
    return round(float(np.mean(found)), 4)


def measure(models_dir: Path, size: int, per_photo: int, queries: int) -> dict:
    models = SearchModels(models_dir)
    data = locate_data_dir(None)
    real = real_inputs(models, data)
    if models.projection is None:  # exported before the projection: fitted as training fits it
        models.projection = Projection.fit(real.images)  # type: ignore[misc]
    texts = real.texts[:queries]
    synthetic = synthetic_codes(real.images, size)
    derived = Int8Rows.quantize(cached_derived(models, source_photos(data), per_photo))
    query_vectors = models.embed_queries(texts).vectors
    result: dict = {"size": size, "queries": len(texts), "derived": len(derived)}
    local, seconds = _engine(models, synthetic, None)
    result["local"] = {"build_s": round(seconds, 1), **_latency(local, texts)}
    local_derived, _ = _engine(models, derived, None)
    result["local"]["recall_at_10"] = _recall(local_derived, derived[:], query_vectors)
    del local, local_derived
    with tempfile.TemporaryDirectory() as work, milvus_server_process(Path(work)) as (uri, pid):
        server, seconds = _engine(models, synthetic, uri)
        waited = _indexed(server)
        memory = psutil.Process(pid).memory_info().rss / 1e6
        result["server"] = {
            "build_s": round(seconds, 1),
            "index_wait_s": round(waited, 1),
            "disk_mb": round(_disk_mb(Path(work)), 1),
            "memory_mb": round(memory, 1),
        }
        derived_server, _ = _engine(models, derived, uri)
        _indexed(derived_server)
        for candidates in CANDIDATES:
            for engine in (server, derived_server):
                engine.view.parts[0].ranker.candidates = candidates  # type: ignore[attr-defined]
            result["server"][f"candidates_{candidates}"] = {
                **_latency(server, texts),
                "recall_at_10": _recall(derived_server, derived[:], query_vectors),
            }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.milvus_scale", description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--per-photo", type=int, default=94, help="variants of each of the 1,070 photos")
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.models, args.size, args.per_photo, args.queries)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
