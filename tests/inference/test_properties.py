"""Property tests (hypothesis): query normalisation and the content policy hold
for any text, not just the examples we thought of."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.engine.responses import QueryError, normalize_query
from inference.policy import CHILD_LEMMAS, is_restricted_text, warm_up


@pytest.fixture(autouse=True, scope="module")
def _policy_loaded():
    """Load the morphology and language model once (about 3 s, as the app does at start):
    hypothesis' per-example deadline is for the check itself, not for that one-time load."""
    warm_up()


SAFE_WORDS = ["a", "man", "woman", "dog", "kidney", "boycott", "cowboy", "girlfriend", "beach", "red", "runs"]
CHILD_FORMS = ["child", "children", "kid", "kids", "boy", "boys", "girl", "girls", "baby", "babies", "teen"]


def _disguise(word: str, how: int) -> str:
    """One of the ways people (or keyboards) write a word."""
    return [
        word.upper(),
        word.title(),
        word + "'s",
        word + "'" if word.endswith("s") else word + "s'",  # plural possessive
        "school-" + word,
        word + "-like",
        word[0] + "\u200b" + word[1:],  # zero-width space inside
        "".join(chr(ord(c) + 0xFEE0) for c in word),  # full-width letters
        word[0] + "\u0301" + word[1:],  # a combining accent
        f'"{word}!"',
        word,
    ][how]


def test_every_disguise_of_every_child_word_is_caught():
    missed = [
        _disguise(w, how)
        for w in CHILD_FORMS
        for how in range(11)
        if not is_restricted_text(_disguise(w, how))
    ]
    assert missed == []


safe_text = st.lists(st.sampled_from(SAFE_WORDS), max_size=8).map(" ".join)
separators = st.sampled_from([" ", ", ", " - ", "\n", "\t", "...", " / "])


@given(
    before=safe_text,
    after=safe_text,
    word=st.sampled_from(CHILD_FORMS),
    how=st.integers(0, 10),
    sep=separators,
)
def test_a_child_word_is_caught_however_written(before, after, word, how, sep):
    assert is_restricted_text(sep.join([before, _disguise(word, how), after]))


@given(st.lists(st.sampled_from(SAFE_WORDS), max_size=12), separators)
def test_texts_without_child_words_pass(words, sep):
    assert not is_restricted_text(sep.join(words))


@given(st.sampled_from(sorted(CHILD_LEMMAS)))
def test_every_lemma_is_restricted_alone(lemma):
    assert is_restricted_text(lemma) and is_restricted_text(lemma.upper() + "S")


@settings(max_examples=300)
@given(st.text())
def test_normalised_query_is_clean_and_stable(text):
    if not any(ch.isprintable() and not ch.isspace() for ch in text):
        with pytest.raises(QueryError):
            normalize_query(text)
        return
    cleaned = normalize_query(text)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert all(ch.isprintable() for ch in cleaned)
    assert normalize_query(cleaned) == cleaned  # idempotent


@settings(max_examples=300)
@given(st.text())
def test_normalising_never_hides_a_child_word(text):
    """The engine checks the policy on the normalised query: normalising must not
    turn a restricted text into an allowed one."""
    try:
        cleaned = normalize_query(text)
    except QueryError:
        return
    if is_restricted_text(text):
        assert is_restricted_text(cleaned)


@given(st.text(alphabet=string.whitespace + "\x00\x07\x1b\u200b\u2028", min_size=0, max_size=50))
def test_blank_queries_are_refused(text):
    with pytest.raises(QueryError, match="empty"):
        normalize_query(text)
