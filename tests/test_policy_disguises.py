"""Child queries as people type them (inference/disguises.py), read by the policy and
refused through the real CLI (in process) and SearchEngine.search; harmless look-alikes
are still searched, and no caption of the data set changes its verdict."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from inference.__main__ import main as cli
from inference.disguises import latin_skeleton, leet_readings, names_a_child_age, spread_readings
from inference.policy import DISCLAIMER, is_restricted_text, restricted_languages

#: The six from the issue first, then more of each kind.
TYPED_AS_PEOPLE_DO = [
    "k1ds playing in the sand",
    "c h i l d r e n at the beach",
    "deti v parke",
    "ninos jugando en la playa",
    "two lads aged 12 playing football",
    "a little one on a tricycle",
    "a b0y on a skateboard",
    "g1rls dancing in the rain",
    "ch!ld with a red balloon",
    "k.i.d.s on a trampoline",
    "b o y s swimming in a lake",
    "malchik s sobakoy",
    "devochka na velosipede",
    "rebyonok spit",
    "mal'chiki igrayut v futbol",
    "khlopchyk na richtsi",
    "ditey u sadku",
    "divchynka z kotom",
    "ninas en el parque",
    "bebes durmiendo en la cama",
    "criancas brincando na praia",
    "Maedchen im Schnee",
    "a 7-year-old on a swing",
    "my 10 year old son at the zoo",
    "a 5 yo eating ice cream",
    "twelve-year-old twins",
    "мальчику 8 лет",
    "niños de 8 años",
    "a 6-month-old sleeping",
    "the wee ones in the garden",
    "minors drinking at a party",
]
#: Each must still be searched: adults' ages, everyday words that share a skeleton or letters.
HARMLESS = [
    "a man aged 40 on a bench",
    "a 30-year-old woman running",
    "5 years ago in Paris",
    "a minor league baseball game",
    "a detective reads a newspaper",
    "mala suerte",
    "a male runner",
    "people dine outdoors at a lodge",
    "B0ston at night",
    "route 66 in the desert",
    "a 4x4 truck in the mud",
    "blue sky over the sea",
    "eine junge Frau lacht",
    "the little house on the hill",
]


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
    from inference.policy import _word_level_languages

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


@pytest.fixture(scope="module")
def gallery(test_image_paths, tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for path in test_image_paths[:4]:
        shutil.copy(path, folder / path.name)
    return folder


def test_the_cli_and_the_engine_refuse_them(gallery, models_dir, tmp_path, capsys):
    from inference.models import SearchModels
    from inference.search import SearchEngine

    engine = SearchEngine(gallery, SearchModels(models_dir), tmp_path / "index", progress=False)
    for query in TYPED_AS_PEOPLE_DO[:6]:  # the six, through the CLI's own code
        assert cli(["search", query, "--gallery", str(gallery), "--models", str(models_dir), "--json"]) == 0
        response = json.loads(capsys.readouterr().out)
        assert response["restricted"] and response["results"] == [] and response["message"] == DISCLAIMER, (
            query
        )
    for query in TYPED_AS_PEOPLE_DO:
        assert engine.search(query).restricted, query
    for query in HARMLESS[:3]:
        assert not engine.search(query).restricted, query
