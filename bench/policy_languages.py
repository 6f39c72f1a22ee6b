"""The content policy in every language, on queries written apart from it: how many child
queries each language's readings refuse, and how many harmless ones they let through, searched
through `PhotoSearch.search` (strict policy) over the test photos as a plain folder.

python -m bench.policy_languages [--queries TSV] [--models DIR] [--data DIR]   (JSON on stdout)

The sets (columns language, kind = child | harmless, query), each written by someone who read
none of the policy's code or word lists:
- bench/policy_heldout_b.tsv (default): held out from every choice, measured once, when the
  policy was done (docs/policy-languages.md);
- bench/policy_dev.tsv: the first such set; its figures led to the last changes (the semantic
  net left to languages the encoder knows, school and newborn words, ages in words), so it
  is a development set now.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from bench.cli import data_parser, linked_test_photos, print_json
from inference.data.dataset import load_test_set
from inference.data.download import locate_data_dir
from inference.engine.front import PhotoSearch
from inference.models.exported import SearchModels

HELD_OUT = Path(__file__).resolve().parent / "policy_heldout.tsv"


def read_queries(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", quoting=3, dtype=str, keep_default_na=False)


def refusals(engine: PhotoSearch, queries: pd.DataFrame) -> pd.DataFrame:
    """Each query with `refusal`: the reading that refused it ("words", "semantic", "script")
    or "" where it was searched."""
    reasons = [engine.search(query, k=3).refusal or "" for query in queries["query"]]
    return queries.assign(refusal=reasons)


def figures(judged: pd.DataFrame) -> dict:
    """Per language: child queries refused (and by which reading), harmless ones searched."""
    result = {}
    for language, rows in judged.groupby("language", sort=False):
        child, harmless = rows[rows["kind"] == "child"], rows[rows["kind"] == "harmless"]
        result[str(language)] = {
            "child": len(child),
            "refused": int((child["refusal"] != "").sum()),
            "by_words": int((child["refusal"] == "words").sum()),
            "by_semantic_net_only": int((child["refusal"] == "semantic").sum()),
            "harmless": len(harmless),
            "harmless_refused": int((harmless["refusal"] != "").sum()),
        }
    return result


def measure(data_dir: Path, models_dir: Path, queries: Path) -> dict:
    test = load_test_set(data_dir)
    with tempfile.TemporaryDirectory() as work:
        gallery = linked_test_photos(test, Path(work) / "gallery")
        models = SearchModels(models_dir)
        engine = PhotoSearch(models, index_dir=Path(work) / "cache").ensure_index(gallery)
        judged = refusals(engine, read_queries(queries))
    per_language = figures(judged)
    child = sum(f["child"] for f in per_language.values())
    return {
        "queries": str(queries.name),
        "child_refused": f"{sum(f['refused'] for f in per_language.values())} of {child}",
        "harmless_refused": f"{sum(f['harmless_refused'] for f in per_language.values())} of "
        f"{sum(f['harmless'] for f in per_language.values())}",
        "languages": per_language,
        "missed": judged[(judged["kind"] == "child") & (judged["refusal"] == "")]["query"].tolist(),
        "harmless_refused_queries": judged[(judged["kind"] == "harmless") & (judged["refusal"] != "")][
            ["query", "refusal"]
        ].values.tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = data_parser("python -m bench.policy_languages", __doc__)
    parser.add_argument("--queries", type=Path, default=HELD_OUT)
    args = parser.parse_args(argv)
    return print_json(lambda: measure(locate_data_dir(args.data), args.models, args.queries))


if __name__ == "__main__":
    sys.exit(main())
