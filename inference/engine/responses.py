"""What a search answers: its results, the response around them, and the query it reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inference.errors import UserError


class QueryError(UserError):
    """A query that cannot be searched (blank); the message says why."""


@dataclass
class Result:
    image: Path
    score: float | None  # search: calibrated probability in [0, 1], None where it would mislead;
    # similar: cosine similarity in [-1, 1]
    restricted: bool
    stamp: tuple[int, int] | None = None  # (size, mtime_ns) of the file when indexed
    folder: str = ""  # the folder it is in, relative to its gallery folder ("" at the top)
    taken: str | None = None  # when taken (inference/store/facts.py `taken_text`); None: unknown
    copies: list[Path] = field(default_factory=list)  # the other photos of its group of copies
    words: float = 0.0  # how strongly the query's words name it (inference/engine/words.py)


@dataclass
class SearchResponse:
    query: str
    restricted: bool
    message: str | None
    results: list[Result] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    language: str | None = None  # set when the query is clearly not English
    notice: str | None = None  # what the user should know about these results
    weak: bool = False  # no image matches well: the best probability is under the model's no-match level
    refusal: str | None = None  # a refused query: the policy's reading that refused it (TextVerdict.reason)

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "restricted": self.restricted,
            "refusal": self.refusal,
            "message": self.message,
            "language": self.language,
            "notice": self.notice,
            "weak": self.weak,
            "results": [_result_json(r) for r in self.results],
            "skipped": self.skipped,
        }


def normalize_query(query: str) -> str:
    """Collapse whitespace and drop control characters; raise QueryError if blank."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in query)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QueryError("the query is empty: type a few words describing the picture")
    return cleaned


def _result_json(result: Result) -> dict:
    return {
        "image": str(result.image),
        "score": result.score,
        "restricted": result.restricted,
        "folder": result.folder,
        "taken": result.taken,
        "copies": [str(path) for path in result.copies],
        "words": round(result.words, 3),
    }
