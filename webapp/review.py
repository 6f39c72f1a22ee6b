"""The owner's review queue in the app: the photos the child-image detector withholds, a page
at a time, each with its own tick and the signal that withheld it; release the ticked or the
whole page (after a confirmation with the count), undo the last release, take back any release.
Counts are computed on each view, never kept in a label.

`OwnerReview` holds the callbacks as plain methods (tests call them without a browser);
`ReviewSection` lays them out in Gradio.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
from PIL import Image

from inference.engine.front import PhotoSearch
from inference.review.releases import REVIEW_ORDERS, ReviewError, Withheld
from inference.store.milvus import StoreError
from webapp.tiles import thumbnail

PAGE_SIZE = 24
TILE_PX = 256
#: The owner check of the app: (token, what did not happen) -> why not, or None.
Refusal = Callable[[str, str], "str | None"]


@dataclass(frozen=True)
class Tile:
    """One withheld photo on a page: its picture (for the owner only), a short label, the reason."""

    name: str
    picture: Image.Image
    label: str  # "face ~9 y · 0.97": the signal and P(child)
    reason: str  # one line: which signal, its value and the threshold


@dataclass(frozen=True)
class ReviewPage:
    tiles: list[Tile] = field(default_factory=list)
    page: int = 0  # 0-based, within 0..pages-1
    pages: int = 0
    waiting: int = 0
    released: int = 0
    status: str = ""

    @property
    def names(self) -> list[str]:
        return [tile.name for tile in self.tiles]


class OwnerReview:
    """The review queue's callbacks over `engine`, for the owner only (`refusal`: the app's check)."""

    def __init__(self, engine: PhotoSearch, refusal: Refusal) -> None:
        self.engine, self.refusal = engine, refusal
        self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-ahead")

    def label(self) -> str:
        """The section's title with today's count (computed on each view)."""
        waiting = sum(not item.released for item in self.engine.review())
        return f"Review withheld photos ({waiting} waiting)"

    def page(self, token: str = "", order: str = "likeliest mistakes", number: int = 0) -> ReviewPage:
        """Page `number` (clamped) of the photos waiting for review, in `order`."""
        refusal = self.refusal(token, "the review queue is for the gallery's owner")
        if refusal:
            return ReviewPage(status=refusal)
        queue = self.engine.review(order if order in REVIEW_ORDERS else "likeliest mistakes")
        waiting = [item for item in queue if not item.released]
        pages = max(1, -(-len(waiting) // PAGE_SIZE))
        number = min(max(0, int(number)), pages - 1)
        shown = waiting[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
        self._explain_ahead(waiting[(number + 1) * PAGE_SIZE : (number + 2) * PAGE_SIZE])
        tiles = [self._tile(item) for item in shown]
        released = len(queue) - len(waiting)
        if not queue:
            status = "No photo is withheld by the child-image detector."
        else:
            status = (
                f"**{len(waiting)} photo(s) wait for review** ({released} released), page {number + 1} of "
                f"{pages}, {order} first. Release only photos that show no child under 16: a release is "
                "your statement, recorded beside the gallery with the photo's content. Photos whose "
                "captions name a child are withheld by their captions and are not listed."
            )
        return ReviewPage(tiles, number, pages, len(waiting), released, status)

    def _tile(self, item: Withheld) -> Tile:
        explanation = self.engine.explain(item)
        return Tile(item.name, review_picture(item), explanation.short, explanation.sentence)

    def _explain_ahead(self, items: list[Withheld]) -> None:
        """Work out the next page's reasons while the owner looks at this one (instant where the
        index recorded the detector's signals; about 0.15 s a photo indexed before it did)."""
        for item in items:
            self._ahead.submit(self.engine.explain, item)

    def release(self, names: list[str], token: str = "") -> tuple[str, list[str]]:
        """Release `names` (the owner only): (message, the names released, for an undo)."""
        return self._act(names, token, revoke=False)

    def revoke(self, names: list[str], token: str = "") -> tuple[str, list[str]]:
        """Take releases of `names` back (the owner only): (message, the names taken back)."""
        return self._act(names, token, revoke=True)

    def _act(self, names: list[str], token: str, revoke: bool) -> tuple[str, list[str]]:
        verb = "taken back" if revoke else "released"
        refusal = self.refusal(token, f"nothing was {verb}")
        if refusal:
            return refusal, []
        if not names:
            return f"Tick the photos first: nothing was {verb}.", []
        try:
            changed = self.engine.release(names, revoke=revoke, tool="app")
        except ReviewError as error:
            return f"**Nothing was {verb}:** {error}", []
        except StoreError as error:  # recorded in the gallery; served from the store's next sync
            return f"**Recorded, not yet served:** {error}", list(names)
        if revoke:
            return f"{len(changed)} release(s) taken back: those photos are withheld again.", list(names)
        return f"Released {len(changed)} photo(s): they now show in search.", list(names)

    def released(self, token: str = "") -> list[str]:
        """The names of the photos released so far ([] for a visitor)."""
        if self.refusal(token, "the review queue is for the gallery's owner"):
            return []
        return [item.name for item in self.engine.review("name") if item.released]


def review_picture(item: Withheld) -> Image.Image:
    """A small picture of a withheld photo for its owner, as a PIL image: Gradio serves it from its
    upload cache under a content hash, never from the public thumbnail folder."""
    return thumbnail(item.path, TILE_PX)


#: The grid: tiles of at least 160 px, two on a phone, the name and reason on tap (a <details>).
CSS = """
#review-grid .grid { display: grid; gap: 8px; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); }
#review-grid figure { margin: 0; }
#review-grid img { width: 100%; height: 160px; object-fit: contain; background: #f3f3f3; }
#review-grid label { display: block; padding: 4px 0; cursor: pointer; }
#review-grid details { font-size: 0.85em; overflow-wrap: anywhere; }
@media (max-width: 640px) { #review-grid .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
"""
#: What "release the ticked" sends: the names ticked in the grid, read in the browser (the
#: grid is one HTML block: one component, where a checkbox per photo made every event of the
#: app 20 ms slower).
TICKED = """(order, number, names, ticked, ...rest) => {
  const boxes = [...document.querySelectorAll("#review-grid input.tick:checked")];
  boxes.forEach(box => { box.checked = false; });  // see UNTICK
  return [order, number, names, JSON.stringify(boxes.map(box => box.value)), ...rest];
}"""


#: "Release all on this page": asked first in the browser, with the count (the page's own dialog:
#: no component of the app's, each of which costs every event of the app some 0.15 ms).
CONFIRM_PAGE = """(order, number, names, confirmed, ...rest) => {
  const count = document.querySelectorAll("#review-grid figure").length;
  document.querySelectorAll("#review-grid input.tick").forEach(box => { box.checked = false; });
  return [order, number, names, count > 0 && confirm(`Release all ${count} photo(s) on this page?`), ...rest];
}"""
#: Before every other event that shows a page: the page patches the grid in place, and a
#: checkbox it keeps would keep its tick on whatever photo stands there next.
UNTICK = """(...inputs) => {
  document.querySelectorAll("#review-grid input.tick").forEach(box => { box.checked = false; });
  return inputs;
}"""
#: What runs in the browser before each of the section's events (app.py passes it as `js`).
BROWSER_INPUTS = {"ui_review_release": TICKED, "ui_review_release_page": CONFIRM_PAGE}


class ReviewSection:
    """The review queue in the page: a grid of up to PAGE_SIZE tiles, page controls, the actions."""

    def __init__(self, review: OwnerReview, admin_token: bool) -> None:
        self.review = review
        # no count in the page as built: each page load fills in today's (app.py), so none is stale
        with gr.Accordion("Review withheld photos", open=False, elem_id="review") as self.accordion:
            self.token = None
            if admin_token:
                self.token = gr.Textbox(label="Admin token", type="password", elem_id="review-token")
            with gr.Row():
                self.order = gr.Radio(list(REVIEW_ORDERS), value="likeliest mistakes", label="Order", scale=3)
                self.show = gr.Button("Show photos waiting for review", elem_id="review-show", scale=1)
            self.status = gr.Markdown(elem_id="review-status")
            with gr.Row():
                self.previous = gr.Button("← Previous page", elem_id="review-previous", size="sm")
                self.where = gr.Markdown(elem_id="review-page")
                self.next = gr.Button("Next page →", elem_id="review-next", size="sm")
            self.grid = gr.HTML(elem_id="review-grid")
            self.ticked = gr.Textbox(visible=False)  # filled in the browser (TICKED)
            self.confirmed = gr.Checkbox(visible=False)  # set in the browser (CONFIRM_PAGE)
            with gr.Row():
                self.release_ticked = gr.Button("Release the ticked photos", elem_id="review-release")
                self.release_page = gr.Button("Release all on this page…", elem_id="review-release-page")
                self.undo = gr.Button("Undo the last release", elem_id="review-undo")
            with gr.Accordion("Released photos", open=False, elem_id="review-released-section"):
                self.released = gr.CheckboxGroup(
                    [], label="Released: tick to take back", elem_id="review-released"
                )
                self.revoke = gr.Button("Take back the ticked releases", elem_id="review-revoke")
        self.number = gr.State(0)
        self.names = gr.State([])  # the names on the page shown
        self.last = gr.State([])  # the last release, for the undo

    def outputs(self) -> list:
        """What re-rendering the section writes, in the order `render` returns it."""
        return [self.status, self.where, self.grid, self.number, self.names, self.released, self.accordion]

    def render(self, page: ReviewPage, message: str = "", token: str = "") -> tuple:
        """`page` as values for `outputs()`; `message` (the last action's) above its status."""
        released = self.review.released(token)
        return (
            f"{message}\n\n{page.status}".strip(),
            _where(page),
            grid_html(page.tiles),
            page.page,
            page.names,
            gr.CheckboxGroup(choices=released, value=[]),
            gr.Accordion(label=self.review.label()),
        )

    def wiring(self) -> list[tuple[Any, Any, Any, Any, str]]:
        """(event, callback, inputs, outputs, api name) for each of the section's events; each
        runs `browser_js(name)` in the browser first."""
        token = [self.token] if self.token is not None else []
        outputs = self.outputs()
        review = self.review

        def after(order, number, secret, message=""):
            secret = secret or ""
            return self.render(review.page(secret, order, number), message, secret)

        def show(order, number, secret=""):
            return after(order, number, secret)

        def move(step: int):
            def go(order, number, secret=""):
                return after(order, int(number) + step, secret)

            return go

        def release_ticked(order, number, names, ticked, secret=""):
            chosen = [name for name in json.loads(ticked or "[]") if name in names]
            message, released = review.release(chosen, secret or "")
            return (*after(order, number, secret, message), released)

        def release_all(order, number, names, confirmed, secret=""):
            if not confirmed:  # the owner said no, or the page was empty
                return (*after(order, number, secret, "Nothing was released."), [])
            message, released = review.release(list(names), secret or "")
            return (*after(order, number, secret, message), released)

        def undo(order, number, last, secret=""):
            message, _ = review.revoke(list(last), secret or "")
            return (*after(order, number, secret, "Undone: " + message), [])

        def take_back(order, number, chosen, secret=""):
            message, _ = review.revoke(list(chosen or []), secret or "")
            return after(order, number, secret, message)

        base = [self.order, self.number]
        return [
            (self.show.click, show, [*base, *token], outputs, "ui_review_show"),
            (self.order.change, show, [*base, *token], outputs, "ui_review_order"),
            (self.previous.click, move(-1), [*base, *token], outputs, "ui_review_previous"),
            (self.next.click, move(1), [*base, *token], outputs, "ui_review_next"),
            (self.release_ticked.click, release_ticked, [*base, self.names, self.ticked, *token],
             [*outputs, self.last], "ui_review_release"),
            (self.release_page.click, release_all, [*base, self.names, self.confirmed, *token],
             [*outputs, self.last], "ui_review_release_page"),
            (self.undo.click, undo, [*base, self.last, *token], [*outputs, self.last], "ui_review_undo"),
            (self.revoke.click, take_back, [*base, self.released, *token], outputs, "ui_review_revoke"),
        ]  # fmt: skip


def browser_js(name: str) -> str | None:
    """What the browser runs before the event `name` (None: nothing): the section's own events
    untick the grid, the releases read it first."""
    return BROWSER_INPUTS.get(name, UNTICK if name.startswith("ui_review_") else None)


def _where(page: ReviewPage) -> str:
    return f"Page {page.page + 1} of {page.pages}" if page.pages else ""


def grid_html(tiles: list[Tile]) -> str:
    """The page's tiles as one HTML grid: each picture inline (to its owner only: never a file a
    visitor could ask for), its tick, and on tap its name and reason."""
    return '<div class="grid">' + "".join(_tile_html(i, tile) for i, tile in enumerate(tiles)) + "</div>"


def _tile_html(slot: int, tile: Tile) -> str:
    buffer = io.BytesIO()
    tile.picture.save(buffer, format="JPEG", quality=80)
    picture = base64.b64encode(buffer.getvalue()).decode()
    name, label, reason = (html.escape(text) for text in (tile.name, tile.label, tile.reason))
    return (
        f'<figure id="review-tile-{slot}"><img src="data:image/jpeg;base64,{picture}" alt="{name}">'
        f'<label><input type="checkbox" class="tick" value="{name}"> Release</label>'
        f"<details><summary>{label}</summary>{name}<br>{reason}</details></figure>"
    )
