"""The content policy in other languages and through disguises: what it reads as a child
query, in every inflection, and what it lets through (tests/inference/test_policy_served.py: the same
queries through the engine, the CLI and the app)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from child_queries import CHILD_QUERIES, DISGUISED
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.policy import is_restricted_text, restricted_languages
from inference.policy.words import DICTIONARY_LANGUAGES, RUSSIAN, UKRAINIAN

#: Look-alikes and adult words, per language: all must be searched.
ALLOWED = {
    "en": ["a kind man", "much ado about nothing", "a kidney bean salad", "neon lights at night"],
    "ru": ["детектив читает газету", "мальчишник в баре", "ребята играют в футбол", "девушка в парке"],
    "uk": ["хлопець на велосипеді", "дівчина біля озера"],
    "es": ["un perro corre en la nieve", "chicos en la playa", "la niñera lee"],
    "de": ["ein Kindle auf dem Tisch", "ein Mann im Schnee", "eine junge Frau lacht"],
    "fr": ["une femme dans un parc", "un homme et son chien"],
    "it": ["una ragazza al mare", "una bambola sul letto"],
    "pt": ["um homem na praia", "uma mulher com um cachorro"],
}


@pytest.mark.parametrize("query", CHILD_QUERIES + DISGUISED)
def test_child_queries_in_any_language_or_disguise_are_restricted(query):
    assert is_restricted_text(query)


@pytest.mark.parametrize("query", [q for queries in ALLOWED.values() for q in queries])
def test_look_alikes_and_adult_words_pass(query):
    assert not is_restricted_text(query), restricted_languages(query)


def _forms(lemmas, language):
    """Every inflected form the dictionary lists for each lemma (the parse that is that lemma)."""
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer(lang=language)
    forms = set(lemmas)
    for lemma in lemmas:
        for parse in morph.parse(lemma):
            if parse.normal_form.replace("ё", "е") == lemma:
                forms |= {form.word for form in parse.lexeme}
    return sorted(forms)


RUSSIAN_FORMS = _forms(RUSSIAN, "ru")
UKRAINIAN_FORMS = _forms(UKRAINIAN, "uk")


@settings(max_examples=300, deadline=None)
@given(
    form=st.sampled_from(RUSSIAN_FORMS + UKRAINIAN_FORMS),
    before=st.sampled_from(["", "смотри: ", "фото, где ", "two dogs and "]),
    after=st.sampled_from(["", " играют", " на пляже.", "!"]),
    style=st.sampled_from(["lower", "upper", "title", "no_yo"]),
)
def test_every_inflection_of_every_russian_and_ukrainian_word_is_caught(form, before, after, style):
    word = {"lower": form, "upper": form.upper(), "title": form.title(), "no_yo": form.replace("ё", "е")}[
        style
    ]
    assert is_restricted_text(before + word + after)


def test_the_english_restrictions_of_the_data_set_are_unchanged(data_dir):
    captions = pd.read_csv(data_dir / "train_captions.tsv", sep="\t", quoting=3)["query_text"]
    queries = pd.read_csv(data_dir / "test_queries.csv", sep="|", index_col=0)["query_text"]
    pairs = pd.read_csv(data_dir / "train_dataset.csv")["query_text"]
    texts = pd.concat([captions, queries, pairs]).unique()
    # another language may add itself to an English hit ("baby" is German too) but never decide alone
    decided_elsewhere = [t for t in texts if restricted_languages(t) and "en" not in restricted_languages(t)]
    assert decided_elsewhere == []


def test_copied_noun_rules_match_nltk():
    from nltk.corpus.reader.wordnet import NOUN, WordNetCorpusReader

    from inference.policy import NOUN_SUFFIX_RULES

    assert list(NOUN_SUFFIX_RULES) == list(WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS[NOUN])


def test_serving_loads_no_nltk():
    code = (
        "import sys, inference.engine.front, inference.policy as p; p.warm_up(); print('nltk' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_letters_without_a_unicode_name_are_read_not_crashed_on():
    # found by hypothesis: pymorphy3 raised on U+18D00 next to a letter folded to Cyrillic
    assert not is_restricted_text("\U00018d00X")
    assert is_restricted_text("\U00018d00 дети")


def test_the_forms_table_is_current():
    """child_forms.json was built from today's vocabulary and the installed simplemma: after an
    edit of inference/policy/words.py, `python -m inference.policy.build_forms` writes it again."""
    import simplemma

    from inference.policy.build_forms import vocabulary
    from inference.policy.forms import table

    assert table()["vocabulary"] == vocabulary()
    assert table()["simplemma"] == simplemma.__version__


@pytest.mark.parametrize("language", ["cs", "nl", "fr", "it", "es"])
def test_the_forms_table_reads_dictionary_words_as_simplemma_does(language):
    """Every child form of the table and 2,000 other dictionary words, in each case as typed
    and with the first letter's case turned: the table says child exactly where simplemma's
    lemma is a child word (or one of FORMS_ALSO), so the policy decides as simplemma would."""
    import dataclasses
    import random

    import simplemma
    from simplemma.strategies.dictionaries.dictionary_factory import _load_dictionary_from_disk

    from inference.policy.forms import fold, language_forms
    from inference.policy.words import FORMS_ALSO

    dictionary = {key.decode() for key in _load_dictionary_from_disk(language)}
    # compounds are read beyond the dictionary on purpose ("straatjongetjes"): compared without
    forms = dataclasses.replace(language_forms(language), tails=frozenset())
    lemmas = {fold(lemma) for lemma in DICTIONARY_LANGUAGES[language]}
    words = sorted(forms.child) + random.Random(0).sample(sorted(dictionary), 2000)
    for word in words + [w.capitalize() for w in words]:
        if word not in dictionary and word.lower() not in dictionary and word.capitalize() not in dictionary:
            continue  # simplemma's rules read unknown words; the table reads their folded form
        expected = fold(simplemma.lemmatize(word, lang=language)) in lemmas
        expected |= word.casefold() in FORMS_ALSO.get(language, frozenset())
        assert (forms.reading(word) is not None) == expected, word
