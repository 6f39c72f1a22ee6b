"""What the running app lets out: only the loopback interface, no file outside
its own cache, no pixels of restricted images, no oversized uploads."""

import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.policy import DISCLAIMER
from webapp.tiles import disclaimer_tile


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


@pytest.fixture(scope="module")
def child_gallery(test_image_paths, tmp_path_factory):
    """Three real photos: two captioned as children (restricted), one not."""
    gallery = tmp_path_factory.mktemp("gallery")
    for path in test_image_paths[:3]:
        (gallery / path.name).symlink_to(path)
    names = [p.name for p in test_image_paths[:3]]
    rows = [f"{names[0]},A little girl runs", f"{names[1]},Two boys play", f"{names[2]},A man walks"]
    (gallery / "captions.csv").write_text("image,caption\n" + "\n".join(rows) + "\n")
    return gallery


@pytest.fixture(scope="module")
def app_url(start_module_app, child_gallery) -> str:
    """The app over child_gallery, one process for the module: its tests only read from it
    (an upload it refuses is not stored)."""
    return start_module_app(child_gallery)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_file_route_serves_nothing_outside_the_apps_cache(app_url, child_gallery, models_dir):
    url = app_url
    targets = [
        *(str(p.resolve()) for p in child_gallery.glob("*.jpg")),  # gallery originals, restricted ones too
        str(child_gallery / "captions.csv"),
        str(models_dir / "manifest.json"),
        "/etc/passwd",
        "../../../../../../etc/passwd",
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ]
    for target in targets:
        for route in ("gradio_api/file=", "file="):
            status = _status(url + route + urllib.parse.quote(target, safe="/%"))
            assert status in (403, 404), f"{route}{target} answered {status}"


def test_api_never_sends_restricted_pixels(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    items = client.predict("a person outdoors", api_name="/search")
    assert len(items) == 3
    hidden = [item for item in items if item["caption"] == DISCLAIMER]
    assert len(hidden) == 2
    for item in hidden:  # what the client received is the tile, not a photo
        assert _distance_from_tile(item["image"]) < 3  # gradio re-encodes as lossy WebP
    shown = [item for item in items if item["caption"] != DISCLAIMER]
    assert len(shown) == 1 and _distance_from_tile(shown[0]["image"]) > 20


def _distance_from_tile(path) -> float:
    """Mean absolute pixel difference between an image file and the disclaimer tile."""
    tile = disclaimer_tile()
    image = Image.open(path).convert("RGB").resize(tile.size)
    return float(np.abs(np.asarray(image, np.float32) - np.asarray(tile, np.float32)).mean())


def test_uploads_over_the_size_limit_are_refused(app_url, tmp_path):
    import httpx

    url = app_url
    big = tmp_path / "big.jpg"
    with open(big, "wb") as handle:
        handle.truncate(21 * 2**20)  # 21 MB, over the 20 MB limit
    with open(big, "rb") as handle:
        response = httpx.post(url + "gradio_api/upload", files={"files": handle}, timeout=60)
    assert response.status_code in (400, 413), response.text[:200]


def _outside_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent for UDP connect
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_app_listens_on_loopback_only(app_url):
    url = app_url
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback address to probe")
    port = urllib.parse.urlparse(url).port
    with pytest.raises(OSError):
        socket.create_connection((outside, port), timeout=3).close()
