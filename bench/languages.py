"""What a query costs in each language: `PhotoSearch.search` over a gallery of 1,000
synthetic vectors, so the figure is the query's own cost (the content policy, the
language identification, tokenising and embedding), not the gallery's.

python -m bench.languages [--models DIR] [--baseline DIR] [--repeats N] [--json]

`--baseline` names a model folder to compare with (an English-only export): the
target is that a query in any language costs at most twice an English query there.
Queries: our translated validation captions (train/translated_validation.tsv)
and English captions of the same length range.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inference.engine.front import PhotoSearch
from inference.models.exported import DEFAULT_MODELS_DIR, ModelFilesError, SearchModels

TRANSLATIONS = Path(__file__).resolve().parent.parent / "train" / "translated_validation.tsv"
ENGLISH = [
    "a black dog jumping to catch a rope toy",
    "two dogs playing in the snow",
    "a man in a red jacket on a mountain",
    "people sitting on a beach at sunset",
    "a woman riding a bike down the street",
]


def query_milliseconds(engine: PhotoSearch, queries: list[str], repeats: int) -> list[float]:
    """Milliseconds of each search, `repeats` passes over `queries`, one query at a time."""
    times = []
    for _ in range(repeats):
        for query in queries:
            start = time.perf_counter()
            engine.search(query)
            times.append((time.perf_counter() - start) * 1000)
    return times


def measure(models: SearchModels, repeats: int) -> dict[str, dict[str, float]]:
    """{language: {"p50_ms", "p95_ms"}} for English and each translated language."""
    translations = pd.read_csv(TRANSLATIONS, sep="\t", quoting=3)
    groups = {"en": ENGLISH} | {
        str(lang): rows["query_text"].head(len(ENGLISH)).tolist()
        for lang, rows in translations.groupby("language")
    }
    vectors = np.random.default_rng(0).standard_normal((1000, models.manifest.vector_dim), np.float32)
    engine = PhotoSearch.over_vectors(models, [Path(f"{i}.jpg") for i in range(1000)], vectors)
    query_milliseconds(engine, ENGLISH, 3)  # warm-up: sessions, dictionaries
    figures = {}
    for language, queries in groups.items():
        times = query_milliseconds(engine, queries, repeats)
        figures[language] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(statistics.quantiles(times, n=20)[-1], 2),
        }
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.languages", description=__doc__)
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--baseline", type=Path, default=None, help="an English-only model folder")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print only JSON on stdout")
    args = parser.parse_args(argv)
    try:
        result: dict[str, Any] = {"models": measure(SearchModels(args.models, threads=1), args.repeats)}
        if args.baseline:
            result["baseline"] = measure(SearchModels(args.baseline, threads=1), args.repeats)
            english = result["baseline"]["en"]["p50_ms"]
            result["worst_vs_baseline_english"] = round(
                max(row["p50_ms"] for row in result["models"].values()) / english, 2
            )
    except ModelFilesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
