"""End to end in a real headless browser: the app as a subprocess, Chromium
driven by Playwright. Screenshots land in test-artifacts/."""

import os
import re
import shutil
from pathlib import Path

import pytest

from inference.policy import DISCLAIMER, SEARCH_REFUSED

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
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
        page.get_by_role("button", name="More results").click()  # the next K, after the first
        expect(page.locator("#status")).to_contain_text("4 of 6 images", timeout=30_000)
        expect(page.locator("#results img")).to_have_count(4)

        similar = page.locator("#similar-button")
        expect(similar).to_have_text("Find similar to the selected result")
        images.first.click()  # select a result (opens its preview), then search by it
        expect(page.locator(PREVIEW)).to_be_visible()
        expect(similar).to_have_text("Find similar to result 1", timeout=30_000)  # the server has it
        similar.click()
        expect(page.locator("#status")).to_contain_text("images most like", timeout=30_000)
        expect(page.locator("#status img")).to_be_visible()  # a small picture of what was searched from
        expect(page.locator("#results img").first).to_be_visible()
        expect(page.locator(PREVIEW)).to_have_count(0)  # the new page opens as a grid, not a preview
        expect(box).to_have_value("")  # the old words no longer describe the page
        expect(similar).to_have_text("Find similar to the selected result")  # nor does the selection
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

    from inference.models.exported import SearchModels
    from inference.models.preprocess import load_image

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


def test_result_pictures_are_static_files_browsers_check_again(running_app):
    import json

    import httpx

    with httpx.Client(base_url=running_app, timeout=30) as client:
        event = client.post("/gradio_api/call/search", json={"data": ["a dog", 0]}).json()["event_id"]
        stream = client.get(f"/gradio_api/call/search/{event}").text
        items = json.loads(next(line[5:] for line in stream.splitlines() if line.startswith("data:")))[0]
        urls = [item["image"]["url"] for item in items]
        # served from the instance's own thumbnail folder, not copied into Gradio's cache per page
        assert all("/thumbnails-strict-" in url for url in urls), urls
        first = client.get(urls[0])
        assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
        # kept by a browser for a minute at most (a photo withheld since lives in no cache longer),
        # then asked again and answered "not modified" while it stands: a few bytes, not the picture
        assert first.headers["cache-control"] == "private, max-age=60"
        again = client.get(urls[0], headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and not again.content
        assert client.get("/gradio_api/file=/etc/passwd").status_code == 403  # nothing else is exposed


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (.ci/run installs it)")
def test_a_phone_sees_every_result_and_the_examples_by_the_search_box(start_app, uncaptioned_gallery):
    from playwright.sync_api import expect, sync_playwright

    # the owner's captions say what each photo shows (none names a child): every photo is shown
    # and can be searched from; one caption for all, so the examples stay the generic ones
    names = sorted(path.name for path in uncaptioned_gallery.glob("*.jpg"))
    captions = "".join(f"{name},a photo\n" for name in names)
    (uncaptioned_gallery / "captions.csv").write_text("image,caption\n" + captions)
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
        # an example is a search: its results come into view as a typed search's do
        expect(page.locator("#status")).to_be_in_viewport(timeout=5_000)
        expect(images.first).to_be_in_viewport(ratio=0.5, timeout=5_000)
        expect(box).to_have_value("a dog running on the grass")  # and its words are in the box
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

        page.evaluate("window.scrollTo(0, 0)")
        box.fill("a man on a bicycle")  # a typed search: the results come into view by themselves
        box.press("Enter")
        expect(page.locator("#status")).to_contain_text("Results for “a man on a bicycle”", timeout=30_000)
        expect(images.first).to_be_in_viewport(timeout=5_000)
        page.screenshot(path=str(ARTIFACTS / "phone-search.png"))  # the screen as it is, not the page
        images.first.click()  # and after "find similar"
        expect(page.locator(PREVIEW)).to_be_visible()
        similar = page.locator("#similar-button")
        expect(similar).to_have_text("Find similar to result 1", timeout=30_000)  # the server has it
        similar.click()
        expect(page.locator("#status")).to_contain_text("images most like", timeout=30_000)
        expect(page.locator("#results img").first).to_be_in_viewport(timeout=5_000)
        browser.close()


@pytest.fixture(scope="module")
def people_gallery(data_dir: Path, tmp_path_factory) -> Path:
    """150 training photos nobody captioned, most of them of people: the detector withholds
    dozens of them (the review queue over several pages)."""
    folder = tmp_path_factory.mktemp("people")
    for path in sorted((data_dir / "train_images").glob("*.jpg"))[-150:]:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (.ci/run installs it)")
def test_the_owner_reviews_a_queue_of_pages_in_the_browser(start_app, people_gallery):
    from playwright.sync_api import expect, sync_playwright

    url = start_app(people_gallery)  # on loopback: the owner's own machine
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser, page = _open(playwright, url, {"width": 1280, "height": 1000})
        waiting = _waiting(page)
        assert waiting >= 60, waiting
        pages = -(-waiting // 24)
        page.get_by_text("Review withheld photos (").first.click()
        page.locator("#review-show").click()
        expect(page.locator("#review-page")).to_have_text(f"Page 1 of {pages}", timeout=60_000)
        expect(page.locator("#review-status")).to_contain_text(f"{waiting} photo(s) wait for review")
        page.locator("#review-next").click()
        expect(page.locator("#review-page")).to_have_text(f"Page 2 of {pages}", timeout=60_000)
        tiles = page.locator("#review-grid figure")
        expect(tiles).to_have_count(24)
        # the reason, on tap: the signal, P(child) and the threshold
        page.locator("#review-tile-0 summary").click()
        expect(page.locator("#review-tile-0")).to_contain_text("threshold")
        page.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)

        page.locator("#review-tile-0 input.tick").check()  # released from its own tile
        page.locator("#review-release").click()
        expect(page.locator("#review-status")).to_contain_text("Released 1 photo(s)", timeout=30_000)
        expect(page.get_by_text(f"Review withheld photos ({waiting - 1} waiting)")).to_be_visible()

        page.get_by_text("Released photos").click()  # and taken back in the app
        released = page.locator("#review-released input[type=checkbox]")
        expect(released).to_have_count(1)
        released.first.check()
        page.locator("#review-revoke").click()
        expect(page.locator("#review-status")).to_contain_text("1 release(s) taken back", timeout=30_000)
        expect(page.get_by_text(f"Review withheld photos ({waiting} waiting)")).to_be_visible()

        asked: list[str] = []  # the whole page, after a confirmation that gives the count

        def answer(dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if len(asked) > 1 else dialog.dismiss()  # no the first time, yes then

        page.on("dialog", answer)
        page.locator("#review-release-page").click()
        expect(page.locator("#review-status")).to_contain_text("Nothing was released", timeout=30_000)
        page.locator("#review-release-page").click()
        expect(page.get_by_text(f"Review withheld photos ({waiting - 24} waiting)")).to_be_visible(
            timeout=30_000
        )
        assert asked == ["Release all 24 photo(s) on this page?"] * 2
        page.locator("#review-undo").click()
        expect(page.get_by_text(f"Review withheld photos ({waiting} waiting)")).to_be_visible(timeout=30_000)

        page.locator("#review-tile-1 input.tick").check()
        page.locator("#review-release").click()
        expect(page.locator("#review-status")).to_contain_text("Released 1 photo(s)", timeout=30_000)
        page.reload()  # the count is worked out on each view
        assert _waiting(page) == waiting - 1
        browser.close()


def _waiting(page) -> int:
    """The count in the review section's title, once the page's load has filled it in."""
    from playwright.sync_api import expect

    section = page.get_by_text("Review withheld photos (")
    expect(section.first).to_be_visible(timeout=30_000)
    return int(section.first.inner_text().split("(")[1].split()[0])


LIBRARY_SCREENSHOT = Path("/tmp/app_library.png")  # where a person looks first
DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@pytest.fixture()
def captioned_library(data_dir: Path, tmp_path: Path):
    from app_library import captioned_library_in

    return captioned_library_in(data_dir, tmp_path / "photos")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (.ci/run installs it)")
def test_a_library_by_date_with_more_results_and_a_group_of_copies(start_app, captioned_library):
    from playwright.sync_api import expect, sync_playwright

    url = start_app(captioned_library.root)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser, page = _open(playwright, url, {"width": 1280, "height": 1000})
        status, tiles = page.locator("#status"), page.locator("#results .thumbnail-item")
        box = page.locator("#query textarea")
        box.fill("a dog in the grass")
        box.press("Enter")
        expect(status).to_contain_text("Results for “a dog in the grass”", timeout=30_000)

        page.get_by_text("Date, folder and order").click()  # folded: a phone's first screen stays
        page.locator("#taken-from input").fill("2019-01-01")
        before = page.locator("#taken-before input")
        before.fill("2019-08-01")
        before.press("Enter")  # a typed date acts on Enter
        expect(status).to_contain_text(
            "(taken from 2019-01-01, taken before 2019-08-01): 10 of", timeout=30_000
        )
        expect(tiles).to_have_count(10)
        _each_day_within(tiles, "2019-01-01", "2019-08-01")

        page.get_by_role("button", name="More results").click()  # the range holds 14 places
        expect(status).to_contain_text("2019-08-01): 14 of", timeout=30_000)
        expect(tiles).to_have_count(14)
        captions = _each_day_within(tiles, "2019-01-01", "2019-08-01")

        page.screenshot(path=str(ARTIFACTS / "library-results.png"), full_page=True)
        grouped = next(place for place, caption in enumerate(captions) if caption and "+2 copies" in caption)
        tiles.nth(grouped).click()
        copies = page.locator("#copies-button")
        expect(copies).to_have_text(f"Show the 2 copies of result {grouped + 1}", timeout=30_000)
        copies.click()
        expect(status).to_contain_text(f"Result {grouped + 1} and its 2 copies", timeout=30_000)
        expect(tiles).to_have_count(3)
        expect(page.locator(PREVIEW)).to_have_count(0)  # the group opens as a grid
        expect(page.locator("#results img").nth(2)).to_be_visible()
        group = [tiles.nth(place).locator(".caption-label").inner_text() for place in range(3)]
        assert group[0].startswith(f"result {grouped + 1} · ") and group[2].startswith("copy 2 · "), group
        assert {caption.rsplit(" · ", 1)[1] for caption in group} == captioned_library.copies[0]
        page.mouse.move(0, 0)  # no tile lit up by the pointer left over it
        page.screenshot(path=str(ARTIFACTS / "library.png"), full_page=True)
        shutil.copy(ARTIFACTS / "library.png", LIBRARY_SCREENSHOT)
        browser.close()


def _each_day_within(tiles, start: str, end: str) -> list[str | None]:
    """Each tile's caption (None for a withheld photo's tile, which has none), every shown day
    checked to be from `start` and before `end`."""
    captions: list[str | None] = []
    for place in range(tiles.count()):
        label = tiles.nth(place).locator(".caption-label")
        captions.append(label.inner_text() if label.count() else None)
    shown = [caption for caption in captions if caption]
    assert shown, "every photo is withheld"
    for caption in shown:
        (day,) = DAY.findall(caption)
        assert start <= day < end, caption
    return captions
