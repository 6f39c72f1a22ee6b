import pytest

from inference.policy import is_restricted_image, is_restricted_text, noun_lemmas


@pytest.mark.parametrize(
    "text",
    [
        "A child plays in the sand",
        "Two children running",
        "KIDS on a trampoline",
        "the kid's red bike",
        "school-children in a line",
        "A baby sleeping",
        "babies and toddlers",
        "Three little girls dance",
        "a boy jumps",
        "teenagers skateboarding",
        "an infant in a crib",
        "Boys!",
    ],
)
def test_child_texts_are_restricted(text):
    assert is_restricted_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "a kidney bean salad",
        "they boycott the shop",
        "my girlfriend at the beach",
        "a cowboy on a horse",
        "A man rides a bike",
        "two women talking",
        "are you kidding",
        "",
    ],
)
def test_look_alikes_and_adults_pass(text):
    assert not is_restricted_text(text)


def test_irregular_plural_lemmatises():
    assert "child" in noun_lemmas("children")
    assert "baby" in noun_lemmas("babies")


def test_image_restricted_if_any_caption_is():
    assert is_restricted_image(["A dog runs", "A boy and his dog"])
    assert not is_restricted_image(["A dog runs", "A brown dog in grass"])
    assert not is_restricted_image([])
