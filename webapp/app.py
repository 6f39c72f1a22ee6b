"""Gradio gallery search: `python app.py [--gallery DIR] [--models DIR] [--host H] [--port P]`
in a checkout, `photo-search-app` where the package is installed with its `app` extra.

Runs on the torch-free ONNX engine. Callbacks are plain methods of `SearchApp`
(strings and paths in, (image, caption) lists out) so tests call them directly;
`build_ui` wires them to Gradio; `main()` launches it.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from inference.data.dataset import DataError, find_data_dir
from inference.engine.front import PhotoSearch
from inference.engine.responses import QueryError, Result
from inference.engine.view import GalleryView
from inference.errors import UserError
from inference.models.exported import DEFAULT_MODELS_DIR
from inference.models.preprocess import ImageError
from inference.paths import PROJECT_ROOT
from inference.policy import DISCLAIMER, POLICIES, SEARCH_REFUSED
from inference.policy.languages import understood_names
from inference.review.decisions import known_captions
from inference.store.milvus import STORE_HELP, StoreError
from webapp.library import (
    NO_FILTERS,
    FilterControls,
    LibraryFilters,
    copies_label,
    copy_caption,
    filters_of,
    folder_choices,
    group_rows,
    result_caption,
)
from webapp.review import CSS as REVIEW_CSS
from webapp.review import OwnerReview, ReviewSection, browser_js
from webapp.tiles import ThumbnailGuard, ThumbnailStore
from webapp.uploads import MAX_UPLOAD_BYTES, UPLOAD_TYPES, add_files

DEFAULT_UPLOADS = PROJECT_ROOT / "uploads"
ADMIN_TOKEN_ENV = "PHOTO_SEARCH_ADMIN_TOKEN"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
EXAMPLE_COUNT = 10
#: Searches run at once by default (--concurrency): chosen by measurement on 2 cores,
#: bench/results.md ("Load"); a search is thread-safe and takes about 5 ms.
SEARCHES_AT_ONCE = 4
QUEUE_SIZE = 256  # visitors waiting beyond this get "queue full" instead of a long wait
MAX_NOTICE_LINES = 20  # skipped files listed by name; the rest are counted
#: The status line's picture of what "find similar" searched from: small, in the text.
CSS = """
#status img { height: 48px; width: auto; display: inline; vertical-align: middle; margin: 0 4px; }
/* a result's caption says its probability, folder, date and copies: on as many lines as it needs,
   not cut to "p = 0.69 · 2019/Home · 2019-0…" */
#results .caption-label { max-width: calc(100% - 8px); white-space: normal; overflow-wrap: anywhere; }
/* a phone: two columns that fit the width (Gradio's grid keeps 5 of at least 100 px, most off-screen),
   captions on as many lines as they need instead of cut to "p = 0.81 · f…" */
@media (max-width: 640px) {
  #results .grid-container, #review-gallery .grid-container {
    grid-template-columns: repeat(2, minmax(0, 1fr)) !important;
  }
  /* and no inner scroll box (Gradio caps the grid at 55% of the screen): the page scrolls instead */
  #results .grid-wrap, #review-gallery .grid-wrap {
    max-height: none !important; overflow-y: visible !important;
  }
  #results .caption-label, #review-gallery .caption-label {
    max-width: calc(100% - 8px); white-space: normal; overflow-wrap: anywhere; opacity: 0.85;
  }
}
"""
GalleryItems = list[tuple[str, str | None]]  # (picture file, caption; None: no caption)
Page = tuple[GalleryItems, str, list[str]]  # items, status message, paths shown
#: After a search or "find similar", bring the status line and the first results into view where
#: they are not: on a phone they start some 800 px down, under the examples and the controls, and
#: "find similar" is pressed below them, so its matches are above the screen.
#: The "find similar" button's words before a result is selected (and on every new page).
SIMILAR = "Find similar to the selected result"
SCROLL_TO_RESULTS = """() => setTimeout(() => {
  const status = document.getElementById("status");
  const top = status ? status.getBoundingClientRect().top : 0;
  if (status && (top < 0 || top > window.innerHeight * 0.5)) status.scrollIntoView({block: "start"});
}, 50)"""
SCROLLING_EVENTS = (
    "ui_search_button",
    "ui_search_submit",
    "ui_search_example",
    "ui_similar_result",
    "ui_similar_upload",
    "ui_copies",
)


def thumbnails_folder(policy: str, folders: list[Path]) -> str:
    """The thumbnail folder's name for an app serving `folders` under `policy`. One per policy: an
    instance without the policy makes thumbnails a strict one must never serve. One per set of
    folders: apps serving other galleries from the same model folder each prune the thumbnails
    their own view does not show, and would delete each other's as they were being fetched."""
    served = "\n".join(sorted(str(folder.resolve()) for folder in folders))
    return f"thumbnails-{policy}-{hashlib.sha1(served.encode()).hexdigest()[:12]}"


class SearchApp:
    """The app's shared state (engine, uploads folder) and its callbacks.

    Result pages are (gallery items, status message, paths shown). The paths go
    into each browser session's own gr.State, so "find similar" picks from what
    that visitor sees, never from another visitor's search.
    """

    def __init__(
        self,
        engine: PhotoSearch,
        uploads: Path,
        uploads_allowed: bool = True,
        admin_token: str | None = None,
    ) -> None:
        self.engine, self.uploads = engine, uploads
        self.uploads_allowed, self.admin_token = uploads_allowed, admin_token
        self.thumbnails = ThumbnailStore(engine.index_dir / thumbnails_folder(engine.policy, engine.folders))
        self.review = OwnerReview(engine, self._owner_refusal)
        # a photo withheld since (a revoke, a caption, by any process) loses its thumbnail with the
        # view that withholds it, before any page or file request is answered from that view
        engine.on_view_change(self._prune_thumbnails)
        self._prune_thumbnails(engine.view)
        self._folders: tuple[GalleryView | None, list[tuple[str, str]]] = (None, [])

    def _prune_thumbnails(self, view: GalleryView) -> None:
        self.thumbnails.prune(view.paths, view.stamps, view.restricted)

    def _items(self, results: list[Result], label: str, tile_caption: str | None) -> GalleryItems:
        """(picture file, caption) per result; a restricted one is the disclaimer tile,
        which carries the sentence itself, so in the page it gets no caption to repeat it."""
        files = self.thumbnails.files_for([(r.image, r.restricted, r.stamp) for r in results])
        return [
            (str(file), tile_caption if r.restricted else result_caption(label, r))
            for file, r in zip(files, results, strict=True)
        ]

    def _page(self, results: list[Result], label: str, status: str) -> Page:
        return self._items(results, label, None), status, [str(r.image) for r in results]

    def search(
        self, query: str, k: float = 10, min_probability: float = 0.0, filters: LibraryFilters = NO_FILTERS
    ) -> Page:
        """Text search -> page; `filters`: the library controls (dates, folder, newest first)."""
        try:
            response = self.engine.search(
                query, k=int(k), min_probability=float(min_probability), **filters.engine_options()
            )
        except (QueryError, StoreError) as error:  # a store that is down: said, and the app serves on
            return [], f"**Error:** {error}", []
        if response.restricted:
            return [], f"**{SEARCH_REFUSED if response.refusal != 'script' else response.message}**", []
        where = f" ({filters.describe()})" if filters.describe() else ""
        if not response.results:
            if response.notice and not response.weak and response.language is None:
                return [], f"**{response.notice}**", []  # the filters hold no photo at all
            cut = f"No image{where} matches “{query.strip()}” with probability ≥ {min_probability:.2f}"
            return [], cut + "; lower the cut-off to see weaker matches.", []
        count = f"{len(response.results)} of {len(self.engine)} images"
        status = f"Results for “{query.strip()}”{where}: {count}."
        if response.notice:
            status = f"**{response.notice}** {status}"
        if response.language is not None and float(min_probability) > 0:
            status += " The minimum-probability cut-off does not apply: this query has no probability."
        return self._page(response.results, "p =", status)

    def more(
        self,
        query: str,
        k: float,
        min_probability: float,
        shown: list[str],
        filters: LibraryFilters = NO_FILTERS,
    ) -> Page:
        """The page `shown` of `query`'s results with its next K appended (its top len(shown) + K:
        the same first results, thumbnails already made). A page that is not those results (a
        group of copies, a picture's look-alikes, other words or filters since) gives way to
        the first K of `query`."""
        items, status, paths = self.search(query, len(shown) + int(k), min_probability, filters)
        if shown and paths and paths[: len(shown)] != shown:
            return self.search(query, k, min_probability, filters)
        if shown and len(paths) <= len(shown):
            status = f"No more results. {status}"
        return items, status, paths

    def folder_choices(self) -> list[tuple[str, str]]:
        """(label, value) of the library's folders for the Folder control, the whole library
        first; worked out once per snapshot of the index (a million names take a while)."""
        view = self.engine.view
        cached, choices = self._folders
        if cached is not view:
            choices = folder_choices(view.names)
            self._folders = (view, choices)
        return choices

    def copies_label(self, selected: int | None, shown: list[str]) -> str | None:
        """The copies button's words for the result at `selected` on the page `shown`; None where
        it has no copies, or is withheld (a tile has no caption, nor a group to open)."""
        if selected is None or not 0 <= selected < len(shown):
            return None
        view = self.engine.view
        rows = group_rows(view, Path(shown[selected]))
        if len(rows) < 2 or view.restricted[rows].any():
            return None
        return copies_label(len(rows) - 1, selected + 1)

    def copies(self, selected: int | None, shown: list[str]) -> Page:
        """The group of copies of the result at `selected` on the page `shown`: the result, then
        its copies, each served as a result is (a withheld one as the disclaimer tile)."""
        if selected is None or not 0 <= selected < len(shown):
            return [], "Select a result with copies first, then open its group.", shown
        view = self.engine.view
        rows = group_rows(view, Path(shown[selected]))
        if rows and view.restricted[rows].any():  # one verdict per group: nothing of it is shown
            return [], f"**{DISCLAIMER}** Its copies are not shown.", []
        if len(rows) < 2:
            return [], f"Result {selected + 1} has no copies in this library.", shown
        pictures = [(view.paths[row], bool(view.restricted[row]), view.stamps[row]) for row in rows]
        files = self.thumbnails.files_for(pictures)
        items: GalleryItems = [
            (str(file), None if hidden else copy_caption(view, row, place, selected + 1))
            for place, (file, row, (_, hidden, _)) in enumerate(zip(files, rows, pictures, strict=True))
        ]
        count = f"{len(rows) - 1} {'copy' if len(rows) == 2 else 'copies'}"
        status = (
            f"Result {selected + 1} and its {count}: one photo, resized, recompressed or cropped. "
            "Search again to go back to the results."
        )
        return items, status, [str(view.paths[row]) for row in rows]

    def search_api(self, query: str, offset: float = 0) -> GalleryItems:
        """The named API endpoint: query string (and how many results to skip, for the next
        page) -> results gallery (10); a script reads each withheld image's caption as the
        disclaimer."""
        try:
            response = self.engine.search(query, offset=int(offset))
        except QueryError:
            return []
        except StoreError as error:  # a script is told, in one line, not handed an empty answer
            raise gr.Error(str(error)) from None
        if response.restricted:  # the disclaimer, or why a script cannot be searched
            return [(str(self.thumbnails.disclaimer()), response.message or DISCLAIMER)]
        return self._items(response.results, "p =", DISCLAIMER)

    def similar_to_result(self, selected: int | None, shown: list[str], k: float = 10) -> Page:
        """'Find similar' for the result at position `selected` of the page `shown`."""
        if selected is None or not 0 <= selected < len(shown):
            return [], "Select a result first, then press Find similar.", shown
        path = Path(shown[selected])
        return self._similar(path, k, f"{self._small_thumbnail(path)} {path.name}")

    def similar_to_upload(self, image_path: str | None, k: float = 10) -> Page:
        """'Find similar' for an uploaded picture (not added to the gallery). The
        visitor's picture is deleted from Gradio's upload cache once searched, so no
        other visitor can fetch it; a file anywhere else is never touched."""
        if not image_path:
            return [], "Upload a picture to search with.", []
        try:
            return self._similar(Path(image_path), k, f"your picture {Path(image_path).name}")
        finally:
            if Path(image_path).resolve().is_relative_to(Path(get_upload_folder()).resolve()):
                Path(image_path).unlink(missing_ok=True)

    def _small_thumbnail(self, path: Path) -> str:
        """An inline picture of a gallery image for the status line (its thumbnail, or
        the disclaimer tile if it is restricted or changed), served from the static folder."""
        view = self.engine.view
        row = view.row_of.get(path.resolve())
        hidden = row is None or bool(view.restricted[row])
        picture = self.thumbnails.file_for(path, hidden, None if row is None else view.stamps[row])
        return f'<img src="gradio_api/file={picture}" alt="">'

    def _similar(self, path: Path, k: float, what: str) -> Page:
        try:
            response = self.engine.similar(path, k=int(k))
        except (ImageError, StoreError) as error:
            return [], f"**Error:** {path.name}: {error}", []
        if response.restricted:
            return [], f"**{DISCLAIMER}** Nothing similar to it is shown.", []
        status = f"{len(response.results)} images most like {what} (cosine similarity, -1 to 1)."
        return self._page(response.results, "cosine", status)

    def skipped_notice(self) -> str:
        """Markdown listing gallery files that could not be indexed ('' if none)."""
        skipped = self.engine.view.skipped
        if not skipped:
            return ""
        lines = "\n".join(f"- `{line}`" for line in skipped[:MAX_NOTICE_LINES])
        more = f"\n- … and {len(skipped) - MAX_NOTICE_LINES} more" if len(skipped) > MAX_NOTICE_LINES else ""
        return f"**{len(skipped)} file(s) in the gallery could not be indexed:**\n{lines}{more}"

    def _owner_refusal(self, token: str, nothing: str) -> str | None:
        """Why this visitor may not act as the gallery's owner (None: they may). `nothing`
        says what did not happen ("nothing was added")."""
        if not self.uploads_allowed:
            return "The owner's tools are turned off on this server."
        if self.admin_token and not hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return f"**Wrong admin token:** {nothing}."
        return None

    def add_images(self, files: list[str] | None, token: str = "", progress=None) -> str:
        """Copy uploaded pictures into the uploads folder and index them (the owner only)."""
        refusal = self._owner_refusal(token, "nothing was added")
        if refusal:
            return refusal
        if not files:
            return "Choose one or more pictures to add."
        report = add_files([Path(f) for f in files], self.uploads)
        if report.added:
            # only the uploads folder is re-scanned: the main gallery's index and ranker stay
            try:
                self.engine.refresh(progress=False, on_progress=progress, only=[self.uploads])
            except StoreError as error:  # copied and indexed; searched once the store is back
                return f"**Added {len(report.added)} image(s), not yet searchable:** {error}"
        message = f"Added {len(report.added)} image(s); the gallery now holds {len(self.engine)}."
        return message + (
            "\n\nNot added:\n" + "\n".join(f"- {n}" for n in report.notes) if report.notes else ""
        )


#: Offered where a gallery has no captions of its own: things any photo folder may hold.
GENERIC_EXAMPLES = (
    "a dog running on the grass",
    "a cup of coffee",
    "people on a beach",
    "a city street at night",
    "mountains and a lake",
    "a cat",
    "a red car",
    "flowers in a garden",
    "a man riding a bike",
    "snow on the trees",
)


def clean_caption(text: str) -> str:
    """A data set caption as a person would type it: "river 's edge ." -> "river's edge"."""
    text = re.sub(r"\s+([.,!?;:'])", r"\1", " ".join(text.split()))
    return text.rstrip(" .")


def example_queries(engine: PhotoSearch, seed: int = 0) -> list[str]:
    """Up to 10 queries to try: captions written for this gallery's own images (cleaned),
    each allowed by the policy and describing an allowed image; else generic ones."""
    captions = {
        (gallery / image).resolve(): texts
        for gallery in engine.folders
        if gallery.is_dir()
        for image, texts in known_captions(gallery).items()
    }
    if not captions:  # nobody captioned this gallery: no need to look at its images
        return list(GENERIC_EXAMPLES)
    view = engine.view
    candidates = sorted(
        {
            clean_caption(text)
            for path, texts in captions.items()
            if (row := view.row_of.get(path)) is not None and not view.restricted[row]
            for text in texts
        }
    )
    shuffled = random.Random(seed).sample(candidates, len(candidates))
    chosen: list[str] = []
    for start in range(0, len(shuffled), 2 * EXAMPLE_COUNT):  # the policy's verdict, a batch at a time
        batch = shuffled[start : start + 2 * EXAMPLE_COUNT]
        chosen += [text for text, ok in zip(batch, engine.searchable(batch), strict=True) if ok]
        if len(chosen) >= EXAMPLE_COUNT:
            return chosen[:EXAMPLE_COUNT]
    return list(GENERIC_EXAMPLES)


def build_ui(app: SearchApp, examples: list[str]) -> gr.Blocks:
    with gr.Blocks(title="Photo search") as ui:
        languages = understood_names() if app.engine.models.multilingual else "English"
        gr.Markdown(f"# Photo search\nDescribe a picture in a few words, in {languages}.")
        gr.Markdown(f"<small>{POLICIES[app.engine.policy]}</small>", elem_id="policy")
        # the results are laid out below, after the examples: created here for the examples' outputs
        status = gr.Markdown(elem_id="status", render=False)
        results = gr.Gallery(label="Results", columns=5, height="auto", elem_id="results", render=False)
        selected = gr.State(None)
        shown = gr.State([])  # paths on this visitor's page
        with gr.Row():
            query = gr.Textbox(
                label="Search", placeholder="two dogs playing in the snow", scale=4, elem_id="query"
            )
            button = gr.Button("Search", variant="primary", scale=1, elem_id="search-button")

        def show(page: Page) -> tuple:
            """A page for the UI: a new page closes the enlarged preview and forgets
            the previous page's selection (its index would point into the new one)."""
            items, message, paths = page
            gallery = gr.Gallery(value=items, selected_index=None)
            # the copies button hides until a result with copies is selected
            return gallery, message, paths, None, gr.Button(SIMILAR), gr.Button(visible=False)

        example_rows = None
        if examples:
            example_rows = gr.Examples(
                examples,
                inputs=query,
                cache_examples=False,
                label="Try a query",
                api_name="ui_example",  # private, like the other UI events: "/search" stays the API's
                api_visibility="private",
            )

        with gr.Row():
            k = gr.Slider(1, 50, value=10, step=1, label="Results (K)")
            cutoff = gr.Slider(0.0, 1.0, value=0.0, step=0.01, label="Minimum probability")
        library = FilterControls.build(app.folder_choices())
        notice = app.skipped_notice()
        if notice:
            with gr.Accordion("Files skipped while indexing", open=False):
                gr.Markdown(notice, elem_id="skipped")
        status.render()
        results.render()
        more_button = gr.Button("More results", elem_id="more-button", size="sm")
        with gr.Row():
            similar_button = gr.Button(SIMILAR, elem_id="similar-button")
            copies_button = gr.Button(visible=False, elem_id="copies-button")
            upload_query = gr.Image(type="filepath", label="…or find similar to a picture", height=160)
        uploads, token, add_status, review = None, None, None, None
        if app.uploads_allowed:  # otherwise the event does not exist: no API can add either
            with gr.Accordion("Add images to the gallery", open=False):
                if app.admin_token:
                    token = gr.Textbox(label="Admin token", type="password", elem_id="admin-token")
                uploads = gr.File(
                    file_count="multiple", file_types=UPLOAD_TYPES, label="Pictures", elem_id="uploads"
                )
                add_status = gr.Markdown(elem_id="add-status")
            review = ReviewSection(app.review, bool(app.admin_token))

        def text_search(text: str, top_k: float, cut: float, *controls) -> tuple:
            return show(app.search(text, top_k, cut, filters_of(*controls)))

        # a picture search clears the box: the old words no longer describe the page
        def similar_to_result(index: int | None, paths: list[str], top_k: float) -> tuple:
            return (*show(app.similar_to_result(index, paths, top_k)), "")

        def similar_to_upload(picture: str | None, top_k: float) -> tuple:
            return (*show(app.similar_to_upload(picture, top_k)), "")

        def add(files, secret="", progress=gr.Progress()):  # noqa: B008 (Gradio injects it)
            return app.add_images(files, secret or "", progress=lambda done, total: progress((done, total)))

        def more_results(text: str, top_k: float, cut: float, paths: list[str], *controls) -> tuple:
            if not text.strip():  # a picture's look-alikes come in one page
                return (gr.skip(), "Type words and search to page through their results.", *[gr.skip()] * 4)
            return show(app.more(text, top_k, cut, paths, filters_of(*controls)))

        def open_copies(index: int | None, paths: list[str]) -> tuple:
            return show(app.copies(index, paths))

        def remember(paths: list[str], evt: gr.SelectData):  # the buttons say which result they act on
            group = app.copies_label(evt.index, paths)
            copies = gr.Button(group, visible=True) if group else gr.Button(visible=False)
            return evt.index, gr.Button(f"Find similar to result {evt.index + 1}"), copies

        page = [results, status, shown, selected, similar_button, copies_button]
        by_picture = [*page, query]
        searched = [query, k, cutoff, *library.inputs]
        # UI-only events: private, each with its own api_name so "/search" stays the API's.
        wiring: list[tuple[Any, Any, Any, Any, str]] = [
            (button.click, text_search, searched, page, "ui_search_button"),
            (query.submit, text_search, searched, page, "ui_search_submit"),
            (results.select, remember, [shown], [selected, similar_button, copies_button], "ui_select"),
            (more_button.click, more_results, [query, k, cutoff, shown, *library.inputs], page, "ui_more"),
            (similar_button.click, similar_to_result, [selected, shown, k], by_picture, "ui_similar_result"),
            (upload_query.upload, similar_to_upload, [upload_query, k], by_picture, "ui_similar_upload"),
            (copies_button.click, open_copies, [selected, shown], page, "ui_copies"),
        ]
        if uploads is not None:
            inputs = [uploads, token] if token is not None else [uploads]
            wiring.append((uploads.upload, add, inputs, add_status, "ui_add_images"))
        if review is not None:
            wiring += review.wiring()
            # the section's count as it is now, on every page load (a release elsewhere changes it)
            ui.load(lambda: gr.Accordion(label=app.review.label()), None, review.accordion,
                    api_name="ui_review_count", api_visibility="private")  # fmt: skip

        # K, the cut-off and the library controls act at once on a typed query
        def rerun(text: str, top_k: float, cut: float, *controls):
            return (
                text_search(text, top_k, cut, *controls) if text.strip() else tuple(gr.skip() for _ in page)
            )

        if example_rows is not None:  # an example is a search: its words go into the box, then as typed
            example_event = example_rows.load_input_event.then
            wiring.append((example_event, text_search, searched, page, "ui_search_example"))
        # a typed date acts on Enter (not on each key); the folder and the order at once
        for event, name in (
            (library.after.submit, "ui_taken_from"),
            (library.before.submit, "ui_taken_before"),
            (library.folder.change, "ui_folder"),
            (library.newest.change, "ui_newest"),
        ):
            wiring.append((event, rerun, searched, page, name))
        # the folders as the index has them now, on every page load (a refresh may add some)
        ui.load(lambda: _folder_control(app.folder_choices()), None, library.folder,
                api_name="ui_folders", api_visibility="private")  # fmt: skip
        for event, callback, inputs, outputs, name in wiring:
            js = browser_js(name)
            done = event(callback, inputs, outputs, api_name=name, api_visibility="private", js=js)
            if name in SCROLLING_EVENTS:
                done.then(None, None, None, js=SCROLL_TO_RESULTS)
        for slider, name in ((k, "ui_k"), (cutoff, "ui_cutoff")):
            # while a slider is dragged only the latest value waits: one search, not dozens
            slider.change(
                rerun,
                searched,
                page,
                api_name=name,
                api_visibility="private",
                trigger_mode="always_last",
            )
        api_query = gr.Textbox(visible=False)
        api_offset = gr.Number(value=0, precision=0, minimum=0, visible=False, label="offset")
        api_query.submit(app.search_api, [api_query, api_offset], results, api_name="search")
    return ui


def _folder_control(choices: list[tuple[str, str]]) -> gr.Dropdown:
    """The Folder control over `choices`, shown where there is a folder to choose."""
    return gr.Dropdown(choices=choices, visible=len(choices) > 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Photo search app")
    parser.add_argument(
        "--gallery", type=Path, default=None, help="image folder (default: the data set's test images)"
    )
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--uploads", type=Path, default=DEFAULT_UPLOADS)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (0.0.0.0 to expose)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument(
        "--allow-uploads",
        action="store_true",
        help=f"let the owner add images on a non-loopback address (needs ${ADMIN_TOKEN_ENV})",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=SEARCHES_AT_ONCE,
        help=f"requests served at once (default {SEARCHES_AT_ONCE}, measured best on 2 cores)",
    )
    parser.add_argument(
        "--policy",
        choices=POLICIES,
        default="strict",
        help="content policy: strict (default; required by law in some markets) or off (a private gallery)",
    )
    parser.add_argument(
        "--store",
        default=None,
        help=STORE_HELP,
    )
    return parser.parse_args(argv)


def default_gallery() -> Path:
    """$GALLERY_DIR, else the data set's test images, else gallery/ in the project (a Space's root)."""
    if os.environ.get("GALLERY_DIR"):
        return Path(os.environ["GALLERY_DIR"])
    try:
        return find_data_dir() / "test_images"
    except DataError:
        return PROJECT_ROOT / "gallery"


class AppSettingError(UserError):
    """A combination of the app's settings that cannot serve as asked."""


def upload_permission(host: str, allow_uploads: bool, token: str | None) -> tuple[bool, str | None]:
    """(uploads allowed, admin token) for a server bound to `host`.

    Adding images changes what every visitor searches, so it is the owner's: on by
    default only on loopback (the owner's own machine); on any other address only
    with --allow-uploads and an admin token the owner types in the page.
    """
    if host in LOOPBACK_HOSTS:
        return True, token
    if allow_uploads and not token:
        raise AppSettingError(f"--allow-uploads on {host} needs an admin token: set ${ADMIN_TOKEN_ENV}")
    return allow_uploads, token


def create_app(
    gallery: Path | None,
    models: Path,
    uploads: Path,
    policy: str = "strict",
    permission: tuple[bool, str | None] = (True, None),
    store: str | None = None,
) -> tuple[SearchApp, list[str]]:
    """The app over `gallery` and `uploads`; `store` a --store value ('local' or 'milvus:URI')."""
    gallery = gallery or default_gallery()
    engine = PhotoSearch.open(models, policy=policy, store=store)
    engine.warm_up_in_background()  # the policy's dictionaries load while the gallery does
    engine.ensure_index(gallery, uploads, progress=True)
    engine.warm_up()
    app = SearchApp(engine, uploads, *permission)
    app.thumbnails.disclaimer()  # drawn once, before a visitor needs it
    warm_gradio()
    return app, example_queries(engine)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        permission = upload_permission(args.host, args.allow_uploads, os.environ.get(ADMIN_TOKEN_ENV))
        app, examples = create_app(
            args.gallery, args.models, args.uploads, args.policy, permission, args.store
        )
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    ui = build_ui(app, examples)
    ui.queue(default_concurrency_limit=args.concurrency, max_size=QUEUE_SIZE)
    # thumbnails are served straight from their folder (no copy into Gradio's cache
    # per result page), checked again by browsers on each use (webapp/tiles.py ThumbnailGuard)
    folder = app.thumbnails.folder
    gr.set_static_paths([folder])
    ui.launch(
        server_name=args.host,
        server_port=args.port,
        share=False,
        max_file_size=MAX_UPLOAD_BYTES,
        css=CSS + REVIEW_CSS,
        app_kwargs={"middleware": [Middleware(ThumbnailGuard, folder=folder, check=lambda: app.engine.view)]},
    )
    return 0


def warm_gradio() -> None:
    """What Gradio does on its first event, done before the first visitor's: it switches
    matplotlib (where installed) to a headless backend around every call, and the first time that
    imports matplotlib's pyplot: 0.55 s of the first search (0.83 s against 0.13 s for the next)."""
    from gradio.utils import MatplotlibBackendMananger

    with MatplotlibBackendMananger():
        pass


if __name__ == "__main__":
    sys.exit(main())
