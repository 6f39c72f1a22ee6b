import subprocess
import sys

import pytest

from inference.data.dataset import DataError, load_test_set
from inference.data.download import locate_data_dir
from inference.policy import is_restricted_text
from train.data import load_train_set
from train.prepare import own_child_labels, prepare


def test_real_data_loads(data_dir):
    train = load_train_set(data_dir)
    assert len(train.images) == len(list((data_dir / "train_images").glob("*.jpg")))
    test = load_test_set(data_dir)
    assert set(test.queries["image"]) <= set(test.images)


def test_missing_file_is_named(data_copy):
    (data_copy / "ExpertAnnotations.tsv").unlink()
    with pytest.raises(DataError, match="ExpertAnnotations.tsv: file not found"):
        load_train_set(data_copy)


def test_missing_column_is_named(data_copy):
    path = data_copy / "test_queries.csv"
    path.write_text(path.read_text().replace("query_text", "text", 1))
    with pytest.raises(DataError, match="test_queries.csv: missing column"):
        load_test_set(data_copy)


def test_absent_image_names_file_and_row(data_copy):
    path = data_copy / "test_images.csv"
    path.write_text(path.read_text() + "missing_picture.jpg\n")
    with pytest.raises(DataError, match=r"test_images.csv: row \d+ references image 'missing_picture.jpg'"):
        load_test_set(data_copy)


def test_malformed_rows_are_dropped_and_counted(data_copy, capsys):
    path = data_copy / "ExpertAnnotations.tsv"
    lines = path.read_text().splitlines()
    first = lines[0].split("\t")
    lines[0] = "\t".join(first[:2] + ["7", "x", "1"])  # out of range and not a number
    path.write_text("\n".join(lines) + "\n")
    train = load_train_set(data_copy)
    assert "dropped 1 row(s)" in capsys.readouterr().err
    assert len(train.pairs.dropna(subset=["e1"])) == len(lines) - 1


def test_not_a_data_dir_is_one_line(tmp_path):
    with pytest.raises(DataError, match="not a data directory"):
        locate_data_dir(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "train", "--data", str(tmp_path), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "Traceback" not in result.stderr


def test_split_is_by_image_and_policy_flags(data_dir):
    prep = prepare(data_dir, validation_share=0.2, seed=0)
    split_of = prep.pairs.groupby("image")["split"].nunique()
    assert (split_of == 1).all()  # no image in both train and validation
    assert set(prep.pairs["split"]) == {"train", "val"}
    flagged = prep.pairs[prep.pairs["text_restricted"]]
    assert flagged["query_text"].str.contains(r"(?i)\b(?:boy|girl|child|kid)", regex=True).mean() > 0.9
    assert prep.counts["pairs_dropped_by_policy"] >= len(flagged)


def test_detector_labels_come_from_an_images_own_captions(data_dir):
    prep = prepare(data_dir, validation_share=0.2, seed=0)
    own = own_child_labels(prep.train_set)
    assert own.index.tolist() == prep.train_set.images
    assert not (own & ~prep.child_images).any()  # own captions are among the known ones
    # Images kept out of training only through others' captions that annotators matched
    # to them (dogs in a pool matched to "a boy swims"): none of their own captions names a child.
    by_match_only = prep.child_images & ~own
    assert by_match_only.any()
    captions = prep.train_set.captions
    their_own = captions[captions["image"].isin(by_match_only[by_match_only].index)]["query_text"]
    assert not their_own.map(is_restricted_text).any()
