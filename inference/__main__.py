"""Command line for the ONNX search engine (no torch).

python -m inference search "QUERY" --gallery DIR [--models DIR] [--top-k K] [--json]
python -m inference evaluate --data DIR [--models DIR] [--approximate] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inference.dataset import DataError
from inference.milvus_store import STORE_HELP, StoreError, parse_store
from inference.models import DEFAULT_MODELS_DIR, ModelFilesError
from inference.policy import POLICIES
from inference.preprocess import ImageError
from inference.ranking import SettingError
from inference.search import QueryError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m inference", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="top K gallery images for a query")
    search.add_argument("query")
    search.add_argument("--gallery", type=Path, required=True)
    search.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    search.add_argument("--top-k", type=int, default=10)
    search.add_argument("--json", action="store_true")
    search.add_argument("--int8", action="store_true", help="use the int8 text encoder (export --int8)")
    search.add_argument(
        "--policy",
        choices=POLICIES,
        default="strict",
        help="content policy: strict (default) or off (private)",
    )
    search.add_argument(
        "--store",
        default=None,
        help=STORE_HELP,
    )
    evaluate = commands.add_parser("evaluate", help="Recall@K of the ONNX engine on the test set")
    evaluate.add_argument("--data", type=Path, default=None)
    evaluate.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--int8", action="store_true", help="use the int8 text encoder (export --int8)")
    evaluate.add_argument(
        "--approximate", action="store_true", help="rank with the approximate (faiss) ranker at any size"
    )
    evaluate.add_argument(
        "--store",
        default=None,
        help=STORE_HELP,
    )
    args = parser.parse_args(argv)
    if getattr(args, "top_k", 1) < 1:
        parser.error("--top-k must be at least 1")
    return args


def run_search(args: argparse.Namespace) -> dict:
    from inference.models import SearchModels
    from inference.search import SearchEngine, normalize_query

    normalize_query(args.query)  # fail fast, before loading models
    store = parse_store(args.store)
    models = SearchModels(args.models, int8=args.int8)
    engine = SearchEngine(args.gallery, models, progress=not args.json, policy=args.policy, store=store)
    response = engine.search(args.query, k=args.top_k).to_json()
    if not args.json:
        if response["message"]:
            print(response["message"])
        if response["notice"]:
            print(response["notice"])
        for r in response["results"]:
            score = "  -  " if r["score"] is None else f"{r['score']:.3f}"
            print(f"{score}  {'[restricted] ' if r['restricted'] else ''}{r['image']}")
        for line in response["skipped"]:
            print(f"skipped {line}", file=sys.stderr)
    return response


def run_evaluate(args: argparse.Namespace) -> dict:
    from inference.evaluate import evaluate_test_set

    store = parse_store(args.store)
    metrics = evaluate_test_set(args.data, args.models, args.int8, args.approximate, store)
    if not args.json:
        for key, value in metrics.items():
            print(f"{key:24s} {value}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run_search(args) if args.command == "search" else run_evaluate(args)
    except (
        QueryError,
        ModelFilesError,
        DataError,
        FileNotFoundError,
        ImageError,
        SettingError,
        StoreError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
