"""The train/validation/test split and the CV folds, stratified by target quantile bins.

Computed once per run; every round uses the same rows and folds, so rounds are comparable.
"""

from __future__ import annotations

import math

from . import RFEError


def target_bins(y, n_bins: int):
    """Quantile bin (0..b-1) of each target value; ties may merge bins, so b <= n_bins."""
    import numpy as np
    import pandas as pd

    if n_bins <= 1:
        return np.zeros(len(y), dtype=int)
    bins = pd.qcut(pd.Series(y, dtype=float), q=n_bins, labels=False, duplicates="drop")
    if bins.isna().any():  # every quantile edge the same (a constant target): one bin
        return np.zeros(len(y), dtype=int)
    return bins.to_numpy(dtype=int)


def check_split_feasible(y, test_fraction: float, val_fraction: float, folds: int, n_bins: int) -> None:
    """Refuse a split that cannot give every CV fold a member of every target bin."""
    import numpy as np

    n = len(y)
    train_share = 1.0 - test_fraction - val_fraction
    bins = target_bins(y, n_bins)
    counts = np.bincount(bins)
    smallest = int(counts.min())
    need = folds / train_share + 2  # rows per bin so that its training part fills every fold
    if smallest < need:
        raise RFEError(
            f"too few rows for the split: {n} rows in {len(counts)} target bins, the smallest bin has {smallest} "
            f"rows, but split.folds={folds} with {train_share:.0%} of rows for training needs at least "
            f"{int(np.ceil(need))} per bin (about {int(np.ceil(need * len(counts)))} rows in all). "
            "Lower split.stratify_bins or split.folds, or use more data."
        )
    # stratified test and validation draws need at least one row per bin each (scikit-learn refuses fewer), with the
    # sizes train_test_split gives: ceil(fraction * rows), the validation rows out of those that are not test rows
    n_test = math.ceil(test_fraction * n)
    n_val = math.ceil(val_fraction / (1.0 - test_fraction) * (n - n_test)) if val_fraction > 0 else len(counts)
    if min(n_test, n_val) < len(counts):
        raise RFEError(
            f"too few rows for the split: {n} rows give {n_test} test rows and "
            f"{n_val if val_fraction > 0 else 'no'} validation rows, but a split stratified by {len(counts)} target "
            f"bins needs at least one row of each bin in each. Lower split.stratify_bins, raise split.test_fraction "
            "or split.val_fraction, or use more data."
        )


def split_rows(y, split: dict, *, final: bool = False):
    """:func:`make_split` with the ``split`` section's keys (a dict, as jobs get it); with ``final``, the final
    model's split of a repeated run (:func:`make_split`'s ``val_fraction=0``: every non-test row trains)."""
    return make_split(y, test_fraction=split["test_fraction"], val_fraction=0.0 if final else split["val_fraction"],
                      folds=split["folds"], n_bins=split["stratify_bins"], seed=split["seed"],
                      test_seed=split["test_seed"])


def make_split(y, *, test_fraction: float, val_fraction: float, folds: int, n_bins: int, seed: int,
               test_seed: int | None = None):
    """Return a DataFrame ``row, set, fold, y``: ``fold`` is 0..folds-1 for train rows, -1 otherwise.

    The test rows are drawn with ``test_seed`` (``seed`` when None), the validation rows and the folds from the
    other rows with ``seed``: runs that differ only in ``seed`` share their test rows (``rfe.repeats``). With
    ``val_fraction=0`` every non-test row is a training row (the final model of a repeated run)."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold, train_test_split

    y = np.asarray(y, dtype=float)
    check_split_feasible(y, test_fraction, val_fraction, folds, n_bins)
    rows = np.arange(len(y))
    bins = target_bins(y, n_bins)
    rest, test = train_test_split(rows, test_size=test_fraction, stratify=bins,
                                  random_state=seed if test_seed is None else test_seed)
    if val_fraction > 0:
        val_share = val_fraction / (1.0 - test_fraction)
        train, val = train_test_split(rest, test_size=val_share, stratify=bins[rest], random_state=seed)
    else:
        train, val = rest, rows[:0]
    train = np.sort(train)
    sets = np.empty(len(y), dtype=object)
    sets[train], sets[val], sets[test] = "train", "val", "test"
    fold = np.full(len(y), -1, dtype=np.int64)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, held_out) in enumerate(skf.split(train, bins[train])):
        fold[train[held_out]] = k
    return pd.DataFrame({"row": rows, "set": sets.astype(str), "fold": fold, "y": y})


def fold_indices(split_df, folds: int):
    """Positions (into the train rows, in row order) of each fold's (fit, held-out) parts."""
    import numpy as np

    train = split_df[split_df["set"] == "train"]
    fold = train["fold"].to_numpy()
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(folds)]
