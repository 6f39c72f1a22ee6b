"""A text or image search over one snapshot of the view.

Ranking is by the fused score text vector . image vector (export/modules.py): one matrix product
over the stored image vectors for small galleries, an approximate index above
`ranking.ann_threshold()` images (inference/store/ranking.py). The scoring head turns the top
K scores into calibrated probabilities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.engine.responses import Result, SearchResponse, normalize_query
from inference.engine.view import GalleryView
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
) -> SearchResponse:
    """The K images of `view` ranked after the first `offset` for a text query (a page of the
    ranking: pages of one query do not overlap and together are its top offset + K), each with
    its match probability."""
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
    ranked = view.top(vector[0], offset + k)  # the ranking down to this page, best first
    top = ranked[offset:]
    if language is not None:
        # The calibration only ever saw English captions (a Russian query's own picture gets
        # half the probability its English original does, docs/log.md): the ranking is
        # the best we have, but a probability would claim a confidence we lack.
        results = [Result(view.paths[i], None, bool(view.restricted[i]), view.stamps[i]) for i in top]
        notice = language_notice(language, models.multilingual)
        return SearchResponse(query, False, None, results, list(view.skipped), language, notice)
    probabilities = models.probabilities(vector, view.vectors_at(ranked))[0]
    results = _results(view, top, probabilities[offset:], min_probability)
    # whether anything matches well is the query's, not the page's: its best is the first
    best = float(probabilities.max()) if len(probabilities) else 0.0
    if best >= models.no_match_below:
        return SearchResponse(query, False, None, results, list(view.skipped))
    notice = (
        f"No good match: the best probability is {best:.2f}, under {models.no_match_below:.2f}, "
        "which 95% of validation captions reach when their picture is in the gallery."
    )
    return SearchResponse(query, False, None, results, list(view.skipped), notice=notice, weak=True)


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
    return SearchResponse(str(image), False, None, _results(view, top, cosine, -1.0), list(view.skipped))


def searchable(models: SearchModels, policy: str, queries: list[str]) -> list[bool]:
    """Whether each of `queries` would be searched (the policy's verdict, its semantic net
    included), embedded in one batch."""
    if policy == "off":
        return [True] * len(queries)
    multilingual = models.embed_queries(queries).multilingual if queries else None
    return [not verdict.refused for verdict in query_verdicts(queries, multilingual, models.query_net)]


def _results(view: GalleryView, top: np.ndarray, scores: np.ndarray, minimum: float) -> list[Result]:
    return [
        Result(view.paths[i], float(score), bool(view.restricted[i]), view.stamps[i])
        for i, score in zip(top, scores, strict=True)
        if score >= minimum
    ]
