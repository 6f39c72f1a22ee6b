"""The policy in every language the search reads: one table of languages for both, the new
languages' word readings, Chinese, Japanese, Korean, Arabic and Thai read inside the text, child
emoji, and scripts no reading covers refused (through the engine and the CLI:
tests/inference/test_policy_served.py)."""

from __future__ import annotations

import pytest
from child_queries import HARMLESS_NEW_LANGUAGES, NEW_LANGUAGES, UNREADABLE

from inference.policy import is_restricted_text, restricted_languages, word_verdict
from inference.policy.languages import LANGUAGES, POLICY_READS, READABLE_SCRIPTS, UNDERSTOOD, query_language
from inference.policy.scripts import scan_form, unreadable_scripts
from inference.policy.words import DICTIONARY_LANGUAGES, SUBSTRINGS


def test_the_policy_reads_every_language_the_search_understands():
    assert set(UNDERSTOOD) <= set(POLICY_READS)
    by_reading = {code: LANGUAGES[code].reading for code in POLICY_READS}
    # each reading the table names is the one that reads the language, and no other
    assert {c for c, r in by_reading.items() if r == "dictionary"} == set(DICTIONARY_LANGUAGES)
    assert {c for c, r in by_reading.items() if r == "substrings"} == set(SUBSTRINGS)
    assert {c for c, r in by_reading.items() if r == "pymorphy3"} == {"ru", "uk"}


def test_the_readme_names_every_language_the_policy_reads():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## The content policy") :]
    section = section[: section.index("\n## ", 4)]
    assert [LANGUAGES[c].name for c in POLICY_READS if LANGUAGES[c].name not in section] == []


@pytest.mark.parametrize("query", NEW_LANGUAGES)
def test_child_queries_in_the_new_languages_are_refused(query):
    assert word_verdict(query).refused and word_verdict(query).reason == "words", restricted_languages(query)


@pytest.mark.parametrize("query", HARMLESS_NEW_LANGUAGES)
def test_harmless_queries_in_them_pass(query):
    assert not word_verdict(query).refused, restricted_languages(query)


@pytest.mark.parametrize("query", UNREADABLE)
def test_a_script_no_reading_covers_is_refused_in_one_line(query):
    verdict = word_verdict(query)
    assert verdict.refused and verdict.reason == "script"
    assert verdict.message is not None and "\n" not in verdict.message
    assert verdict.message.startswith("Searches in ") and "script are not available" in verdict.message


def test_the_refusal_names_the_script_even_beside_readable_words():
    assert unreadable_scripts("a dog ძაღლი") == ["Georgian"]
    assert unreadable_scripts("बर्फ and שלג") == ["Devanagari", "Hebrew"]
    assert "Greek" in str(word_verdict("κids at the beach").message)  # a Greek look-alike disguise


@pytest.mark.parametrize("query", ["🐶 in the snow", "🚲🌲", "1984", "🏔️ 4000 m", "!!!", "B0ston at night"])
def test_queries_with_no_letters_or_only_readable_ones_are_searched(query):
    assert not word_verdict(query).refused


@pytest.mark.parametrize(
    "query",
    ["👶", "👧🏽 at the park", "👦🏻", "🧒", "👨‍👩‍👧 picnic", "👩‍🍼", "🚸 sign", "a 👼 costume"],
)
def test_child_emoji_are_child_words(query):
    assert word_verdict(query).refused


@pytest.mark.parametrize(
    ("query", "disguise"),
    [
        ("孩 子 们", "spread letters"),
        ("子\u200b供", "a zero-width space inside"),
        ("ｺﾄﾞﾓ", "half-width katakana"),
        ("コドモ", "katakana for hiragana"),
        ("兒童", "traditional characters"),
        ("ط-ف-ل", "spread Arabic letters"),
        ("طـفـل", "tatweel (stretched letters)"),
        ("طِفْل", "vowel signs"),
        ("ﻃﻔﻞ", "presentation forms"),
        ("أ طفال", "a space inside"),
        ("아 이 들", "spread Hangul"),
        ("아이스크림 먹는 아이", "beside an everyday word that holds it"),
        ("ｃｈｉｌｄ 孩子", "full-width Latin beside Chinese"),
    ],
)
def test_disguises_are_read_through_in_every_script(query, disguise):
    assert is_restricted_text(query), disguise


def test_scan_form_unifies_letter_forms():
    assert scan_form("ﻃﻔﻞ") == scan_form("طفل") == scan_form("طِـفْـل")
    assert scan_form("コドモ") == scan_form("こども")
    assert scan_form("兒童") == scan_form("儿童")


@pytest.mark.parametrize(
    ("query", "language"),
    [("小女孩和狗", "zh"), ("公園で遊ぶ", "ja"), ("눈 속의 개", "ko"), ("كلب في الثلج", "ar"),
     ("สุนัขในหิมะ", "th")],
)  # fmt: skip
def test_every_script_the_search_reads_is_named(query, language):
    assert query_language(query) == language and language in UNDERSTOOD


def test_readable_scripts_are_those_of_the_languages_read():
    expected = {"Latin", "Cyrillic", "Han", "Hiragana", "Katakana", "Hangul", "Arabic", "Thai"}
    assert expected == READABLE_SCRIPTS


@pytest.mark.parametrize(
    "query",
    ["Een peutermeisje op een schommel", "En tonårspojke hoppar", "Dienstmädchen", "cocuklar parkta",
     "chlopcy na plazy", "dite na hristi"],
)  # fmt: skip
def test_compounds_and_words_typed_without_their_accents(query):
    assert is_restricted_text(query)
