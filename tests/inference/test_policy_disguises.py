"""Child queries as people type them (inference/policy/disguises.py), read by the policy; harmless
look-alikes are still searched, and no caption of the data set changes its verdict
(tests/inference/test_policy_served.py: the same queries through the CLI and PhotoSearch.search)."""

from __future__ import annotations

import pandas as pd
import pytest
from child_queries import HARMLESS, TYPED_AS_PEOPLE_DO

from inference.policy import is_restricted_text, restricted_languages
from inference.policy.ages import names_a_child_age
from inference.policy.disguises import latin_skeleton, leet_readings, spread_readings


@pytest.mark.parametrize("query", TYPED_AS_PEOPLE_DO)
def test_disguised_child_queries_are_read(query):
    assert is_restricted_text(query)


@pytest.mark.parametrize("query", HARMLESS)
def test_harmless_look_alikes_are_searched(query):
    assert not is_restricted_text(query), restricted_languages(query)


def test_the_readings_themselves():
    assert "kids" in " ".join(leet_readings("k1ds")) and "lil" in " ".join(leet_readings("l1l"))
    assert leet_readings("route 66") == []  # a number alone stays a number
    assert "children" in spread_readings("c h i l d r e n at")[0].split()
    assert "kid" in spread_readings("a k i d")[0].split()  # the article does not hide the word
    assert latin_skeleton("rebyonok") == latin_skeleton("rebenok") and latin_skeleton("detey") == "detei"
    assert names_a_child_age("aged 15") and not names_a_child_age("aged 16")  # the law's line


def test_no_caption_of_the_data_set_changes_its_verdict(data_dir):
    """The readings add no restriction to the English data (training keeps its captions)."""
    from inference.policy.readings import _word_level_languages

    other = [
        line.split("\t", 1)[1] for line in (data_dir / "other_captions.tsv").read_text().splitlines()[1:]
    ]
    texts = pd.concat(
        [
            pd.read_csv(data_dir / "train_captions.tsv", sep="\t", quoting=3)["query_text"],
            pd.read_csv(data_dir / "test_queries.csv", sep="|", index_col=0)["query_text"],
            pd.Series(other),
        ]
    ).unique()
    changed = [t for t in texts if bool(restricted_languages(t)) != bool(_word_level_languages(t))]
    assert changed == []
