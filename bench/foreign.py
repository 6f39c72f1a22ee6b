"""Search beyond Flickr: photos unlike any the model learned from (objects, food,
animals, space, text), mixed into the test gallery, one query each. Where does
the right photo rank?

python -m bench.foreign [--models DIR] [--data DIR] [--json]

The photos are the sample images scikit-image and scikit-learn ship (no download);
the model never trains on them. Ranked with the content policy off: this measures
the model; how many of them the strict policy withholds is reported beside it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from inference.data.dataset import DataError, load_test_set
from inference.data.download import locate_data_dir
from inference.engine.front import PhotoSearch
from inference.models.exported import DEFAULT_MODELS_DIR, ModelFilesError, SearchModels

#: (package, folder inside it, file) -> the one-line query a user would type for it
FOREIGN_QUERIES: dict[tuple[str, str, str], str] = {
    ("skimage", "data", "astronaut.png"): "a woman astronaut in a space suit",
    ("skimage", "data", "brick.png"): "a brick wall",
    ("skimage", "data", "camera.png"): "a black and white photo of a man with a camera",
    ("skimage", "data", "chelsea.png"): "a cat",
    ("skimage", "data", "clock_motion.png"): "a clock",
    ("skimage", "data", "coffee.png"): "a cup of coffee",
    ("skimage", "data", "coins.png"): "old coins",
    ("skimage", "data", "grass.png"): "green grass",
    ("skimage", "data", "horse.png"): "the silhouette of a horse",
    ("skimage", "data", "hubble_deep_field.jpg"): "galaxies in deep space",
    ("skimage", "data", "moon.png"): "the surface of the moon",
    ("skimage", "data", "motorcycle_left.png"): "a motorcycle",
    ("skimage", "data", "page.png"): "a page of printed text",
    ("skimage", "data", "rocket.jpg"): "a rocket on the launch pad",
    ("sklearn", "datasets/images", "china.jpg"): "a Chinese temple",
    ("sklearn", "datasets/images", "flower.jpg"): "a pink flower",
}


@dataclass(frozen=True)
class ForeignRank:
    photo: str
    query: str
    rank: int  # 1 = first; among the test images and every foreign photo
    withheld_by_strict_policy: bool


def foreign_photos() -> dict[Path, str]:
    """Each installed sample photo's path -> its query (photos of packages not installed are left out)."""
    found = {}
    for (package, folder, name), query in FOREIGN_QUERIES.items():
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            path = Path(spec.origin).parent / folder / name
            if path.is_file():
                found[path] = query
    return found


def rank_foreign(models: SearchModels, data_dir: Path, work_dir: Path) -> list[ForeignRank]:
    """Index the test images plus the foreign photos in `work_dir`; rank each photo for its query."""
    gallery = work_dir / "gallery"
    gallery.mkdir()
    test = load_test_set(data_dir)
    for name in test.images:
        shutil.copy(test.image_dir / name, gallery / name)
    photos = foreign_photos()
    for path in photos:
        shutil.copy(path, gallery / f"foreign-{path.name}")
    # one index for both: it holds the vectors and each photo's child probability, and the
    # policy is applied when the engine reads it (the second engine embeds nothing)
    engines = {
        policy: PhotoSearch(models, index_dir=work_dir / "index", policy=policy).ensure_index(gallery)
        for policy in ("off", "strict")
    }
    size = len(engines["off"])
    ranks = []
    for path, query in photos.items():
        target = gallery / f"foreign-{path.name}"
        shown = [r.image for r in engines["off"].search(query, k=size).results]
        ranks.append(
            ForeignRank(path.name, query, shown.index(target) + 1, _withheld(engines["strict"], target))
        )
    return ranks


def _withheld(engine: PhotoSearch, image: Path) -> bool:
    view = engine.view
    return bool(view.restricted[view.row_of[image]])


def summary(ranks: list[ForeignRank]) -> dict:
    """Counts of photos ranked first and in the top 5, and the per-photo table."""
    return {
        "photos": len(ranks),
        "first": sum(r.rank == 1 for r in ranks),
        "top5": sum(r.rank <= 5 for r in ranks),
        "withheld_by_strict_policy": sum(r.withheld_by_strict_policy for r in ranks),
        "ranks": [asdict(r) for r in ranks],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.foreign", description=__doc__)
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print only JSON on stdout")
    args = parser.parse_args(argv)
    try:
        models = SearchModels(args.models)
        data_dir = locate_data_dir(args.data)
    except (ModelFilesError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        result = summary(rank_foreign(models, data_dir, Path(work)))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for row in result["ranks"]:
        withheld = "  (withheld by --policy strict)" if row["withheld_by_strict_policy"] else ""
        print(f"{row['rank']:4d}  {row['photo']:24s} {row['query']}{withheld}")
    n = result["photos"]
    print(f"first for {result['first']} of {n}, in the top 5 for {result['top5']} of {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
