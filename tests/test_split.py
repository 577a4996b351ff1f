import numpy as np
import pytest

from rfe_lib import RFEError
from rfe_lib.split import fold_indices, make_split

from _reference import stratification_problems


def split(n=1000, **kw):
    y = np.random.default_rng(0).gamma(2.0, 50.0, size=n)
    args = dict(test_fraction=0.15, val_fraction=0.15, folds=5, n_bins=10, seed=42)
    args.update(kw)
    return y, make_split(y, **args)


def test_split_sizes_folds_and_schema():
    y, s = split()
    assert list(s.columns) == ["row", "set", "fold", "y"]
    assert (s["row"].to_numpy() == np.arange(len(y))).all()
    counts = s["set"].value_counts()
    assert counts["test"] == 150 and counts["val"] == 150 and counts["train"] == 700
    train = s[s["set"] == "train"]
    assert sorted(train["fold"].unique()) == [0, 1, 2, 3, 4]
    assert (s.loc[s["set"] != "train", "fold"] == -1).all()
    assert train["fold"].value_counts().max() - train["fold"].value_counts().min() <= 1


@pytest.mark.parametrize("n, bins, folds, seed", [(1000, 10, 5, 42), (2000, 5, 3, 7), (777, 7, 4, 1)])
def test_split_is_stratified_by_target_quantiles_in_sets_and_folds(n, bins, folds, seed):
    """Per quantile bin of the target (pandas' qcut, computed here), the test, validation and training rows and each
    fold's rows are their share of the bin to within one row. A bin of 100 rows has a standard deviation of 3.6
    test rows under a random split, so a split that is not stratified fails this."""
    y, s = split(n=n, n_bins=bins, folds=folds, seed=seed)
    assert stratification_problems(s, y, bins, {"test": 0.15, "val": 0.15, "train": 0.7}, folds) == []


def test_split_is_deterministic_and_seeded():
    _, a = split(seed=1)
    _, b = split(seed=1)
    _, c = split(seed=2)
    assert a.equals(b) and not a.equals(c)


def test_fold_indices_partition_train_rows():
    _, s = split()
    folds = fold_indices(s, 5)
    n_train = (s["set"] == "train").sum()
    held = np.sort(np.concatenate([h for _, h in folds]))
    assert (held == np.arange(n_train)).all()
    for fit, h in folds:
        assert len(np.intersect1d(fit, h)) == 0 and len(fit) + len(h) == n_train


def test_too_few_rows_for_folds_and_bins():
    with pytest.raises(RFEError, match="too few rows for the split.*Lower split.stratify_bins or split.folds"):
        split(n=60, folds=5, n_bins=10)
