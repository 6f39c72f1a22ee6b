"""The local store against milvus-lite and, with --server, a Milvus standalone server (PyPI's
`milvus` package, started on a free loopback port and stopped after), one gallery size:

python -m bench.milvus SIZE --vectors FILE [--models DIR] [--queries Q] [--server]

Prints one JSON object: for each store, the time to build it from the vectors
(local: the index file and its approximate index, where the size calls for
one; milvus-lite: inserting every row and sealing them), its size on disk and
query latency p50/p95 through PhotoSearch.search; and the share of the local
store's top 10 that each Milvus returns. The vectors are synthetic (bench/vectors.py).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bench.gallery import TOP_K, _runs, write_index
from inference.engine.front import PhotoSearch
from inference.models.exported import DEFAULT_MODELS_DIR, SearchModels
from inference.store.index import load_index


def _disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _store_figures(engine: PhotoSearch, build_s: float, folder: Path, queries: list[str]) -> dict:
    runs = _runs(engine, queries, 1)
    return {
        "build_s": build_s,
        "disk_mb": _disk_mb(folder),
        "p50_ms": runs["p50_ms"][0],
        "p95_ms": runs["p95_ms"][0],
        "found": runs["found"],
    }


@contextmanager
def milvus_server(base_dir: Path) -> Iterator[str]:
    """A Milvus standalone server on a free loopback port, its data in `base_dir`; its URI."""
    with milvus_server_process(base_dir) as (uri, _):
        yield uri


@contextmanager
def milvus_server_process(base_dir: Path) -> Iterator[tuple[str, int]]:
    """`milvus_server`, with the server's process id (for its memory)."""
    from milvus import MilvusServer

    server = MilvusServer()
    server.set_base_dir(str(base_dir))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        server.listen_port = probe.getsockname()[1]
    server.start()
    try:  # the package may move the port: read back
        yield f"http://127.0.0.1:{server.listen_port}", server.server_proc.pid
    finally:
        server.stop()


def measure(size: int, inputs: Path, models_dir: Path, queries: int, server: bool = False) -> dict:
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
        local = PhotoSearch.over_vectors(models, index.paths, index.vectors, index_file=index_file)
        result["local"] = _store_figures(local, time.perf_counter() - start, local_dir, texts)
        start = time.perf_counter()
        store = str(milvus_dir / "gallery.db")
        milvus = PhotoSearch.over_vectors(models, index.paths, index.vectors, store=store)
        result["milvus-lite"] = _store_figures(milvus, time.perf_counter() - start, milvus_dir, texts)
        if server:
            with milvus_server(Path(tmp) / "server") as uri:
                start = time.perf_counter()
                remote = PhotoSearch.over_vectors(models, index.paths, index.vectors, store=uri)
                figures = _store_figures(remote, time.perf_counter() - start, Path(tmp) / "server", texts)
                result["milvus-server"] = figures
    local_found = result["local"].pop("found")
    for store, key in (("milvus-lite", "milvus"), ("milvus-server", "server")):
        if store in result:
            found = result[store].pop("found")
            shared = [len(set(a) & set(b)) / TOP_K for a, b in zip(local_found, found, strict=True)]
            result[f"{key}_top10_share_of_local"] = float(np.mean(shared))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.milvus", description=__doc__)
    parser.add_argument("size", type=int)
    parser.add_argument("--vectors", type=Path, required=True, help="npz with real images and query texts")
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--server", action="store_true", help="also a Milvus server on a loopback port")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.size, args.vectors, args.models, args.queries, args.server)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
