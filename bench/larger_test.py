"""The test figures on a larger gallery, built like the archive's full test set.

The archive's full set holds 100 images and 500 queries: our 70 test images, and
30 more Flickr8k images with their own five captions as queries. Here the 30 are
drawn from the training run's validation split, again and again. The towers never
trained on validation images, but the fusion weights and the calibration were
chosen on them, so the figures lean optimistic. Each draw is ranked by
`python -m inference evaluate` through the engine, as the archive's set would be.

python -m bench.larger_test [--draws 10] [--extra 30] [--models DIR] [--data DIR]   (JSON on stdout)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.cli import data_parser, print_json
from inference.data.dataset import DataError
from inference.data.download import locate_data_dir
from inference.engine.evaluate import evaluate_test_set
from train.prepare import Prepared, prepare

FIGURES = ("recall@1", "recall@5", "recall@10", "mrr")


def validation_split(data_dir: Path) -> Prepared:
    """The training run's split (its default share and seed): whose images are validation."""
    return prepare(data_dir)


def build_test_set(data_dir: Path, prep: Prepared, extra: list[str], out: Path) -> Path:
    """A data folder in `out` holding the test images and queries plus the `extra`
    train images, each with its own captions as queries; the pictures are linked."""
    images = out / "test_images"
    images.mkdir(parents=True)
    sources = [*(data_dir / "test_images").glob("*.jpg"), *(data_dir / "train_images" / n for n in extra)]
    for source in sources:
        (images / source.name).symlink_to(source.resolve())
    listed = pd.read_csv(data_dir / "test_images.csv")
    pd.concat([listed, pd.DataFrame({"image": extra})]).to_csv(out / "test_images.csv", index=False)
    queries = pd.read_csv(data_dir / "test_queries.csv", sep="|", index_col=0)
    captions = prep.train_set.captions
    own = captions[captions["image"].isin(extra)][["query_id", "query_text", "image"]]
    pd.concat([queries, own], ignore_index=True).to_csv(out / "test_queries.csv", sep="|")
    return out


def measure(data_dir: Path, models_dir: Path, draws: int, extra: int) -> dict:
    prep = validation_split(data_dir)
    validation = sorted(prep.captions.loc[prep.captions["split"] == "val", "image"].unique())
    if extra > len(validation):
        raise DataError(f"--extra {extra}: the validation split has only {len(validation)} images")
    rows = []
    for draw in range(draws):
        chosen = sorted(np.random.default_rng(draw).choice(validation, extra, replace=False).tolist())
        with tempfile.TemporaryDirectory() as work:
            figures = evaluate_test_set(build_test_set(data_dir, prep, chosen, Path(work)), models_dir)
        rows.append({key: figures[key] for key in (*FIGURES, "images", "queries")})
        print(f"draw {draw}: " + ", ".join(f"{k} {rows[-1][k]}" for k in FIGURES), file=sys.stderr)
    table = pd.DataFrame(rows)
    summary = {
        name: {key: round(float(getattr(table[key], name)()), 4) for key in FIGURES}
        for name in ("mean", "min", "max")
    }
    return {"draws": rows, **summary, "extra_images": extra}


def main(argv: list[str] | None = None) -> int:
    parser = data_parser("python -m bench.larger_test", __doc__)
    parser.add_argument("--draws", type=int, default=10, help="galleries to draw and rank")
    parser.add_argument("--extra", type=int, default=30, help="validation images added to the test images")
    args = parser.parse_args(argv)
    if args.draws < 1 or args.extra < 1:
        parser.error("--draws and --extra must be at least 1")
    return print_json(lambda: measure(locate_data_dir(args.data), args.models, args.draws, args.extra))


if __name__ == "__main__":
    raise SystemExit(main())
