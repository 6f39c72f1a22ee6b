"""End to end in a real headless browser: the app as a subprocess, Chromium
driven by Playwright. Screenshots land in test-artifacts/."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from inference.policy import DISCLAIMER

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def running_app(models_dir, small_gallery, tmp_path):
    port = _free_port()
    log = open(tmp_path / "app.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "app.py",
            "--gallery",
            str(small_gallery),
            "--models",
            str(models_dir),
            "--uploads",
            str(tmp_path / "uploads"),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    else:
        process.kill()
    if process.poll() is not None:
        pytest.fail(f"app did not start: {(tmp_path / 'app.log').read_text()[-2000:]}")
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (.ci/run installs it)")
def test_search_and_child_query_in_browser(running_app, test_image_paths):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(running_app)
        box = page.locator("#query textarea")
        box.fill("a dog running on grass")
        box.press("Enter")
        images = page.locator("#results img")
        expect(images.first).to_be_visible(timeout=30_000)
        assert images.count() >= 1
        page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)

        images.first.click()  # select a result, then search by it
        page.keyboard.press("Escape")  # close the preview the click opened
        page.get_by_role("button", name="Find similar to the selected result").click()
        expect(page.locator("#status")).to_contain_text("similar images", timeout=30_000)
        expect(page.locator("#results img").first).to_be_visible()

        page.get_by_text("Add images to the gallery").click()
        page.locator("#uploads input[type=file]").set_input_files(str(test_image_paths[-1]))
        expect(page.locator("#add-status")).to_contain_text("Added 1 image(s)", timeout=60_000)

        box.fill("two little boys")
        box.press("Enter")
        expect(page.locator("#status")).to_contain_text(DISCLAIMER, timeout=30_000)
        expect(page.locator("#results img")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "restricted.png"), full_page=True)
        browser.close()


def test_gradio_client_search_endpoint(running_app):
    from gradio_client import Client

    client = Client(running_app, verbose=False)
    results = client.predict("a dog running on grass", api_name="/search")
    assert 1 <= len(results) <= 10 and all("image" in item for item in results)
    restricted = client.predict("a little girl", api_name="/search")
    assert [item["caption"] for item in restricted] == [DISCLAIMER]
