"""The train/validation/test split and the CV folds: stratified by target quantile bins, by whole groups, or by time.

Computed once per run; every round uses the same rows and folds, so rounds are comparable.

``split.method`` (see README, "Which split should I use"):

- ``stratified`` (the default): a shuffle stratified by target quantile bins, for independent rows.
- ``group``: test and validation rows are whole groups of ``split.group_column`` (drawn at random, a
  ``test_fraction`` and a ``val_fraction`` of the groups), and the CV folds are whole groups too:
  scikit-learn's ``StratifiedGroupKFold`` (stratified by the target bins, shuffled with the seed) when
  ``stratify_bins > 1`` and some bin holds at least ``folds`` rows, else ``GroupKFold``.
- ``time``: rows ordered by ``split.time_column``; the latest ``test_fraction`` of the rows are the test rows, the
  ``val_fraction`` just before them the validation rows, and the CV folds are contiguous blocks of the training
  rows in time order. ``split.time_folds: blocked`` (the default) holds out each block once and fits on every
  other training row (blocked K-fold, scikit-learn's ``KFold`` without shuffling on the time-ordered rows);
  ``forward`` fits only on the blocks before the held-out one (forward chaining, scikit-learn's
  ``TimeSeriesSplit``: the earliest block is never held out). ``split.gap`` (in the time column's units) drops
  from the fitting rows of a fold every training row within ``gap`` of its held-out block (both sides for
  ``blocked``), and from the training set every row within ``gap`` before the validation rows (set ``gap``:
  neither fitted on nor scored). A block boundary never separates rows of the same time.

A time split's artifact has one boolean column ``fit_<k>`` per fold (the rows fold k fits on), since a gap or
forward chaining makes them more than "the training rows of the other folds"; the other methods' fitting rows are
exactly those, and their artifacts have no such columns (the stratified artifact is the same as before the
other methods existed).
"""

from __future__ import annotations

import math

from . import RFEError

METHODS = ("stratified", "group", "time")
TIME_FOLDS = ("blocked", "forward")
EMBARGO = "gap"   # the ``set`` of the rows a split.gap takes out of the training set (time splits)


def fit_column(k: int) -> str:
    """The column of a time split's artifact that marks the rows fold ``k`` fits on."""
    return f"fit_{k}"


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


def make_split(y, *, test_fraction: float, val_fraction: float, folds: int, n_bins: int, seed: int,
               test_seed: int | None = None, method: str = "stratified", groups=None, times=None, gap: float = 0,
               time_folds: str = "blocked", time_column: str = "time"):
    """Return a DataFrame ``row, set, fold, y``: ``fold`` is 0..folds-1 for train rows held out by a fold, -1
    otherwise. A group split adds ``group`` (each row's group); a time split adds ``time`` (each row's time) and
    ``fit_<k>`` (the rows fold k fits on), and its ``set`` is ``gap`` for the rows ``split.gap`` leaves out.

    The test rows of a stratified or group split are drawn with ``test_seed`` (``seed`` when None), the validation
    rows and the folds from the other rows with ``seed``: runs that differ only in ``seed`` share their test rows
    (``rfe.repeats``). With ``val_fraction=0`` every non-test row is a training row (the final model of a repeated
    run)."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold, train_test_split

    y = np.asarray(y, dtype=float)
    test_seed = seed if test_seed is None else test_seed
    if method == "group":
        return _group_split(y, np.asarray(groups), test_fraction=test_fraction, val_fraction=val_fraction,
                            folds=folds, n_bins=n_bins, seed=seed, test_seed=test_seed)
    if method == "time":
        return _time_split(y, np.asarray(times), test_fraction=test_fraction, val_fraction=val_fraction,
                           folds=folds, gap=gap, time_folds=time_folds, time_column=time_column)
    check_split_feasible(y, test_fraction, val_fraction, folds, n_bins)
    rows = np.arange(len(y))
    bins = target_bins(y, n_bins)
    rest, test = train_test_split(rows, test_size=test_fraction, stratify=bins, random_state=test_seed)
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
    if fit_column(0) in train.columns:  # a time split: the fitting rows are written out
        return [(np.flatnonzero(train[fit_column(k)].to_numpy(dtype=bool)), np.flatnonzero(fold == k))
                for k in range(folds)]
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(folds)]


def method_text(split) -> str:
    """The split method in words (``split``: the split settings): ``stratified by 10 target bins``, ``by groups of
    'site'``, ``by time ('t', blocked folds, gap 24)``."""
    if split.method == "group":
        return f"by groups of '{split.group_column}'"
    if split.method == "time":
        gap = f", gap {split.gap}" if split.gap else ""
        return f"by time ('{split.time_column}', {split.time_folds} folds{gap})"
    return f"stratified by {split.stratify_bins} target bins"


# ------------------------------------------------------------------------------------------------ the column

def split_column(settings_split: dict):
    """``(key, column)`` of the column a group or time split reads (None for a stratified split)."""
    method = settings_split["method"]
    if method == "group":
        return "split.group_column", settings_split["group_column"]
    if method == "time":
        return "split.time_column", settings_split["time_column"]
    return None


def check_split_values(values, key: str, column: str, method: str):
    """Refuse a group or time column with missing or infinite values, or a time column that cannot be ordered;
    return the values as a numpy array (a time column: numbers or datetimes)."""
    import numpy as np
    import pandas as pd

    series = pd.Series(values)
    n_missing = int(series.isna().sum())
    if n_missing:
        raise RFEError(f"{key} '{column}' has {n_missing} missing values (NaN/NaT/None): every row needs a "
                       f"{'group' if method == 'group' else 'time'}; fill or drop those rows")
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if numeric:
        n_inf = int(np.isinf(series.to_numpy(dtype=float)).sum())
        if n_inf:
            raise RFEError(f"{key} '{column}' has {n_inf} infinite values; replace them or drop those rows")
    if method == "time" and not (numeric or pd.api.types.is_datetime64_any_dtype(series)):
        raise RFEError(
            f"{key} '{column}' cannot be ordered: it has dtype {series.dtype}; a time column must be numbers or "
            "datetimes (convert text to datetimes, e.g. with pandas.to_datetime, before writing the file)")
    return series.to_numpy()


# ------------------------------------------------------------------------------------------------ a run's split

def run_split(df, target: str, split: dict, *, final: bool = False):
    """The run's split (see :func:`make_split`) from the data table and the split settings (a dict); with ``final``,
    the final model's split of a repeated run (no validation rows: every non-test row trains)."""
    col = split_column(split)
    kwargs = {}
    if col is not None:
        key, name = col
        values = check_split_values(df[name], key, name, split["method"])
        kwargs = {"groups": values} if split["method"] == "group" else {
            "times": values, "gap": split["gap"], "time_folds": split["time_folds"], "time_column": name}
        kwargs["method"] = split["method"]
    return make_split(df[target].to_numpy(dtype=float), test_fraction=split["test_fraction"],
                      val_fraction=0.0 if final else split["val_fraction"], folds=split["folds"],
                      n_bins=split["stratify_bins"], seed=split["seed"], test_seed=split["test_seed"], **kwargs)


def _ceil_share(n: int, share: float) -> int:
    """scikit-learn's count for a float ``test_size``: ``ceil(share * n)``."""
    import math

    return math.ceil(share * n)


def _group_split(y, groups, *, test_fraction, val_fraction, folds, n_bins, seed, test_seed):
    import warnings

    import numpy as np
    import pandas as pd
    from sklearn.model_selection import GroupKFold, GroupShuffleSplit, StratifiedGroupKFold

    rows = np.arange(len(y))
    n_groups = len(pd.unique(groups))
    n_test = _ceil_share(n_groups, test_fraction)
    val_share = val_fraction / (1.0 - test_fraction)
    n_val = _ceil_share(n_groups - n_test, val_share)
    if n_groups - n_test - n_val < folds:
        raise RFEError(
            f"too few groups for the split: split.group_column has {n_groups} groups; {n_test} go to the test set "
            f"and {n_val} to the validation set, which leaves {n_groups - n_test - n_val} for the {folds} CV folds "
            f"(split.folds={folds} needs at least one group per fold). Lower split.folds, test_fraction or "
            "val_fraction, or use a finer group column.")
    rest, test = next(GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=test_seed)
                      .split(rows, groups=groups))
    if val_fraction > 0:
        fit, val = next(GroupShuffleSplit(n_splits=1, test_size=val_share, random_state=seed)
                        .split(rest, groups=groups[rest]))
        train, val = np.sort(rest[fit]), rest[val]
    else:
        train, val = np.sort(rest), rest[:0]
    sets = np.empty(len(y), dtype=object)
    sets[train], sets[val], sets[test] = "train", "val", "test"
    fold = np.full(len(y), -1, dtype=np.int64)
    bins = target_bins(y, n_bins)[train]
    if n_bins > 1 and np.bincount(bins).max() >= folds:  # StratifiedGroupKFold needs a bin of >= folds rows
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        splitter = GroupKFold(n_splits=folds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "the least populated class has only n members": expected
        for k, (_, held_out) in enumerate(splitter.split(train, bins, groups[train])):
            fold[train[held_out]] = k
    empty = [k for k in range(folds) if not np.any(fold == k)]
    if empty:
        raise RFEError(f"too few groups for the split: CV fold(s) {empty} got no group of the "
                       f"{len(pd.unique(groups[train]))} training groups; lower split.folds or use a finer group column")
    return pd.DataFrame({"row": rows, "set": sets.astype(str), "fold": fold, "y": y, "group": groups})


def _tie_start(sorted_times, position: int) -> int:
    """Move a cut at ``position`` of time-sorted rows back to the first row of its time (ties stay together)."""
    import numpy as np

    if position <= 0 or position >= len(sorted_times):
        return position
    return int(np.searchsorted(sorted_times, sorted_times[position], side="left"))


def _gap_value(times, gap, time_column: str):
    """``split.gap`` in the time column's units: a number for a numeric column, a duration ('24h', '7 days') for
    datetimes."""
    import numpy as np
    import pandas as pd

    is_datetime = np.issubdtype(np.asarray(times).dtype, np.datetime64)
    if is_datetime:
        if isinstance(gap, str):
            try:
                value = pd.Timedelta(gap)
            except ValueError as exc:
                raise RFEError(f"split.gap {gap!r} is not a duration pandas understands ({exc}); "
                               "write e.g. '24h' or '7 days'") from None
            return value.to_timedelta64() if value > pd.Timedelta(0) else 0
        if gap:
            raise RFEError(f"split.gap={gap!r} is a number but split.time_column '{time_column}' holds datetimes: "
                           "give the gap as a duration, e.g. '24h' or '7 days'")
        return 0
    if isinstance(gap, str):
        raise RFEError(f"split.gap={gap!r} is a duration but split.time_column '{time_column}' holds numbers: give "
                       "the gap as a number in the time column's units")
    return gap


def _time_split(y, times, *, test_fraction, val_fraction, folds, gap, time_folds, time_column):
    import numpy as np
    import pandas as pd

    n = len(y)
    rows = np.arange(n)
    order = np.argsort(times, kind="stable")  # by time, ties by row
    st = times[order]
    n_test = _ceil_share(n, test_fraction)
    n_val = _ceil_share(n - n_test, val_fraction / (1.0 - test_fraction))
    test_at = _tie_start(st, n - n_test)
    val_at = _tie_start(st, test_at - n_val)
    if not 0 < val_at < test_at < n:
        raise RFEError(f"split.time_column '{time_column}' has too few distinct times ({len(pd.unique(times))}) for "
                       "a test, a validation and a training span; use a finer time column or more rows")
    sets = np.empty(n, dtype=object)
    sets[order[:val_at]], sets[order[val_at:test_at]], sets[order[test_at:]] = "train", "val", "test"
    shown, gap = gap, _gap_value(times, gap, time_column)
    has_gap = bool(gap)
    train_end = val_at
    if has_gap:  # the embargo before the validation rows
        train_end = int(np.searchsorted(st, st[val_at] - gap, side="left"))
        sets[order[train_end:val_at]] = EMBARGO
    cut = f" with split.gap={shown}" if has_gap else ""
    parts = folds + 1 if time_folds == "forward" else folds
    if train_end < parts:
        raise RFEError(
            f"split.time_column '{time_column}'{cut} leaves {train_end} training rows before the validation rows, "
            f"fewer than the {parts} blocks of split.folds={folds}: lower split.gap, test_fraction or val_fraction")
    # contiguous blocks of the training rows in time order: KFold's sizes (blocked), TimeSeriesSplit's (forward)
    if time_folds == "forward":
        size = train_end // parts
        starts = [train_end - (folds - k) * size for k in range(folds)] + [train_end]
    else:
        sizes = np.full(folds, train_end // folds)
        sizes[: train_end % folds] += 1
        starts = [0, *np.cumsum(sizes).tolist()]
    bounds = [_tie_start(st[:train_end], int(b)) for b in starts]
    fold = np.full(n, -1, dtype=np.int64)
    fit = np.zeros((folds, n), dtype=bool)
    ts = st[:train_end]
    for k in range(folds):
        lo, hi = bounds[k], bounds[k + 1]
        if hi <= lo:
            raise RFEError(f"split.time_column '{time_column}' has too few distinct training times for "
                           f"split.folds={folds} contiguous blocks; lower split.folds")
        fold[order[lo:hi]] = k
        if time_folds == "forward":
            keep = ts < ts[lo] - gap if has_gap else np.arange(train_end) < lo
        else:
            before = ts < ts[lo] - gap if has_gap else np.arange(train_end) < lo
            after = ts > ts[hi - 1] + gap if has_gap else np.arange(train_end) >= hi
            keep = before | after
        if not keep.any():
            raise RFEError(f"CV fold {k} has no training rows{cut} ({time_folds} folds): every training row lies "
                           f"within the gap of its held-out block; lower split.gap or split.folds")
        fit[k, order[:train_end][keep]] = True
    out = pd.DataFrame({"row": rows, "set": sets.astype(str), "fold": fold, "y": y, "time": times})
    for k in range(folds):
        out[fit_column(k)] = fit[k]
    return out
