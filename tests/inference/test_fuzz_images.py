"""A small fuzz run: random bytes, and real images with bytes flipped or cut,
saved under image names. Loading either gives an RGB image or an ImageError
(which indexing reports as skipped); nothing else escapes."""

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from inference.models.preprocess import SERVED_VIEWS, ImageError, load_image, served_views

SUFFIXES = [".jpg", ".png", ".gif", ".webp", ".bmp"]


def _seed_images() -> dict[str, bytes]:
    """Small valid files of each format to corrupt."""
    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
    files = {}
    for fmt in ("JPEG", "PNG", "GIF", "WEBP", "BMP"):
        buffer = io.BytesIO()
        picture.save(buffer, format=fmt)
        files[fmt] = buffer.getvalue()
    return files


SEEDS = _seed_images()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _load_or_refuse(path) -> None:
    try:
        image = load_image(path)
    except ImageError as error:
        assert str(error)  # a reason for the skipped list
        return
    assert image.mode == "RGB"
    assert served_views(image, 32).shape == (len(SERVED_VIEWS), 3, 32, 32)  # what indexing feeds


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    _load_or_refuse(path)


@FUZZ
@given(
    fmt=st.sampled_from(sorted(SEEDS)),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 10_000),
)
def test_corrupted_real_images(tmp_path, fmt, flips, cut):
    data = bytearray(SEEDS[fmt])
    for position, value in flips:
        data[position % len(data)] = value
    path = tmp_path / f"fuzz.{fmt.lower()}"
    path.write_bytes(bytes(data[: max(1, len(data) - cut % len(data))]))
    _load_or_refuse(path)
