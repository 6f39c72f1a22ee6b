"""The languages of a query: which ones the search understands, which ones the content
policy reads (one table, `LANGUAGES`, for both), and which one a query is in, offline
(py3langid's bundled model for Latin and Cyrillic text, the script for the others).

English queries are read by both sentence encoders; a query in another language by
the multilingual one alone (USE multilingual v3, where the model has it). The match
probabilities are calibrated on English captions only, so for other languages the
ranking is shown without them, and the app and CLI say so (see inference/engine/).

Short queries are hard to identify ("a dog" scores Croatian on the full model),
so the identifier is limited to the Latin and Cyrillic languages of `LANGUAGES` and a
language is named only when it is clear: a script only one language here writes, or a
probability of at least `CONFIDENT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache


@dataclass(frozen=True)
class Language:
    """One language: its name, the scripts it is written in, how the content policy reads it
    (inference/policy/), and whether the multilingual encoder was trained on it."""

    code: str  # ISO 639-1
    name: str
    scripts: tuple[str, ...]  # Unicode script names (the `regex` module's \p{scx=...})
    reading: str | None  # "wordnet", "pymorphy3", "dictionary" (simplemma's forms), "substrings"; None
    encoder: bool  # USE multilingual v3 was trained on it: the search understands it


_LATIN, _CYRILLIC = ("Latin",), ("Cyrillic",)
#: The one list: every language the search understands is one the policy reads
#: (tests/inference/test_policy_languages.py holds them together), plus languages the policy reads
#: because people type them although the encoder was not trained on them.
LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("en", "English", _LATIN, "wordnet", True),
        Language("ru", "Russian", _CYRILLIC, "pymorphy3", True),
        Language("uk", "Ukrainian", _CYRILLIC, "pymorphy3", False),
        Language("be", "Belarusian", _CYRILLIC, None, False),
        Language("de", "German", _LATIN, "dictionary", True),
        Language("es", "Spanish", _LATIN, "dictionary", True),
        Language("fr", "French", _LATIN, "dictionary", True),
        Language("it", "Italian", _LATIN, "dictionary", True),
        Language("pt", "Portuguese", _LATIN, "dictionary", True),
        Language("nl", "Dutch", _LATIN, "dictionary", True),
        Language("pl", "Polish", _LATIN, "dictionary", True),
        Language("tr", "Turkish", _LATIN, "dictionary", True),
        Language("sv", "Swedish", _LATIN, "dictionary", False),
        Language("cs", "Czech", _LATIN, "dictionary", False),
        Language("zh", "Chinese", ("Han",), "substrings", True),
        Language("ja", "Japanese", ("Han", "Hiragana", "Katakana"), "substrings", True),
        Language("ko", "Korean", ("Hangul",), "substrings", True),
        Language("ar", "Arabic", ("Arabic",), "substrings", True),
        Language("th", "Thai", ("Thai",), "substrings", True),
    )
}
CONFIDENT = 0.9
#: Languages the multilingual encoder was trained on: the search understands them.
UNDERSTOOD = tuple(code for code, language in LANGUAGES.items() if language.encoder)
#: Languages the content policy reads (inference/policy/).
POLICY_READS = tuple(code for code, language in LANGUAGES.items() if language.reading)
#: Scripts some reading of the policy covers: a query with letters of any other is not searched.
READABLE_SCRIPTS = frozenset(script for code in POLICY_READS for script in LANGUAGES[code].scripts)
#: Latin and Cyrillic languages: the identifier chooses among them.
IDENTIFIED = tuple(code for code, language in LANGUAGES.items() if language.scripts in (_LATIN, _CYRILLIC))


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(IDENTIFIED))
    return identifier


@lru_cache(maxsize=4096)  # a search asks twice (its notice, the policy's net) of the same text
def identify(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the likeliest of the Latin and Cyrillic `LANGUAGES`."""
    language, probability = _identifier().classify(text)
    return str(language), float(probability)


@cache
def _script_patterns() -> dict[str, object]:
    import regex

    scripts = {script for language in LANGUAGES.values() for script in language.scripts}
    return {script: regex.compile(rf"\p{{scx={script}}}") for script in sorted(scripts)}


def letter_scripts(text: str) -> set[str]:
    """The scripts of `LANGUAGES` that letters of `text` are written in."""
    patterns = _script_patterns()
    return {script for ch in text if ch.isalpha() for script, p in patterns.items() if p.match(ch)}  # type: ignore[attr-defined]


#: Below this the identifier's guess is too weak to act on (as for shared words in the policy).
LIKELY = 0.5


def encoder_reads(text: str) -> bool:
    """False when `text` is likely in a language the multilingual encoder was not trained on
    (Swedish, Czech, Ukrainian, Belarusian): its vector then means little. Texts with no
    letters, or letters of a script only encoder languages here write, count as read."""
    scripts = letter_scripts(text)
    if not scripts or scripts - {"Latin", "Cyrillic"}:
        return True
    language, probability = identify(text)
    return LANGUAGES[language].encoder or probability < LIKELY


def query_language(text: str) -> str | None:
    """The language `text` is clearly written in; None when it is English or unclear;
    "und" for a script none of `LANGUAGES` is written in."""
    scripts = letter_scripts(text)
    if any(ch.isalpha() for ch in text) and not scripts:
        return "und"
    if scripts & {"Hiragana", "Katakana"}:
        return "ja"
    for code in ("zh", "ko", "ar", "th"):  # each the one language here of its script
        if scripts & set(LANGUAGES[code].scripts):
            return code
    language, probability = identify(text)
    if "Cyrillic" in scripts:  # the identifier only has to tell Russian from its neighbours
        return language if language in ("ru", "uk", "be") else "ru"
    return language if language != "en" and probability >= CONFIDENT else None


def language_name(code: str) -> str:
    language = LANGUAGES.get(code)
    return language.name if language else "a language other than English"


def understood_names() -> str:
    """"English, Russian, German, ..." for the app and the CLI."""
    return ", ".join(LANGUAGES[code].name for code in UNDERSTOOD)


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
