"""The one verdict on a query, for every place a query enters: the CLI, the app's search box,
its `/search` API and evaluation (inference/engine/, inference/engine/evaluate.py).

In order, cheapest and surest first:
1. a query with letters of a script no reading covers is not searched (fail closed);
2. the word readings (inference/policy/readings.py): a query they refuse is never embedded;
3. the semantic net (inference/policy/query_net.py), on the multilingual encoder's vector of
   the query, embedded once, before anything is ranked; for a query in a language that encoder
   was not trained on (Swedish, Czech, Ukrainian), whose vector means little, the word readings
   decide alone.
A query is refused when any of them says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from inference.policy.languages import encoder_reads
from inference.policy.query_net import QueryNet
from inference.policy.readings import is_restricted_text
from inference.policy.scripts import unreadable_scripts

DISCLAIMER = "This image is unavailable in your country in compliance with local laws"
#: What a refused search says: the disclaimer's wording, about the search rather than an image.
SEARCH_REFUSED = "This search is unavailable in your country in compliance with local laws"

#: Where the policy applies: the law binds a service in some countries, not a
#: person searching a private folder of their own.
POLICIES: dict[str, str] = {
    "strict": "Content policy: strict. Nothing depicting a child under 16 is shown: a gallery's "
    "captions decide where it has them, the child-image detector elsewhere; child queries are refused.",
    "off": "Content policy: off (a private gallery where the law behind it does not apply). "
    "Every image is shown and every query is searched.",
}


@dataclass(frozen=True)
class TextVerdict:
    """Whether a query may be searched; when not, which reading refused it and what to say."""

    refused: bool
    reason: str | None = None  # "script", "words" or "semantic"
    message: str | None = None  # one line for the person searching

    def to_json(self) -> dict:
        return {"refused": self.refused, "reason": self.reason}


SEARCHABLE = TextVerdict(False)


def unreadable_message(scripts: list[str]) -> str:
    names = " and ".join(scripts)
    return (
        f"Searches in {names} script are not available: the content policy cannot read it, "
        "so it cannot be searched."
    )


def word_verdict(query: str, also: str | None = None) -> TextVerdict:
    """Steps 1 and 2, which need no model, on the query as typed and `also` as the search
    normalised it."""
    texts = [query] if also is None else [query, also]
    scripts = unreadable_scripts(query)
    if scripts:
        return TextVerdict(True, "script", unreadable_message(scripts))
    if any(is_restricted_text(text) for text in texts):
        return TextVerdict(True, "words", SEARCH_REFUSED)
    return SEARCHABLE


def query_verdict(
    query: str,
    multilingual: Callable[[], np.ndarray | None],
    net: QueryNet | None,
    also: str | None = None,
) -> TextVerdict:
    """The verdict on one query (and `also`, the same query as the search normalised it).
    `multilingual()` embeds it (the multilingual encoder's [512] vector; None for a model
    without one) and is called only once the word readings clear it."""
    verdict = word_verdict(query, also)
    if verdict.refused or net is None or not encoder_reads(query):
        return verdict
    vector = multilingual()
    if vector is not None and bool(net.refuses(np.asarray(vector)[None])[0]):
        return TextVerdict(True, "semantic", SEARCH_REFUSED)
    return SEARCHABLE


def query_verdicts(queries: list[str], multilingual: np.ndarray | None, net: QueryNet | None):
    """The verdicts on many queries embedded beforehand (evaluation): multilingual [N, 512] or None."""
    def row(i: int) -> Callable[[], np.ndarray | None]:
        return lambda: None if multilingual is None else multilingual[i]

    return [query_verdict(query, row(i), net) for i, query in enumerate(queries)]
