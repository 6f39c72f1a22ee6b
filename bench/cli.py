"""What the data-set benchmarks share: --models and --data, JSON on stdout, a one-line error
for a missing model folder or data set, and the test photos as a plain folder."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from inference.data.dataset import TestSet
from inference.errors import UserError
from inference.models.exported import DEFAULT_MODELS_DIR


class BenchError(UserError):
    """A benchmark that could not run as set up (its app did not start, a step failed); the
    message quotes what the step printed."""


def data_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A parser with --models and --data, described by the first paragraph of `doc`."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--data", type=Path, default=None)
    return parser


def print_json(measure: Callable[[], dict]) -> int:
    """Run `measure` and print its figures as JSON; 2 with a one-line error on stderr
    when the models or the data set are missing or broken."""
    try:
        result = measure()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


def linked_test_photos(test: TestSet, folder: Path) -> Path:
    """`folder`, made, holding a link to each of the test set's photos: the gallery a user
    would point the search at, with no captions file."""
    folder.mkdir()
    for name in test.images:
        (folder / name).symlink_to((test.image_dir / name).resolve())
    return folder
