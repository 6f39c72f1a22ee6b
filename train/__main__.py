"""python -m train --data DIR --out runs/NAME [--image-encoder ...] [--seed N]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inference.data.download import locate_data_dir
from inference.errors import UserError
from inference.models.config import DEFAULT_IMAGE_ENCODER, OPENCLIP_PREFIX, is_openclip
from train.encoders import IMAGE_ENCODERS


def image_encoder(value: str) -> str:
    """argparse type: a bundled backbone or openclip:MODEL (a name or a config .json)."""
    if value in IMAGE_ENCODERS or (is_openclip(value) and value != OPENCLIP_PREFIX):
        return value
    raise argparse.ArgumentTypeError(
        f"{value!r}: choose from {', '.join(IMAGE_ENCODERS)}, or {OPENCLIP_PREFIX}MODEL "
        "(an open_clip model name or config .json)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    parser.add_argument(
        "--data", type=Path, default=None, help="data set folder (found or downloaded if omitted)"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/default"), help="run folder")
    parser.add_argument(
        "--image-encoder",
        type=image_encoder,
        default=DEFAULT_IMAGE_ENCODER,
        help=f"{', '.join(IMAGE_ENCODERS)} or {OPENCLIP_PREFIX}MODEL (default {DEFAULT_IMAGE_ENCODER})",
    )
    parser.add_argument(
        "--image-weights",
        default="imagenet",
        help="'imagenet', 'random' or a state-dict .pth file; for openclip:MODEL an open_clip "
        "pretrained tag (downloaded once) or a weights file",
    )
    parser.add_argument(
        "--text-model",
        default=None,
        help="all-MiniLM-L6-v2 (default) or a Hugging Face model folder; an openclip backbone "
        "brings its own text side",
    )
    parser.add_argument(
        "--english-only",
        action="store_true",
        help="no multilingual encoder beside the text model (half the text encoder; English only)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-train-images", type=int, default=None, help="train on a random slice")
    parser.add_argument("--members", type=int, default=None, help="tower ensemble size")
    args = parser.parse_args(argv)
    if is_openclip(args.image_encoder) and args.text_model:
        parser.error("--text-model: an openclip backbone reads text with its own text side")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from train.allocator import keep_freed_memory
    from train.config import RunConfig
    from train.run import run

    keep_freed_memory()

    try:
        data_dir = locate_data_dir(args.data)
        extra: dict = {"text_model": args.text_model} if args.text_model else {}
        if is_openclip(args.image_encoder):
            from train.openclip import load_model

            load_model(args.image_encoder, args.image_weights)  # weights first: fail before any work
            extra["text_model"] = args.image_encoder  # the same model's text side
        if args.english_only:
            extra["multilingual_model"] = ""
        cfg = RunConfig(
            data_dir,
            args.out,
            args.image_encoder,
            args.image_weights,
            seed=args.seed,
            max_train_images=args.max_train_images,
            members=args.members,
            **extra,
        )
        metrics = run(cfg)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name in ("model", "baseline"):
        m = metrics["test"][name]["all"]
        print(
            f"test {name:8s} R@1 {m['recall@1']:5.1f}  R@5 {m['recall@5']:5.1f}  "
            f"R@10 {m['recall@10']:5.1f}  MRR {m['mrr']:.3f}  median rank {m['median_rank']:.0f}"
        )
    for signal, d in metrics["detector"]["signals"].items():
        print(
            f"child detector ({signal}) on test images without captions: {d['test_recall_pct']:.1f}% of "
            f"child images withheld, {d['test_other_blocked_pct']:.1f}% of others; people-free photos "
            f"withheld: {d['people_free_blocked']} of {d['people_free_photos']}"
        )
    print(f"report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
