"""Which language a query is in, offline (py3langid's bundled model).

English queries are read by both sentence encoders; a query in another language by
the multilingual one alone (USE multilingual v3, where the model has it), which
understands `UNDERSTOOD`. The match probabilities are calibrated on English captions
only, so for other languages the ranking is shown without them, and the app and CLI
say so (see inference/search.py).

Short queries are hard to identify ("a dog" scores Croatian on the full model),
so the identifier is limited to the languages people here type and a language
is named only when it is clear: a non-Latin script, or a probability of at
least `CONFIDENT`.
"""

from __future__ import annotations

import unicodedata
from functools import cache

#: Languages the identifier chooses among: English and those the policy reads, plus neighbours.
LANGUAGES = ("en", "ru", "uk", "be", "es", "de", "fr", "it", "pt", "nl", "pl", "cs", "tr")
NAMES = {
    "en": "English", "ru": "Russian", "uk": "Ukrainian", "be": "Belarusian", "es": "Spanish",
    "de": "German", "fr": "French", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
    "pl": "Polish", "cs": "Czech", "tr": "Turkish",
}  # fmt: skip
CONFIDENT = 0.9
#: Languages of `LANGUAGES` the multilingual encoder was trained on (USE multilingual v3 also
#: reads Arabic, Chinese, Japanese, Korean and Thai, which the identifier does not name).
UNDERSTOOD = ("en", "ru", "de", "es", "fr", "it", "pt", "nl", "pl", "tr")


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def identify(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the likeliest of `LANGUAGES`."""
    language, probability = _identifier().classify(text)
    return str(language), float(probability)


def _scripts(text: str) -> set[str]:
    """First word of each letter's Unicode name: LATIN, CYRILLIC, CJK, ARABIC..."""
    return {unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha()}


def query_language(text: str) -> str | None:
    """The language `text` is clearly written in; None when it is English or unclear;
    "und" for a script none of `LANGUAGES` is written in."""
    scripts = _scripts(text) - {"LATIN"}
    if scripts - {"CYRILLIC"}:
        return "und"
    language, probability = identify(text)
    if scripts:  # Cyrillic letters: the identifier only has to tell Russian from its neighbours
        return language if language in ("ru", "uk", "be") else "ru"
    return language if language != "en" and probability >= CONFIDENT else None


def language_name(code: str) -> str:
    return NAMES.get(code, "a language other than English")


def understood_names() -> str:
    """"English, Russian, German, ..." for the app and the CLI."""
    return ", ".join(NAMES[code] for code in UNDERSTOOD)


def language_notice(code: str, multilingual: bool) -> str:
    """What a query in language `code` (not English) should say about its results."""
    name = language_name(code)
    if multilingual and code in UNDERSTOOD:
        return (
            f"Searched in {name}. Match probabilities are shown for English queries only: "
            "they are calibrated on English captions."
        )
    understood = understood_names() if multilingual else "English"
    return (
        f"This query looks like {name}; the search understands {understood}, so these results "
        "may be poor and no match probability is shown."
    )
