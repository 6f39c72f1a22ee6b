"""The word search on its own test: file and folder names (inference/engine/words.py), never the
test photos' captions (they are the queries).

python -m bench.words [--models DIR] [--data DIR] [--json]

The 70 test photos get camera names (IMG_1000 ... in a shuffled order) in ten folders named
after places, as links in a temporary library. Two query sets, each ranked with words on
(file and folder names) and off, under no content policy:
- the file name ("IMG_1043"): is its photo first?
- a test caption with its photo's place ("... in Lisbon"): recall@1/5 of its photo.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from inference.data.dataset import load_test_set
from inference.data.download import locate_data_dir
from inference.engine.front import PhotoSearch
from inference.models.exported import DEFAULT_MODELS_DIR

PLACES = ("Lisbon", "Kyoto", "Oslo", "Nairobi", "Lima", "Hanoi", "Quebec", "Tbilisi", "Cusco", "Perth")


def build(test, root: Path, seed: int = 0) -> dict[str, str]:
    """Links to the test photos under place folders with camera names: original name -> new name."""
    order = np.random.default_rng(seed).permutation(len(test.images))
    renamed = {}
    for number, index in enumerate(order.tolist()):
        original = test.images[index]
        name = f"{PLACES[number % len(PLACES)]}/IMG_{1000 + number}.jpg"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to((test.image_dir / original).resolve())
        renamed[original] = name
    return renamed


def ranks(library: PhotoSearch, queries: list[tuple[str, str]], words: str) -> np.ndarray:
    """1-based rank of each (query, expected name) under `words` (len(library) + 1: not found)."""
    found = []
    for query, expected in queries:
        response = library.search(query, k=len(library), words=words)
        names = [r.image.relative_to(library.gallery).as_posix() for r in response.results]
        found.append(names.index(expected) + 1 if expected in names else len(library) + 1)
    return np.array(found)


def measure(models: Path, data: Path | None) -> dict:
    test = load_test_set(locate_data_dir(data))
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "library"
        renamed = build(test, root)
        library = PhotoSearch.open(models, policy="off", index_dir=Path(work) / "index").ensure_index(root)
        by_name = [(Path(name).stem, name) for name in renamed.values()]
        rows = test.queries[["query_text", "image"]].itertuples(index=False)
        placed = [
            (f"{text.rstrip(' .')} in {renamed[image].split('/')[0]}", renamed[image]) for text, image in rows
        ]
        result: dict = {
            "photos": len(renamed),
            "file_name_queries": len(by_name),
            "place_queries": len(placed),
        }
        for words in ("names", "off"):
            named, place = ranks(library, by_name, words), ranks(library, placed, words)
            result[f"words_{words}"] = {
                "file_name_first": round(float(np.mean(named == 1)) * 100, 1),
                "place_recall@1": round(float(np.mean(place <= 1)) * 100, 1),
                "place_recall@5": round(float(np.mean(place <= 5)) * 100, 1),
            }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.words", description=__doc__)
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.models, args.data)
    if args.json:
        print(json.dumps(result))
        return 0
    for words in ("names", "off"):
        figures = result[f"words_{words}"]
        print(
            f"words {words:5s}: file name first {figures['file_name_first']}%, place queries "
            f"R@1 {figures['place_recall@1']} R@5 {figures['place_recall@5']} "
            f"({result['place_queries']} queries)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
