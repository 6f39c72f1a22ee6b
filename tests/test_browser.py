"""End to end in a real headless browser: the app as a subprocess, Chromium
driven by Playwright. Screenshots land in test-artifacts/."""

import os
import shutil
from pathlib import Path

import pytest

from inference.policy import DISCLAIMER, SEARCH_REFUSED

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PREVIEW = "#results .preview"  # Gradio's enlarged view of one result
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _open(playwright, url: str, viewport: dict, **options):
    """(browser, page) of Debian's chromium showing `url` at `viewport`."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport=viewport, **options)
    page.goto(url)
    return browser, page


@pytest.fixture()
def running_app(start_app, small_gallery):
    return start_app(small_gallery)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (.ci/run installs it)")
def test_search_and_child_query_in_browser(running_app, test_image_paths, models_dir, small_gallery):
    from playwright.sync_api import expect, sync_playwright

    nonsense = _weak_query(models_dir, [*small_gallery.iterdir(), test_image_paths[-1]])

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser, page = _open(playwright, running_app, {"width": 1280, "height": 1000})
        box = page.locator("#query textarea")
        box.fill("a dog running on grass")
        box.press("Enter")
        images = page.locator("#results img")
        expect(images.first).to_be_visible(timeout=30_000)
        assert images.count() >= 1
        expect(page.locator("#status")).to_contain_text("Results for “a dog running on grass”")
        page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)

        k_box = page.locator("input[type=number]").first  # K: acts on the typed query at once
        k_box.fill("2")
        k_box.press("Enter")
        expect(page.locator("#status")).to_contain_text("2 of 6 images", timeout=30_000)
        expect(page.locator("#results img")).to_have_count(2)

        images.first.click()  # select a result (opens its preview), then search by it
        expect(page.locator(PREVIEW)).to_be_visible()
        page.get_by_role("button", name="Find similar to the selected result").click()
        expect(page.locator("#status")).to_contain_text("images most like", timeout=30_000)
        expect(page.locator("#status img")).to_be_visible()  # a small picture of what was searched from
        expect(page.locator("#results img").first).to_be_visible()
        expect(page.locator(PREVIEW)).to_have_count(0)  # the new page opens as a grid, not a preview
        expect(box).to_have_value("")  # the old words no longer describe the page
        page.screenshot(path=str(ARTIFACTS / "similar.png"), full_page=True)

        page.get_by_text("Add images to the gallery").click()
        page.locator("#uploads input[type=file]").set_input_files(str(test_image_paths[-1]))
        expect(page.locator("#add-status")).to_contain_text("Added 1 image(s)", timeout=60_000)

        page.get_by_text(
            "a cup of coffee", exact=True
        ).click()  # an example (uncaptioned gallery) runs at once
        expect(page.locator("#status")).to_contain_text("of 7 images", timeout=30_000)
        expect(box).to_have_value("a cup of coffee")

        box.fill(nonsense)  # results, and a notice that none matches well
        box.press("Enter")
        expect(page.locator("#status")).to_contain_text("No good match", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "no-good-match.png"), full_page=True)

        box.fill("двое маленьких мальчиков")  # Russian: refused like English
        box.press("Enter")
        expect(page.locator("#status")).to_contain_text(SEARCH_REFUSED, timeout=30_000)

        box.fill("two little boys")
        box.press("Enter")
        expect(page.locator("#status")).to_contain_text(SEARCH_REFUSED, timeout=30_000)
        expect(page.locator("#results img")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "restricted.png"), full_page=True)
        browser.close()


def _weak_query(models_dir: Path, gallery: list[Path]) -> str:
    """A nonsense query whose best match probability over `gallery` is under the model's
    "no good match" level. Which nonsense falls under it varies with the small test
    model; that the page then says so is what the browser test checks."""
    import numpy as np

    from inference.models import SearchModels
    from inference.preprocess import load_image

    models = SearchModels(models_dir)
    vectors, _ = models.embed_images(np.stack([models.preprocess(load_image(p)) for p in gallery]))
    for query in ("qwzx blorf", "xkcd", "zzzz qqqq", "vvvv wwww"):
        if models.probabilities(models.embed_texts([query]), vectors).max() < models.no_match_below:
            return query
    raise AssertionError("every nonsense query matches some picture well")


def test_gradio_client_search_endpoint(running_app):
    from gradio_client import Client

    client = Client(running_app, verbose=False)
    results = client.predict("a dog running on grass", api_name="/search")
    assert 1 <= len(results) <= 10 and all("image" in item for item in results)
    restricted = client.predict("a little girl", api_name="/search")
    assert [item["caption"] for item in restricted] == [DISCLAIMER]


def test_result_pictures_are_static_files_browsers_keep(running_app):
    import json

    import httpx

    with httpx.Client(base_url=running_app, timeout=30) as client:
        event = client.post("/gradio_api/call/search", json={"data": ["a dog"]}).json()["event_id"]
        stream = client.get(f"/gradio_api/call/search/{event}").text
        items = json.loads(next(line[5:] for line in stream.splitlines() if line.startswith("data:")))[0]
        urls = [item["image"]["url"] for item in items]
        # served from the instance's own thumbnail folder, not copied into Gradio's cache per page
        assert all("/thumbnails-strict/" in url for url in urls), urls
        first = client.get(urls[0])
        assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
        assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert client.get("/gradio_api/file=/etc/passwd").status_code == 403  # nothing else is exposed


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (.ci/run installs it)")
def test_a_phone_sees_every_result_and_the_examples_by_the_search_box(start_app, uncaptioned_gallery):
    from playwright.sync_api import expect, sync_playwright

    url = start_app(uncaptioned_gallery)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser, page = _open(playwright, url, {"width": 390, "height": 844}, device_scale_factor=2)
        box = page.locator("#query textarea")
        example = page.get_by_text("a dog running on the grass", exact=True)
        # the examples sit between the search box and the results, within the first screen
        assert box.bounding_box()["y"] < example.bounding_box()["y"] < 844  # type: ignore[index]
        example.click()
        images = page.locator("#results img")
        expect(images).to_have_count(10, timeout=30_000)
        expect(box).to_be_in_viewport()  # running an example keeps the search box in view
        grid = page.locator("#results .grid-wrap")  # nothing hidden in an inner scroll box
        assert grid.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
        frame = grid.bounding_box()
        assert frame is not None
        for index in range(10):
            picture = images.nth(index).bounding_box()
            assert picture is not None and 0 <= picture["x"] and picture["x"] + picture["width"] <= 390, index
            assert (
                frame["y"] <= picture["y"]
                and picture["y"] + picture["height"] <= frame["y"] + frame["height"]
            )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        captions = page.locator("#results .caption-label")
        if captions.count():  # a shown photo's caption is whole, not cut to "p = 0.81 · f…"
            whole = captions.first.evaluate("el => el.scrollWidth <= el.clientWidth")
            assert whole
        page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)
        browser.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (.ci/run installs it)")
def test_the_owner_releases_a_withheld_photo_in_the_browser(start_app, uncaptioned_gallery):
    from playwright.sync_api import expect, sync_playwright

    url = start_app(uncaptioned_gallery)  # on loopback: the owner's own machine
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser, page = _open(playwright, url, {"width": 1280, "height": 1000})
        section = page.get_by_text("Review withheld photos (")
        label = section.first.inner_text()
        waiting = int(label.split("(")[1].split()[0])
        assert waiting > 0, label
        section.first.click()
        page.locator("#review-show").click()
        expect(page.locator("#review-gallery img")).to_have_count(waiting, timeout=30_000)
        expect(page.locator("#review-status")).to_contain_text(f"{waiting} photo(s) withheld")
        page.locator("#review-choices input[type=checkbox]").first.check()
        page.locator("#review-release").click()
        expect(page.locator("#review-status")).to_contain_text("Released 1 photo(s)", timeout=30_000)
        expect(page.get_by_text(f"Review withheld photos ({waiting - 1} waiting)")).to_be_visible()
        expect(page.locator("#review-gallery img")).to_have_count(waiting - 1)
        page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
        browser.close()
