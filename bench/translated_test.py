"""Search in another language on held-back data: our Russian translations of test
queries (bench/translated_test.tsv; two per test photo without children), searched
through `PhotoSearch.search` over the test images as a plain folder (no captions,
the strict policy on, as a user's gallery), beside the English originals.

python -m bench.translated_test [--models DIR] [--data DIR]   (JSON on stdout)

Held back: no design choice was made on these figures (the validation
translations, train/translated_validation.tsv, are where designs were chosen).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.cli import data_parser, linked_test_photos, print_json
from inference.data.dataset import load_test_set
from inference.data.download import locate_data_dir
from inference.data.metrics import retrieval_metrics
from inference.engine.front import PhotoSearch
from inference.models.exported import SearchModels

TRANSLATIONS = Path(__file__).resolve().parent / "translated_test.tsv"
FIGURES = ("recall@1", "recall@5", "recall@10")


def own_ranks(engine: PhotoSearch, queries: list[str], owners: list[str]) -> np.ndarray:
    """1-based rank of each query's own photo among every photo of the gallery [Q];
    a refused query ranks last (N + 1)."""
    size = len(engine.view.paths)
    ranks = []
    for query, owner in zip(queries, owners, strict=True):
        names = [result.image.name for result in engine.search(query, k=size).results]
        ranks.append(names.index(owner) + 1 if owner in names else size + 1)
    return np.array(ranks)


def figures(ranks: np.ndarray) -> dict:
    metrics = retrieval_metrics(ranks)
    return {"queries": len(ranks), **{k: round(float(metrics[k]), 1) for k in FIGURES}}


def measure(data_dir: Path, models_dir: Path) -> dict:
    test = load_test_set(data_dir)
    translations = pd.read_csv(TRANSLATIONS, sep="\t", quoting=3, dtype=str)
    english = test.queries.set_index("query_id")["query_text"]
    with tempfile.TemporaryDirectory() as work:
        gallery = linked_test_photos(test, Path(work) / "gallery")
        models = SearchModels(models_dir)
        engine = PhotoSearch(models, index_dir=Path(work) / "cache").ensure_index(gallery)
        result = {}
        for language, rows in translations.groupby("language"):
            owners = rows["query_id"].str.split("#").str[0].tolist()
            translated = figures(own_ranks(engine, rows["query_text"].tolist(), owners))
            originals = figures(own_ranks(engine, english[rows["query_id"]].tolist(), owners))
            result[str(language)] = {
                "translated": translated,
                "english": originals,
                "ratio_recall@1": round(translated["recall@1"] / max(originals["recall@1"], 1e-9), 3),
                "ratio_recall@10": round(translated["recall@10"] / max(originals["recall@10"], 1e-9), 3),
            }
    return {"gallery_images": len(test.images), "languages": result}


def main(argv: list[str] | None = None) -> int:
    args = data_parser("python -m bench.translated_test", __doc__).parse_args(argv)
    return print_json(lambda: measure(locate_data_dir(args.data), args.models))


if __name__ == "__main__":
    sys.exit(main())
