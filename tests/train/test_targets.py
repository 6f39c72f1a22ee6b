import numpy as np
import pandas as pd

from train.targets import aggregate_targets, annotation_study


def _pairs(rows):
    return pd.DataFrame(rows, columns=["e1", "e2", "e3", "crowd_share"])


def test_aggregation_weights_experts_and_crowd():
    pairs = _pairs(
        [
            [4, 4, 4, 1.0],  # full match everywhere -> 1
            [1, 1, 1, 0.0],  # no match everywhere -> 0
            [4, 4, 4, 0.0],  # experts yes, crowd no -> 0.75
            [np.nan, np.nan, np.nan, 2 / 3],  # crowd only
            [2, 3, 4, np.nan],  # experts only: mean 3 -> 2/3
        ]
    )
    np.testing.assert_allclose(aggregate_targets(pairs), [1.0, 0.0, 0.75, 2 / 3, 2 / 3])


def test_targets_stay_in_unit_interval_on_real_data(data_dir):
    from train.data import load_train_set

    pairs = load_train_set(data_dir).pairs
    targets = aggregate_targets(pairs)
    assert targets.notna().all()
    assert targets.between(0, 1).all()
    study = annotation_study(pairs)
    assert study["both_pairs"] == 2329
    assert 0.5 < study["expert_crowd_pearson"] < 1.0
