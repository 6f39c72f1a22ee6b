"""The approximate index's settings side by side: projection size, share of lists
probed and candidates re-ranked, on a real-derived or a synthetic gallery.

python -m bench.ann_grid [--per-photo N | --synthetic SIZE] [--models DIR] [--data DIR]

For each setting: recall@10 against exact search for the test queries the policy
allows, and the ranker's own p50/p95 per query (vectors in memory, no text
embedding: `python -m bench.gallery` times the whole search). JSON on stdout.
The real-derived gallery is `bench.augmented`'s (cached; embedding it takes minutes).
Each setting probes at least `MIN_PROBES` lists, as the engine does.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.augmented import cached_derived, source_photos
from bench.cli import data_parser, print_json
from bench.vectors import real_inputs, synthetic_codes
from inference.data.download import locate_data_dir
from inference.models.exported import SearchModels
from inference.store.ranking import AnnSettings, ApproximateRanker, single_thread_blas, top_k
from inference.store.vectors import Int8Rows

#: (projected dimensions, share of lists probed, candidates re-ranked)
SETTINGS = [
    AnnSettings(128, 1 / 4, 512),
    AnnSettings(128, 1 / 4, 2048),
    AnnSettings(128, 1 / 8, 2048),
    AnnSettings(192, 1 / 4, 1024),
    AnnSettings(192, 1 / 8, 1024),
    AnnSettings(192, 1 / 16, 1024),
]


def _gallery(
    models: SearchModels, data_dir: Path, per_photo: int, synthetic: int, real: np.ndarray
) -> Int8Rows:
    if synthetic:
        return synthetic_codes(real, synthetic)
    return Int8Rows.quantize(cached_derived(models, source_photos(data_dir), per_photo))


def _setting(gallery: Int8Rows, queries: np.ndarray, exact: list[set[int]], settings: AnnSettings) -> dict:
    ranker = ApproximateRanker(gallery, settings=settings)
    for query in queries:  # warm-up pass
        ranker.top(query, 10)
    seconds, found = [], []
    for query in queries:
        start = time.perf_counter()
        found.append(set(ranker.top(query, 10).tolist()))
        seconds.append(time.perf_counter() - start)
    return {
        "projected_dim": settings.projected_dim,
        "lists_probed": settings.probe_fraction,
        "candidates": settings.candidates,
        "recall_at_10": float(np.mean([len(f & e) / 10 for f, e in zip(found, exact, strict=True)])),
        "p50_ms": 1e3 * float(np.percentile(seconds, 50)),
        "p95_ms": 1e3 * float(np.percentile(seconds, 95)),
    }


def measure(models: SearchModels, data_dir: Path, per_photo: int, synthetic: int) -> dict:
    real = real_inputs(models, data_dir)
    gallery = _gallery(models, data_dir, per_photo, synthetic, real.images)
    queries = models.embed_texts(real.texts)
    single_thread_blas()  # as the engine serves
    exact = [set(top_k(gallery, query, 10).tolist()) for query in queries]
    rows = [_setting(gallery, queries, exact, settings) for settings in SETTINGS]
    source = f"synthetic {synthetic}" if synthetic else f"real-derived, {per_photo} variants a photo"
    return {"gallery": source, "vectors": len(gallery), "queries": len(queries), "settings": rows}


def main(argv: list[str] | None = None) -> int:
    parser = data_parser("python -m bench.ann_grid", __doc__)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--per-photo", type=int, default=94, help="real-derived variants of each photo")
    source.add_argument("--synthetic", type=int, default=0, help="a synthetic gallery of this size instead")
    args = parser.parse_args(argv)
    if args.per_photo < 1:
        parser.error(f"--per-photo {args.per_photo}: must be at least 1")
    if args.synthetic < 0:
        parser.error(f"--synthetic {args.synthetic}: a gallery size cannot be negative")
    return print_json(
        lambda: measure(
            SearchModels(args.models, threads=2), locate_data_dir(args.data), args.per_photo, args.synthetic
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
