"""People-free photos: negatives for the child-image detector, and a test set.

The train images nearly all show people or dogs, so a detector fitted on them
alone has never seen a cup, a building or a landscape. These come from packages,
never from the repository (`scripts/fetch_people_free.sh` installs them):
- training: Debian's wallpaper collections (landscapes, nature, objects, abstract);
- test, never trained on: the sample photos scikit-image and scikit-learn ship
  (coffee, a cat, the moon, coins, bricks...), minus the two that show a person.

Each wallpaper is shrunk once to `MAX_SIDE_PX` into the cache (wallpapers are 5K
PNGs: decoding them at every run would cost more than training).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from inference.models.preprocess import IMAGE_SUFFIXES, ImageError, load_image

WALLPAPER_FOLDERS = (Path("/usr/share/wallpapers"), Path("/usr/share/backgrounds"))
MAX_SIDE_PX = 640
CROPS_PER_PHOTO = 3  # extra training negatives per photo: random crops of 35-80% of its side
#: scikit-image samples that show people (an astronaut, a cameraman) or are not photos.
SAMPLES_SKIPPED = frozenset(
    {
        "astronaut",
        "camera",
        "chessboard_GRAY",
        "chessboard_RGB",
        "color",
        "logo",
        "phantom",
        "lfw_subset",
        "no_time_for_that_tiny",
        "multipage",
        "multipage_rgb",
    }
)


def _kde_folder(path: Path) -> Path | None:
    """The <Name> folder of a KDE wallpaper file, laid out as <Name>/contents/images*/<size>.<ext>;
    None for a plain picture file."""
    return path.parents[2] if path.parent.name.startswith("images") else None


def _one_per_wallpaper(folder: Path) -> list[Path]:
    """One picture per wallpaper: KDE ships each in several sizes (and a screenshot)."""
    chosen: dict[Path, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or "screenshot" in path.name or not path.is_file():
            continue
        key = _kde_folder(path) or path
        if key not in chosen or path.stat().st_size < chosen[key].stat().st_size:
            chosen[key] = path  # the smallest size: same picture, faster to decode
    return list(chosen.values())


def _package_samples() -> list[Path]:
    found: list[Path] = []
    for package, sub in (("skimage", "data"), ("sklearn", "datasets/images")):
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        folder = Path(spec.origin).parent / sub
        found += [
            p
            for p in sorted(folder.glob("*"))
            if p.suffix.lower() in IMAGE_SUFFIXES and p.stem not in SAMPLES_SKIPPED
        ]
    return found


def copy_name(path: Path) -> str:
    """A wallpaper's name: its KDE folder's (a KDE file's stem is a size, the same for
    many wallpapers), else the file's stem."""
    folder = _kde_folder(path)
    return folder.name if folder else path.stem


def _shrunk(paths: list[Path], cache: Path) -> list[Path]:
    """Copies of `paths` at most MAX_SIDE_PX on a side, in `cache` (made once), named
    <wallpaper name>-<digest of the installed file's path>.jpg."""
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for path in paths:
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
        target = cache / f"{copy_name(path)}-{digest}.jpg"
        if not target.is_file():
            try:
                image = load_image(path)
            except ImageError as error:
                print(f"people-free photo skipped: {path}: {error}", file=sys.stderr)
                continue
            image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX), Image.Resampling.BICUBIC)
            tmp = target.with_suffix(".tmp.jpg")
            image.save(tmp, quality=92)
            tmp.replace(target)
        out.append(target)
    return out


def _crops(paths: list[Path], cache: Path) -> list[Path]:
    """CROPS_PER_PHOTO random crops of each photo (seeded by its name), made once in `cache`.
    A close-up of a leaf or a cup looks nothing like the whole wallpaper it came from."""
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for path in paths:
        rng = np.random.default_rng(int(hashlib.sha1(path.name.encode()).hexdigest()[:8], 16))
        image = None
        for k in range(CROPS_PER_PHOTO):
            side_share, x0, y0 = rng.uniform(0.35, 0.8), rng.uniform(), rng.uniform()
            target = cache / f"{path.stem}-crop{k}.jpg"
            if not target.is_file():
                image = image or Image.open(path).convert("RGB")
                w, h = image.size
                side = int(min(w, h) * side_share)
                left, top = int(x0 * (w - side)), int(y0 * (h - side))
                image.crop((left, top, left + side, top + side)).save(target, quality=92)
            out.append(target)
    return out


def wallpapers(cache: Path, folders: tuple[Path, ...] = WALLPAPER_FOLDERS) -> list[Path]:
    """One copy of each wallpaper photo installed in `folders`, shrunk, in `cache` (none: not installed)."""
    found = [p for folder in folders if folder.is_dir() for p in _one_per_wallpaper(folder)]
    return _shrunk(found, cache / "train")


def people_free_photos(cache: Path) -> tuple[list[Path], list[Path]]:
    """(training negatives with their crops, in `cache`; held-out test photos). The test
    photos are the packages' own files, read as a user's gallery would hold them (a
    shrunk JPEG copy found two faces on a motorcycle where the original has one)."""
    negatives = wallpapers(cache)
    if not negatives:
        print(
            "people-free photos: no wallpaper packages found (run scripts/fetch_people_free.sh); "
            "the child-image detector is trained without negatives and will withhold more ordinary photos",
            file=sys.stderr,
        )
    return negatives + _crops(negatives, cache / "train-crops"), _package_samples()
