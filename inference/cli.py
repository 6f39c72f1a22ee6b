"""Command line for the ONNX search engine (no torch).

python -m inference search "QUERY" --gallery DIR [--models DIR] [--top-k K] [--offset N]
    [--after DATE] [--before DATE] [--under FOLDER] [--newest-first [N]] [--words all|names|off] [--json]
python -m inference duplicates --gallery DIR [--models DIR] [--json]
python -m inference evaluate --data DIR [--models DIR] [--approximate] [--json]
python -m inference review --gallery DIR [--release NAME ... | --revoke NAME ... | --released] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inference.engine.options import NEWEST_OF, WORDS
from inference.errors import UserError
from inference.models.exported import DEFAULT_MODELS_DIR
from inference.policy import POLICIES
from inference.policy.languages import understood_names
from inference.review.releases import REVIEW_ORDERS
from inference.store.milvus import STORE_HELP, parse_store


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m inference", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser(
        "search",
        help="top K gallery images for a query",
        description=f"Top K gallery images for a query in {understood_names()} (a model exported "
        "before the multilingual encoder reads English only).",
    )
    search.add_argument("query")
    search.add_argument("--gallery", type=Path, required=True)
    search.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    search.add_argument("--top-k", type=int, default=10)
    search.add_argument("--offset", type=int, default=0, help="skip the first N results (the next page)")
    search.add_argument("--after", metavar="DATE", help="only photos taken on or after DATE (2021-06-01)")
    search.add_argument("--before", metavar="DATE", help="only photos taken before DATE")
    search.add_argument(
        "--under", metavar="FOLDER", help="only photos under FOLDER of the gallery (2021/Lisbon)"
    )
    search.add_argument(
        "--newest-first",
        nargs="?",
        type=int,
        const=NEWEST_OF,
        metavar="N",
        help=f"order the best N matches (default {NEWEST_OF}) by when they were taken, newest first",
    )
    search.add_argument(
        "--words",
        choices=WORDS,
        default="all",
        help="file names, folder names and captions searched as words beside the meaning (all), "
        "names only, or off",
    )
    search.add_argument(
        "--all-copies", action="store_true", help="show each copy of a photo in a place of its own"
    )
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
    duplicates = commands.add_parser("duplicates", help="the gallery's groups of copies (exact and near)")
    duplicates.add_argument("--gallery", type=Path, required=True)
    duplicates.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    duplicates.add_argument("--json", action="store_true")
    review = commands.add_parser(
        "review",
        help="the owner's review queue: photos the child-image detector withholds; release them",
        description="Lists the photos of a gallery that the child-image detector withholds (photos "
        "whose captions name a child are not listed: captions always withhold). --release records "
        "your statement that a photo shows no child, in a file inside the gallery, tied to the "
        "file's content: an edited file goes back to the detector.",
    )
    review.add_argument("--gallery", type=Path, required=True)
    review.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    review.add_argument("--json", action="store_true")
    review.add_argument(
        "--order", choices=REVIEW_ORDERS, default="likeliest mistakes", help="lowest P(child) first, or name"
    )
    review.add_argument(
        "--explain",
        action="store_true",
        help="say which of the detector's signals withholds each photo (about 0.15 s a photo)",
    )
    actions = review.add_mutually_exclusive_group()
    actions.add_argument("--release", nargs="+", metavar="NAME", default=[], help="photos that show no child")
    actions.add_argument("--revoke", nargs="+", metavar="NAME", default=[], help="take releases back")
    actions.add_argument("--released", action="store_true", help="list only the photos released so far")
    args = parser.parse_args(argv)
    if getattr(args, "top_k", 1) < 1:
        parser.error("--top-k must be at least 1")
    if getattr(args, "offset", 0) < 0:
        parser.error("--offset must be 0 or more")
    return args


def run_search(args: argparse.Namespace) -> dict:
    from inference.engine.front import PhotoSearch, prepare_process
    from inference.engine.responses import normalize_query

    normalize_query(args.query)  # fail fast, before loading models
    library = PhotoSearch.open(args.models, policy=args.policy, store=args.store, int8=args.int8)
    prepare_process()
    library.warm_up_in_background()  # the policy's readings load while the gallery is indexed
    library.ensure_index(args.gallery, progress=not args.json)
    response = library.search(
        args.query,
        k=args.top_k,
        offset=args.offset,
        after=args.after,
        before=args.before,
        under=args.under,
        newest_first=args.newest_first,
        words=args.words,
        group_copies=not args.all_copies,
    ).to_json()
    if not args.json:
        if response["message"]:
            print(response["message"])
        if response["notice"]:
            print(response["notice"])
        for r in response["results"]:
            score = "  -  " if r["score"] is None else f"{r['score']:.3f}"
            copies = f"  (+{len(r['copies'])} copies)" if r["copies"] else ""
            taken = f"  {r['taken']}" if r["taken"] else ""
            print(f"{score}  {'[restricted] ' if r['restricted'] else ''}{r['image']}{taken}{copies}")
        for line in response["skipped"]:
            print(f"skipped {line}", file=sys.stderr)
    return response


def run_duplicates(args: argparse.Namespace) -> dict:
    from inference.engine.front import PhotoSearch

    library = PhotoSearch.open(args.models).ensure_index(args.gallery, progress=not args.json)
    groups = library.duplicates()
    if not args.json:
        print(f"{len(groups)} group(s) of copies in {args.gallery}")
        for group in groups:
            kind = "exact copies" if group.exact else "near-duplicates"
            print(f"{len(group.photos)} {kind}{' [restricted]' if group.restricted else ''}:")
            for photo in group.photos:
                print(f"    {photo}")
    return {"gallery": str(args.gallery), "groups": [group.to_json() for group in groups]}


def run_review(args: argparse.Namespace) -> dict:
    from inference.engine.front import PhotoSearch

    library = PhotoSearch.open(args.models)
    library.ensure_index(args.gallery, progress=not args.json)
    names = args.release or args.revoke
    changed = library.release(names, revoke=bool(args.revoke), tool="cli") if names else []
    queue = library.review(args.order)
    waiting = [item for item in queue if not item.released]
    listed = [item for item in queue if item.released] if args.released else queue

    def described(item) -> dict:
        return {**item.to_json(), **({"signals": library.explain(item).to_json()} if args.explain else {})}

    response = {
        "gallery": str(args.gallery),
        "waiting": len(waiting),
        "released": len(queue) - len(waiting),
        "changed": [item.to_json() for item in changed],
        "withheld": [described(item) for item in listed],
    }
    if not args.json:
        for item in changed:
            print(f"{'released' if item.released else 'back under review'}: {item.name}")
        released = len(queue) - len(waiting)
        print(f"{len(waiting)} photo(s) wait for review, {released} released, in {args.gallery}")
        for item in listed:
            why = f"  {library.explain(item).sentence}" if args.explain else ""
            state = "released" if item.released else "waiting "
            print(f"{state}  P(child) {item.probability:.2f}  {item.name}{why}")
    return response


def run_evaluate(args: argparse.Namespace) -> dict:
    from inference.engine.evaluate import evaluate_test_set

    metrics = evaluate_test_set(args.data, args.models, args.int8, args.approximate, parse_store(args.store))
    if not args.json:
        for key, value in metrics.items():
            print(f"{key:24s} {value}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        commands = {
            "search": run_search,
            "evaluate": run_evaluate,
            "review": run_review,
            "duplicates": run_duplicates,
        }
        result = commands[args.command](args)
    except UserError as error:
        for line in str(error).splitlines() or [""]:  # a release names each photo it refuses on a line
            print(f"error: {line}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
