"""A text or image search over one snapshot of the view.

Ranking is by the fused score text vector . image vector (export/modules.py): one matrix product
over the stored image vectors for small galleries, an approximate index above
`ranking.ann_threshold()` images (inference/store/ranking.py). The scoring head turns the top
K scores into calibrated probabilities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.engine.options import PLAIN, SearchOptions
from inference.engine.responses import Result, SearchResponse, normalize_query
from inference.engine.view import GalleryView
from inference.engine.words import WORD_WEIGHT
from inference.models.exported import QueryVectors, SearchModels
from inference.models.preprocess import load_image
from inference.policy import DISCLAIMER, query_verdict, query_verdicts, warm_up
from inference.policy.languages import language_notice, query_language


def search(
    view: GalleryView,
    models: SearchModels,
    policy: str,
    query: str,
    k: int,
    min_probability: float,
    offset: int = 0,
    options: SearchOptions = PLAIN,
) -> SearchResponse:
    """The K images of `view` ranked after the first `offset` for a text query (a page of the
    ranking: pages of one query do not overlap and together are its top offset + K), each with
    its match probability; `options`: filters, words, copies and date order."""
    text = normalize_query(query)
    warm_up()  # the policy's readings: loaded once; a search waits for a load under way
    language = query_language(text)
    embedded: list[QueryVectors] = []

    def multilingual() -> np.ndarray | None:  # embedded once, for the policy's net and the ranking
        embedded.append(models.embed_queries([text], english=[language is None]))
        return None if embedded[0].multilingual is None else embedded[0].multilingual[0]

    if policy == "strict":
        # the query as typed too: normalising turns invisible characters into spaces,
        # which would split a word ("ki\u200bds" -> "ki ds")
        verdict = query_verdict(query, multilingual, models.query_net, also=text)
        if verdict.refused:
            message = DISCLAIMER if verdict.reason != "script" else verdict.message
            return SearchResponse(query, True, message, [], list(view.skipped), refusal=verdict.reason)
    if not embedded:
        multilingual()
    # another language is read by the multilingual encoder alone (where the model has one)
    vector = embedded[0].vectors  # [1, D]
    depth = options.newest_first or offset + k
    rows, probabilities, strengths = ranked(view, models, vector, text, depth, options)
    if options.newest_first and view.facts is not None:  # the best N, newest first
        order = np.argsort(-view.facts.taken[rows], kind="stable")
        rows, probabilities, strengths = rows[order], probabilities[order], strengths[order]
    page = slice(offset, offset + k)
    if not len(rows) and options.filters.any:
        notice = f"No photo in this library is {options.filters.describe()}."
        return SearchResponse(query, False, None, [], list(view.skipped), language, notice)
    if language is not None:
        # The calibration only ever saw English captions (a Russian query's own picture gets
        # half the probability its English original does, docs/log.md): the ranking is
        # the best we have, but a probability would claim a confidence we lack.
        results = _results(view, rows[page], [None] * len(rows[page]), strengths[page], None)
        notice = language_notice(language, models.multilingual)
        return SearchResponse(query, False, None, results, list(view.skipped), language, notice)
    results = _results(view, rows[page], probabilities[page].tolist(), strengths[page], min_probability)
    # whether anything matches well is the query's, not the page's: its best is the first
    best = float(probabilities.max()) if len(probabilities) else 0.0
    if best >= models.no_match_below:
        return SearchResponse(query, False, None, results, list(view.skipped))
    notice = (
        f"No good match: the best probability is {best:.2f}, under {models.no_match_below:.2f}, "
        "which 95% of validation captions reach when their picture is in the gallery."
    )
    return SearchResponse(query, False, None, results, list(view.skipped), notice=notice, weak=True)


def ranked(
    view: GalleryView, models: SearchModels, vector: np.ndarray, text: str, depth: int, options: SearchOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first `depth` places of the fused ranking (inference/engine/words.py), each group of
    copies in one place (its best photo for this query): rows [m], probabilities [m], word
    strengths [m], m <= depth. Ranks deeper while copies take places, until `depth` fill."""
    mask = view.mask(options.filters)
    words = _word_candidates(view, vector[0], text, depth, mask, options)
    fetch = depth
    while True:
        ranked = view.top(vector[0], fetch, mask=mask)
        found = list(dict.fromkeys([*ranked.tolist(), *words]))
        rows = np.array(found, dtype=np.int64)
        probabilities = models.probabilities(vector, view.vectors_at(rows))[0] if len(rows) else np.zeros(0)
        strengths = np.array([words.get(row, 0.0) for row in found])
        fused = _logit(probabilities) + WORD_WEIGHT * strengths
        order = np.argsort(-fused, kind="stable")  # ties keep the ranker's order
        places = _one_per_group(view, rows[order]) if options.group_copies else np.arange(len(order))
        exhausted = len(ranked) < fetch
        if len(places) >= depth or exhausted:
            chosen = order[places[:depth]]
            shown = _originals(view, rows[chosen]) if options.group_copies else rows[chosen]
            if np.array_equal(shown, rows[chosen]):
                return shown, probabilities[chosen], strengths[chosen]
            return shown, models.probabilities(vector, view.vectors_at(shown))[0], strengths[chosen]
        fetch *= 2


#: word hits scored one by one up to this many; past it, each strength level's best rows come
#: from the ranker over that level alone (a folder word can name a million photos)
WORD_HITS_SCORED = 2_000


def _word_candidates(
    view: GalleryView,
    query: np.ndarray,
    text: str,
    depth: int,
    mask: np.ndarray | None,
    options: SearchOptions,
) -> dict[int, float]:
    """Row -> word strength of the rows words may lift into the first `depth` places: every hit,
    or, past WORD_HITS_SCORED, the `depth` semantically best of each strength level (the fused
    order within a level is the semantic one, so nothing that could place is left out)."""
    if options.words == "off":
        return {}
    strength = options.words_of(view).strengths(text, mask)
    hits = np.nonzero(strength)[0]
    if len(hits) <= WORD_HITS_SCORED:
        return dict(zip(hits.tolist(), strength[hits].tolist(), strict=True))
    found: dict[int, float] = {}
    for level in np.unique(strength[hits]):
        rows = view.top(query, depth * 2, mask=strength == level)  # room for copies sharing places
        found.update((row, float(level)) for row in rows.tolist())
    return found


def _originals(view: GalleryView, rows: np.ndarray) -> np.ndarray:
    """Each of `rows` [m] replaced by the largest file of its group of copies: a group's place is
    won by whichever copy matches best, and shown as its original, not a thumbnail of it."""
    if not view.copies:
        return rows
    assert view.facts is not None
    shown = rows.copy()
    for place, row in enumerate(rows.tolist()):
        group = view.copies.get(int(view.facts.group[row]))
        if group is not None:
            sizes = [(stamp[0] if (stamp := view.stamps[member]) else -1) for member in group.tolist()]
            shown[place] = group[int(np.argmax(sizes))]
    return shown


def _one_per_group(view: GalleryView, rows: np.ndarray) -> np.ndarray:
    """Positions in `rows` [m] of the first row of each group of copies."""
    if view.facts is None:
        return np.arange(len(rows))
    groups = view.facts.group[rows]
    _, first = np.unique(groups, return_index=True)
    return np.sort(first)


def _logit(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def similar(view: GalleryView, models: SearchModels, image: Path | str, k: int) -> SearchResponse:
    """Images of `view` most like `image` (a gallery file or any picture); score = cosine of the
    image vectors in [-1, 1], a similarity and not a probability. A restricted gallery image is
    no query: its look-alikes would show what it hides."""
    path = Path(image)
    own = view.row_of.get(path.resolve())
    if own is not None and view.restricted[own]:
        return SearchResponse(str(image), True, DISCLAIMER, [], list(view.skipped))
    if own is not None:
        vector = view.vectors_at([own])[0]
    else:
        vector = models.embed_images(models.preprocess(load_image(path))[None])[0][0]
    looks = len(vector) - models.penalty_columns
    vector = np.concatenate([vector[:looks], np.zeros(len(vector) - looks, vector.dtype)])
    top = view.top(vector, k, exclude=own)
    neighbours = view.vectors_at(top)[:, :looks]
    vector = vector[:looks]
    cosine = (neighbours @ vector) / (np.linalg.norm(neighbours, axis=1) * np.linalg.norm(vector) + 1e-12)
    return SearchResponse(
        str(image), False, None, _results(view, top, cosine, None, -1.0), list(view.skipped)
    )


def searchable(models: SearchModels, policy: str, queries: list[str]) -> list[bool]:
    """Whether each of `queries` would be searched (the policy's verdict, its semantic net
    included), embedded in one batch."""
    if policy == "off":
        return [True] * len(queries)
    multilingual = models.embed_queries(queries).multilingual if queries else None
    return [not verdict.refused for verdict in query_verdicts(queries, multilingual, models.query_net)]


def _results(
    view: GalleryView, rows: np.ndarray, scores, strengths: np.ndarray | None, minimum: float | None
) -> list[Result]:
    """Results for `rows` [m] with their scores [m] (None: no probability) and word strengths [m];
    those under `minimum` left out."""
    results = []
    for place, row in enumerate(rows.tolist()):
        score = scores[place]
        if minimum is not None and score is not None and score < minimum:
            continue
        results.append(
            Result(
                view.paths[row],
                None if score is None else float(score),
                bool(view.restricted[row]),
                view.stamps[row],
                folder=view.folder_of(row),
                taken=view.taken_of(row),
                copies=[view.paths[other] for other in view.copies_of(row)],
                words=0.0 if strengths is None else float(strengths[place]),
            )
        )
    return results
