"""python -m export --run runs/NAME --out models/ [--if-needed]

Exports the image encoder, text encoder and scoring head to ONNX, checks each
against PyTorch on real images and captions of the data set, and writes the
tokenizer and manifest.json beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inference.data.dataset import load_test_set
from inference.data.download import locate_data_dir
from inference.errors import UserError
from inference.models.exported import ModelFilesError, file_sha256
from inference.models.manifest import MANIFEST, read_manifest, verify_checksums

CHECK_IMAGES = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m export", description=__doc__)
    parser.add_argument("--run", type=Path, default=Path("runs/default"), help="training run folder")
    parser.add_argument("--out", type=Path, default=Path("models"), help="model folder to write")
    parser.add_argument("--data", type=Path, default=None, help="data set (for the checks)")
    parser.add_argument(
        "--int8", action="store_true", help="also write an int8 text encoder, with its speed and recall"
    )
    parser.add_argument(
        "--if-needed",
        action="store_true",
        help="skip when --out already holds this checkpoint's intact export",
    )
    return parser.parse_args(argv)


def up_to_date(checkpoint: Path, out: Path) -> bool:
    try:
        manifest = read_manifest(out)
        verify_checksums(out, manifest)
    except ModelFilesError:
        return False
    return manifest.source_checkpoint_sha256 == file_sha256(checkpoint)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    checkpoint = args.run / "model.pt"
    if not checkpoint.is_file():
        print(
            f"error: {checkpoint}: not found; train first: python -m train --out {args.run}", file=sys.stderr
        )
        return 2
    if args.if_needed and up_to_date(checkpoint, args.out):
        print(f"{args.out}: up to date with {checkpoint}")
        return 0
    from export.onnx_export import export_run
    from train.allocator import keep_freed_memory

    keep_freed_memory()
    try:
        test = load_test_set(locate_data_dir(args.data))
        images = [test.image_dir / name for name in test.images[:CHECK_IMAGES]]
        captions = test.queries["query_text"].tolist()[:CHECK_IMAGES]
        manifest = export_run(checkpoint, args.out, images, captions, test if args.int8 else None)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(manifest.checks_vs_pytorch, indent=2))
    if manifest.int8 is not None:
        print("int8 text encoder vs fp32 on the test set:", json.dumps(manifest.int8))
    print(f"exported to {args.out}/ ({MANIFEST}, {len(manifest.files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
