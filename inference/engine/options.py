"""How a text search reads a library besides its query: which part (filters), whether words
in names and captions count, whether copies share a place, and whether the best are shown
newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from inference.engine.filters import Filters
from inference.engine.responses import QueryError

if TYPE_CHECKING:  # the CLI reads the choices before it loads the engine
    from inference.engine.view import GalleryView
    from inference.engine.words import WordIndex

#: words: "all" (file names, folder names and captions), "names" (no captions: evaluation, whose
#: queries are the test photos' captions, must not see its answers) or "off"
WORDS = ("all", "names", "off")
NEWEST_OF = 50  # "newest first" orders the best this many by default


@dataclass(frozen=True)
class SearchOptions:
    filters: Filters = Filters()  # noqa: RUF009 (frozen: one shared default is safe)
    words: str = "all"
    newest_first: int | None = None  # order the best N matches by when they were taken
    group_copies: bool = True  # each group of copies takes one place

    def __post_init__(self) -> None:
        if self.words not in WORDS:
            raise QueryError(f"words={self.words!r}: choose from {', '.join(WORDS)}")
        if self.newest_first is not None and self.newest_first < 1:
            raise QueryError(
                f"newest first orders the best N matches: N must be 1 or more, not {self.newest_first}"
            )

    def words_of(self, view: GalleryView) -> WordIndex:
        return view.all_words if self.words == "all" else view.name_words


PLAIN = SearchOptions()  # the whole library, words on, copies grouped, best first
