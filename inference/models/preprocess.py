"""Image loading and preprocessing in numpy/PIL: the one copy used by training,
export checks and serving, so the three cannot drift apart.

`preprocess` reproduces torchvision's
`Compose([Resize(round(size * 256 / 224), BICUBIC), CenterCrop(size), ToTensor(),
Normalize(IMAGENET_MEAN, IMAGENET_STD)])`. The image encoder sees two views of
each picture (`SERVED_VIEWS`, `served_views`) and averages their pooled features.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image, ImageOps

from inference.errors import UserError

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
#: How every view is resized (torchvision's transforms in training used the same).
RESAMPLING = Image.Resampling.BICUBIC
#: Refuse images with more pixels than this (decompression bombs): 64 MP
#: covers any camera photo; a 40000x40000 PNG is a few KB on disk but 1.6 GP.
MAX_PIXELS = 64_000_000
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".heic", ".heif"})
# HEIC/HEIF, as iPhones save photos: read through Pillow once registered (EXIF included)
pillow_heif.register_heif_opener()


class ImageError(UserError):
    """An image file that cannot be used; the message says why."""


def load_image(path: str | Path, at_least: tuple[int, int] | None = None) -> Image.Image:
    """Open an image file as RGB: first frame, EXIF orientation applied.

    at_least: (short side, long side) the caller needs. A JPEG larger than twice that
    is decoded at 1/2, 1/4 or 1/8 scale in the decoder itself (Pillow's draft mode),
    never below it: a 12 MP photo decodes several times faster.
    Raises ImageError with a short reason for anything unreadable.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ImageError(f"too large ({image.width}x{image.height} pixels, limit {MAX_PIXELS})")
                if at_least is not None and image.format == "JPEG":
                    image.draft("RGB", _draft_size(image.size, at_least))
                image.seek(0)
                return _to_rgb(ImageOps.exif_transpose(image))
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"too large ({error})") from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageError(f"not a readable image ({type(error).__name__}: {error})") from error


def _draft_size(size: tuple[int, int], at_least: tuple[int, int]) -> tuple[int, int]:
    """The smallest (width, height) of `size`'s shape whose short and long sides reach `at_least`."""
    short, long = min(size), max(size)
    scale = min(1.0, max(at_least[0] / short, at_least[1] / long))
    return math.ceil(size[0] * scale), math.ceil(size[1] * scale)


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB copy of any PIL mode; transparency is composited on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        scale = 255.0 / max(float(array.max()), 1.0)
        image = Image.fromarray((array * scale).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    rgb = image.convert("RGB")
    rgb.load()
    return rgb


def resized_short_side(size: int) -> int:
    """The shorter side an image is resized to before its centre size x size crop."""
    return round(size * 256 / 224)


def resize_and_crop(image: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to size*256/224 (bicubic), then centre-crop size x size."""
    short = resized_short_side(size)
    width, height = image.size
    scale = short / min(width, height)
    new_size = (max(short, round(width * scale)), max(short, round(height * scale)))
    resized = image.resize(new_size, RESAMPLING)
    left = (new_size[0] - size) // 2
    top = (new_size[1] - size) // 2
    return resized.crop((left, top, left + size, top + size))


def normalize(image: Image.Image) -> np.ndarray:
    """PIL RGB image -> float32 [3, H, W], ImageNet-normalised."""
    array = np.asarray(image, dtype=np.float32) / 255.0  # [H, W, 3]
    array = (array - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def preprocess(image: Image.Image, size: int) -> np.ndarray:
    """PIL RGB image -> float32 [3, size, size]: the centre crop."""
    return normalize(resize_and_crop(image, size))


def full_view(image: Image.Image, size: int) -> np.ndarray:
    """PIL RGB image -> float32 [3, size, size]: the whole picture squashed to a square,
    nothing cropped away."""
    return normalize(image.resize((size, size), RESAMPLING))


#: The views of a picture whose pooled features the image encoder averages. The whole
#: picture sees what the centre crop cuts off: with both, Flickr validation mean
#: recall rose from 65.9 to 68.3 (README, "Search quality").
SERVED_VIEWS = ("center", "full")
#: Each view by name: PIL RGB image, size -> float32 [3, size, size] (training adds its own).
VIEW_TRANSFORMS = {"center": preprocess, "full": full_view}


def served_views(image: Image.Image, size: int) -> np.ndarray:
    """PIL RGB image -> float32 [len(SERVED_VIEWS), 3, size, size] for the image encoder."""
    return np.stack([VIEW_TRANSFORMS[view](image, size) for view in SERVED_VIEWS])


@dataclass(frozen=True)
class Preprocessing:
    """What the exported image and text sides expect; export records it in the manifest."""

    input_size: int  # the square crop's side, pixels
    max_tokens: int  # the text side's context length
    views: tuple[str, ...] = ("center",)  # the image views averaged (exports before views: the centre)
    resize_shorter_side: int = 0  # 0, "" and (): not recorded (older exports)
    interpolation: str = "bicubic"
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        lists: dict[str, tuple] = {k: tuple(data[k]) for k in ("views", "mean", "std") if k in data}
        return cls(**{**data, **lists})


def served_preprocessing(input_size: int, max_tokens: int) -> Preprocessing:
    """What this code feeds graphs of `input_size` pixels and `max_tokens` tokens."""
    return Preprocessing(
        input_size=input_size,
        max_tokens=max_tokens,
        views=SERVED_VIEWS,
        resize_shorter_side=resized_short_side(input_size),
        interpolation=RESAMPLING.name.lower(),
        mean=tuple(IMAGENET_MEAN.tolist()),
        std=tuple(IMAGENET_STD.tolist()),
    )


def preprocessing_differences(exported: Preprocessing) -> list[str]:
    """Where `exported` (a manifest's) differs from what this code feeds, one
    "FIELD: exported X, served Y" each; a field an older export did not record is not compared."""
    served = served_preprocessing(exported.input_size, exported.max_tokens)
    differences = []
    for name in ("views", "resize_shorter_side", "interpolation", "mean", "std"):
        recorded, feeds = getattr(exported, name), getattr(served, name)
        if recorded in (0, "", ()):
            continue
        same = np.allclose(recorded, feeds, atol=1e-6) if name in ("mean", "std") else recorded == feeds
        if not same:
            differences.append(f"{name}: exported {_shown(recorded)}, served {_shown(feeds)}")
    return differences


def _shown(value: Any) -> str:
    return (
        "/".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in value)
        if isinstance(value, tuple)
        else str(value)
    )
