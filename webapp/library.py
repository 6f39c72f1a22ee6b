"""The app's library controls: a date range, a folder, newest first; the results' captions
(probability, folder, date, copies); and a result's group of copies, as the page shows them.

The engine does the filtering and grouping (`PhotoSearch.search`, inference/engine/); this
module turns what a visitor types into its arguments and its answers into short words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import gradio as gr
from PIL import Image

from inference.engine.filters import Filters
from inference.engine.options import NEWEST_OF
from inference.engine.responses import Result
from inference.engine.view import GalleryView

WHOLE_LIBRARY = "Whole library"
FILE_TIME = " (file time)"  # how inference/store/facts.py `taken_text` marks a date from the file
FILE_DAY = " (file)"  # and a caption, in a tile's narrow width


@dataclass(frozen=True)
class LibraryFilters:
    """What the library controls say, as typed: dates "2021-06-01" (blank: open), `under` a
    gallery-relative folder ("" the whole library), `newest_first` the best NEWEST_OF by date."""

    after: str = ""
    before: str = ""
    under: str = ""
    newest_first: bool = False

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments of `PhotoSearch.search` (its QueryError names a date it cannot read)."""
        return {
            "after": self.after.strip() or None,
            "before": self.before.strip() or None,
            "under": self.under or None,
            "newest_first": NEWEST_OF if self.newest_first else None,
        }

    def describe(self) -> str:
        """The filters in words ("taken from 2021-01-01, under 2021/Lisbon"), "" if none; call
        it once the engine has taken them (it raises QueryError for a date it cannot read)."""
        said = Filters.of(self.after, self.before, self.under or None).describe()
        newest = f"the best {NEWEST_OF} newest first" if self.newest_first else ""
        return ", ".join(part for part in (said, newest) if part)


NO_FILTERS = LibraryFilters()


def folder_choices(names: list[str]) -> list[tuple[str, str]]:
    """(label, value) of each folder holding a photo, and each folder above one, for `names`
    (gallery-relative paths, "2021/Lisbon/IMG_2041.jpg"); the whole library ("") first."""
    folders: set[str] = set()
    for name in names:
        parents = PurePosixPath(name).parent.parts
        folders.update("/".join(parents[: depth + 1]) for depth in range(len(parents)))
    return [(WHOLE_LIBRARY, ""), *((folder, folder) for folder in sorted(folders))]


def short_date(taken: str | None) -> str | None:
    """The day of a result's `taken` text ("2021-06-01T12:30:00+01:00" -> "2021-06-01"), marked
    where it is the file's time, not the camera's; None where unknown."""
    if not taken:
        return None
    return taken[:10] + (FILE_DAY if taken.endswith(FILE_TIME) else "")


def result_caption(label: str, result: Result) -> str:
    """A shown result's caption, its file name last (the longest, and the least telling):
    "p = 0.83 · 2020/Lisbon · 2020-02-21 · +2 copies · IMG_2041.jpg"."""
    score = None if result.score is None else f"{label} {result.score:.2f}"
    copies = f"+{len(result.copies)} {'copy' if len(result.copies) == 1 else 'copies'}"
    parts = [score, result.folder, short_date(result.taken), copies if result.copies else None]
    return " · ".join([*(part for part in parts if part), result.image.name])


def group_rows(view: GalleryView, path: Path) -> list[int]:
    """The rows of `path`'s group of copies in `view`, its own row first ([] if not indexed)."""
    row = view.row_of.get(path.resolve())
    return [] if row is None else [row, *view.copies_of(row)]


def copy_caption(view: GalleryView, row: int, place: int, result: int) -> str:
    """A copy's caption in its group's page, with its pixel size (which copy is the original)
    and its path: "result 3 · 2019-01-01 · 500×375 · 2019/Home/x.jpg", "copy 1 · 2019-01-01 ·
    250×187 · copies/x-small.jpg"."""
    parts = [f"result {result}" if place == 0 else f"copy {place}", short_date(view.taken_of(row)) or ""]
    try:
        with Image.open(view.paths[row]) as image:  # the header only: no pixels are decoded
            parts.append(f"{image.width}×{image.height}")
    except OSError:  # gone since it was indexed: the tile says so, its caption need not
        pass
    return " · ".join(part for part in [*parts, view.names[row]] if part)


def copies_label(count: int, result: int) -> str:
    """The copies button's words for the selected result `result` (1-based) with `count` copies."""
    return f"Show the {count} {'copy' if count == 1 else 'copies'} of result {result}"


@dataclass
class FilterControls:
    """The library controls, in a folded section that keeps a phone's first screen for the
    search box, its examples and the results."""

    after: gr.Textbox
    before: gr.Textbox
    folder: gr.Dropdown
    newest: gr.Checkbox

    @classmethod
    def build(cls, choices: list[tuple[str, str]]) -> FilterControls:
        with gr.Accordion("Date, folder and order", open=False, elem_id="library-filters"):
            with gr.Row():
                after = gr.Textbox(
                    label="Taken from", placeholder="YYYY-MM-DD", max_lines=1, elem_id="taken-from"
                )
                before = gr.Textbox(
                    label="Taken before", placeholder="YYYY-MM-DD", max_lines=1, elem_id="taken-before"
                )
            with gr.Row():
                # a flat gallery has no folder to choose: the control shows once there is one
                folder = gr.Dropdown(
                    choices=choices,
                    value="",
                    label="Folder",
                    filterable=True,
                    visible=len(choices) > 1,
                    elem_id="folder",
                )
                newest = gr.Checkbox(
                    label="Newest first",
                    info=f"the best {NEWEST_OF} matches, by date",
                    elem_id="newest-first",
                )
        return cls(after, before, folder, newest)

    @property
    def inputs(self) -> list[Any]:
        """In the order of `LibraryFilters`'s fields."""
        return [self.after, self.before, self.folder, self.newest]


def filters_of(
    after: str | None, before: str | None, folder: str | None, newest: bool | None
) -> LibraryFilters:
    """The controls' values (Gradio sends None for a box never touched) as LibraryFilters."""
    return LibraryFilters(after or "", before or "", folder or "", bool(newest))
