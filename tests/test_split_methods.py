"""Group and time splits (issue 20): whole groups, time order, gaps, and scikit-learn's own splitters built here.

Each check rebuilds what the split should be from the definition, with scikit-learn's ``GroupShuffleSplit``,
``GroupKFold``, ``StratifiedGroupKFold``, ``KFold`` and ``TimeSeriesSplit`` (never from rfe_lib), and compares it with
``rfe_lib.split`` row for row. The refusals run the parse-time checks the workflow runs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold, GroupShuffleSplit, KFold, StratifiedGroupKFold, TimeSeriesSplit

from conftest import SMALL_CONFIG, deep_update, small_frame
from _reliability import parse_time_checks
from rfe_lib import RFEError
from rfe_lib.split import fold_indices, make_split

ARGS = dict(test_fraction=0.15, val_fraction=0.15, folds=4, n_bins=5, seed=3)


def target(n, seed=0):
    return np.random.default_rng(seed).gamma(2.0, 50.0, size=n)


def fold_sets(split, folds):
    """{k: (fitting rows, held-out rows)} as row numbers of the table."""
    train_rows = split.loc[split["set"] == "train", "row"].to_numpy()
    return {k: (train_rows[fit], train_rows[held]) for k, (fit, held) in enumerate(fold_indices(split, folds))}


# ------------------------------------------------------------------------------------------------ group

@pytest.mark.parametrize("n_bins", [5, 1])
def test_group_split_keeps_every_group_whole(n_bins):
    y = target(900)
    groups = np.random.default_rng(1).integers(0, 60, size=900)
    s = make_split(y, **{**ARGS, "n_bins": n_bins}, method="group", groups=groups)
    assert list(s.columns) == ["row", "set", "fold", "y", "group"]
    assert (s["group"].to_numpy() == groups).all()
    assert s.groupby("group")["set"].nunique().max() == 1        # no group in two sets
    assert s.groupby("group")["fold"].nunique().max() == 1       # nor in two folds
    train = s[s["set"] == "train"]
    assert sorted(train["fold"].unique()) == [0, 1, 2, 3] and (s.loc[s["set"] != "train", "fold"] == -1).all()
    for fit, held in fold_sets(s, 4).values():  # the fitting rows are the other folds' rows
        assert not set(groups[fit]) & set(groups[held])
        assert len(fit) + len(held) == len(train)


@pytest.mark.parametrize("n_bins, seed", [(5, 3), (1, 3), (10, 11)])
def test_group_sets_and_folds_equal_scikit_learns(n_bins, seed):
    """Sets: GroupShuffleSplit (test, then validation from the rest); folds: StratifiedGroupKFold on target quantile
    bins (pandas' qcut of the training rows' targets, computed here), or GroupKFold with one bin."""
    n = 1200
    y = target(n, seed)
    groups = np.array([f"site{g:03d}" for g in np.random.default_rng(seed).integers(0, 80, size=n)])
    s = make_split(y, **{**ARGS, "n_bins": n_bins, "seed": seed}, method="group", groups=groups)
    rows = np.arange(n)
    rest, test = next(GroupShuffleSplit(n_splits=1, test_size=0.15, random_state=seed).split(rows, groups=groups))
    fit, val = next(GroupShuffleSplit(n_splits=1, test_size=0.15 / 0.85, random_state=seed)
                    .split(rest, groups=groups[rest]))
    assert set(s.loc[s["set"] == "test", "row"]) == set(test)
    assert set(s.loc[s["set"] == "val", "row"]) == set(rest[val])
    train = np.sort(rest[fit])
    assert (s.loc[s["set"] == "train", "row"].to_numpy() == train).all()
    if n_bins > 1:
        bins = pd.qcut(pd.Series(y), q=n_bins, labels=False, duplicates="drop").to_numpy()[train]
        splitter = StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=seed)
    else:
        bins = np.zeros(len(train), dtype=int)
        splitter = GroupKFold(n_splits=4)
    got = fold_sets(s, 4)
    for k, (fit_pos, held_pos) in enumerate(splitter.split(train, bins, groups[train])):
        assert (np.sort(train[held_pos]) == np.sort(got[k][1])).all(), f"fold {k}"
        assert (np.sort(train[fit_pos]) == np.sort(got[k][0])).all(), f"fold {k}"


def test_group_split_is_deterministic_and_seeded():
    y, groups = target(600), np.arange(600) // 10
    a = make_split(y, **ARGS, method="group", groups=groups)
    b = make_split(y, **ARGS, method="group", groups=groups)
    c = make_split(y, **{**ARGS, "seed": 4}, method="group", groups=groups)
    assert a.equals(b) and not a.equals(c)


def test_too_few_groups():
    with pytest.raises(RFEError, match=r"too few groups for the split: split.group_column has 5 groups.*Lower split.folds"):
        make_split(target(600), **ARGS, method="group", groups=np.arange(600) % 5)


# ------------------------------------------------------------------------------------------------ time

def shuffled_times(n, seed=0):
    """Times 0..n-1 in a random row order (the file need not be sorted)."""
    return np.random.default_rng(seed).permutation(n)


def check_time_order(s, times):
    t = {name: times[s["set"].to_numpy() == name] for name in ("train", "val", "test")}
    assert t["test"].min() > t["val"].max() > t["train"].max()


@pytest.mark.parametrize("time_folds", ["blocked", "forward"])
@pytest.mark.parametrize("gap", [0, 5])
def test_time_sets_are_in_time_order_and_gaps_are_respected(time_folds, gap):
    n = 1000
    times = shuffled_times(n)
    s = make_split(target(n), **ARGS, method="time", times=times, gap=gap, time_folds=time_folds)
    assert list(s.columns) == ["row", "set", "fold", "y", "time", "fit_0", "fit_1", "fit_2", "fit_3"]
    assert (s["time"].to_numpy() == times).all()
    check_time_order(s, times)
    n_test = math.ceil(0.15 * n)
    assert (np.sort(times[s["set"] == "test"]) == np.arange(n - n_test, n)).all()  # the latest rows
    gap_rows = times[s["set"] == "gap"]
    val_start = times[s["set"] == "val"].min()
    assert len(gap_rows) == gap and (gap_rows >= val_start - gap).all()
    assert (times[s["set"] == "train"] < val_start - gap).all()
    for k, (fit, held) in fold_sets(s, 4).items():
        th, tf = times[held], times[fit]
        assert (np.diff(np.sort(th)) == 1).all()                             # a contiguous block
        distance = np.min(np.abs(tf[:, None] - th[None, :]), axis=1)
        assert (distance > gap).all(), f"fold {k}: a fitting row within the gap"
        if time_folds == "forward":
            assert tf.max() < th.min()                                        # only the past
        else:  # every training row not within the gap is a fitting row
            train_t = times[s["set"] == "train"]
            others = train_t[np.min(np.abs(train_t[:, None] - th[None, :]), axis=1) > gap]
            assert set(tf) == set(others)


@pytest.mark.parametrize("gap", [0, 3])
def test_forward_folds_equal_time_series_split(gap):
    """On integer times, forward chaining is TimeSeriesSplit over the time-ordered training rows (its gap counts
    rows; with times one apart a gap of g time units is g rows)."""
    n = 700
    times = shuffled_times(n, 2)
    s = make_split(target(n), **ARGS, method="time", times=times, gap=gap, time_folds="forward")
    train = s[s["set"] == "train"]
    order = train["row"].to_numpy()[np.argsort(train["time"].to_numpy())]  # training rows in time order
    got = fold_sets(s, 4)
    # TimeSeriesSplit's gap also drops rows before the first test block: the training rows here already end
    # `gap` before the validation rows, which is the same for the folds
    for k, (fit_pos, held_pos) in enumerate(TimeSeriesSplit(n_splits=4, gap=gap).split(order)):
        assert set(order[held_pos]) == set(got[k][1]), f"fold {k}"
        assert set(order[fit_pos]) == set(got[k][0]), f"fold {k}"


def test_blocked_folds_equal_kfold_on_time_order():
    n = 803
    times = shuffled_times(n, 5).astype(float) * 0.5
    s = make_split(target(n), **ARGS, method="time", times=times)
    train = s[s["set"] == "train"]
    order = train["row"].to_numpy()[np.argsort(train["time"].to_numpy())]
    got = fold_sets(s, 4)
    for k, (fit_pos, held_pos) in enumerate(KFold(n_splits=4).split(order)):
        assert set(order[held_pos]) == set(got[k][1]) and set(order[fit_pos]) == set(got[k][0])


def test_rows_of_one_time_stay_together():
    """Several rows per time (sites measured at the same hour): no time is in two sets or two folds."""
    times = np.repeat(np.arange(100), 7)
    rng = np.random.default_rng(0)
    times = times[rng.permutation(len(times))]
    s = make_split(target(len(times)), **ARGS, method="time", times=times, gap=2)
    frame = pd.DataFrame({"time": times, "set": s["set"], "fold": s["fold"]})
    assert frame.groupby("time")["set"].nunique().max() == 1
    assert frame.groupby("time")["fold"].nunique().max() == 1
    check_time_order(s, times)


def test_datetime_times_and_a_duration_gap():
    start = pd.Timestamp("2011-01-01")
    times = (start + pd.to_timedelta(shuffled_times(600, 1), unit="h")).to_numpy()
    s = make_split(target(600), **ARGS, method="time", times=times, gap="3h")
    assert (s["set"] == "gap").sum() == 3
    check_time_order(s, times)
    for fit, held in fold_sets(s, 4).values():
        d = np.min(np.abs(times[fit][:, None] - times[held][None, :]), axis=1)
        assert (d > np.timedelta64(3, "h")).all()
    with pytest.raises(RFEError, match="give the gap as a duration"):
        make_split(target(600), **ARGS, method="time", times=times, gap=3)


def test_a_gap_that_leaves_a_fold_without_training_rows():
    with pytest.raises(RFEError, match="CV fold 0 has no training rows with split.gap=300"):
        make_split(target(1000), **ARGS, method="time", times=np.arange(1000), gap=300, time_folds="forward")
    with pytest.raises(RFEError, match="leaves 0 training rows before the validation rows"):
        make_split(target(1000), **ARGS, method="time", times=np.arange(1000), gap=5000)


# ------------------------------------------------------------------------------------------------ parse time

@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = small_frame(600)
    frame["t"] = (frame["day"] - 1) * 24 + frame["hour"]
    frame.to_parquet("data.parquet", index=False)
    return frame


def config(**split):
    cfg = deep_update(SMALL_CONFIG, {"split": split})
    if split.get("method") == "time":
        cfg["split"].pop("stratify_bins")
    return cfg


def refused(cfg, *fragments):
    with pytest.raises(RFEError) as info:
        parse_time_checks(cfg)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in:\n{info.value}"


def test_the_plan_names_the_method_and_the_sizes(in_tmp):
    from rfe_lib.plan.text import split_text
    from rfe_lib.settings import Settings

    cfg = config(method="time", time_column="t", gap=2)
    plan = parse_time_checks(cfg)
    s = make_split(in_tmp["bikers"].to_numpy(), test_fraction=0.15, val_fraction=0.15, folds=3, n_bins=1, seed=7,
                   method="time", times=in_tmp["t"].to_numpy(), gap=2)
    assert plan.set_sizes == s["set"].value_counts().to_dict()
    assert plan.fold_sizes == [[int(s[f"fit_{k}"].sum()), int((s["fold"] == k).sum())] for k in range(3)]
    assert plan.min_fit_rows == min(f for f, _ in plan.fold_sizes)
    text = split_text(Settings.from_config(deep_update(cfg, {})).split, plan.set_sizes, plan.fold_sizes)
    sizes = s["set"].value_counts()
    assert text.startswith("split by time ('t', blocked folds, gap 2): ")
    assert f"train {sizes['train']}, val {sizes['val']}, test {sizes['test']}, gap {sizes['gap']} rows" in text
    assert "t" not in plan.features and "hour" in plan.features   # never a feature; the hour still is

    plan = parse_time_checks(config(method="group", group_column="day"))
    assert "day" not in plan.features and sum(plan.set_sizes.values()) == 600


@pytest.mark.parametrize("split, fragments", [
    ({"method": "group"}, ["split.method: group needs split.group_column"]),
    ({"method": "time"}, ["split.method: time needs split.time_column"]),
    ({"group_column": "day"}, ["split.group_column is set but split.method is stratified"]),
    ({"gap": 3}, ["split.gap and split.time_folds apply to split.method: time only"]),
    ({"method": "group", "group_column": "site"}, ["split.group_column 'site' is not a column of the file"]),
    ({"method": "time", "time_column": "tt"}, ["split.time_column 'tt' is not a column", "did you mean 't'"]),
    ({"method": "group", "group_column": "bikers"}, ["data.target 'bikers' is also the split column"]),
    ({"method": "group", "group_column": "season"}, ["too few groups for the split: split.group_column has 4 groups"]),
    ({"method": "time", "time_column": "t", "gap": 1600, "time_folds": "forward"}, ["CV fold 0 has no training rows with split.gap=1600"]),
    ({"method": "time", "time_column": "t", "gap": "2h"}, ["split.gap='2h' is a duration but split.time_column 't' holds numbers"]),
])
def test_refusals(in_tmp, split, fragments):
    cfg = config(**split)
    refused(cfg, *fragments)


def test_stratify_bins_with_time_is_refused(in_tmp):
    cfg = deep_update(SMALL_CONFIG, {"split": {"method": "time", "time_column": "t"}})  # stratify_bins: 5 stays
    refused(cfg, "split.stratify_bins cannot be used with split.method: time")


def test_a_split_column_listed_as_a_feature_is_refused(in_tmp):
    cfg = deep_update(config(method="group", group_column="day"),
                      {"data": {"features": ["hour", "temp", "hum", "workingday", "weathersit", "day"]}})
    refused(cfg, "data.features lists 'day', the split.group_column: a group or time column is never a feature")


@pytest.mark.parametrize("method, bad, fragment", [
    ("group", np.nan, "split.group_column 'c' has 1 missing values"),
    ("time", np.nan, "split.time_column 'c' has 1 missing values"),
    ("time", np.inf, "split.time_column 'c' has 1 infinite values"),
    ("time", "text", "split.time_column 'c' cannot be ordered: it has dtype str"),
])
def test_bad_values_in_the_split_column(in_tmp, method, bad, fragment):
    frame = in_tmp.copy()
    frame["c"] = frame["t"].astype(object if isinstance(bad, str) else float)
    frame.loc[5, "c"] = bad
    if isinstance(bad, str):
        frame["c"] = frame["c"].astype(str)
    frame.to_parquet("data.parquet", index=False)
    refused(config(method=method, **{f"{method}_column": "c"}), fragment)


# ------------------------------------------------------------------------------------------------ the figure

def _spans(ax):
    """{lane y (rounded): [(x0, width), ...]} of every bar broken_barh drew, by colour."""
    out = {}
    for coll in ax.collections:
        color = tuple(np.round(coll.get_facecolor()[0], 3)) if len(coll.get_facecolor()) else None
        for path in coll.get_paths():
            v = path.vertices
            y = round(float(v[:, 1].min() + v[:, 1].max()) / 2, 1)
            out.setdefault((y, color), []).append((float(v[:, 0].min()), float(v[:, 0].max())))
    return out


def test_time_split_figure_shows_blocks_and_gaps():
    """A blocked fold in the middle holds out one span and fits on two, with white between them (the gap)."""
    from matplotlib.colors import to_rgba

    from rfe_lib.figures.split import FIT_COLOR, HELD_COLOR, time_split

    n = 400
    times = shuffled_times(n, 3)
    s = make_split(target(n), **{**ARGS, "folds": 3}, method="time", times=times, gap=10)
    fit = [s[f"fit_{k}"].to_numpy() for k in range(3)]
    fig = time_split(s["time"].to_numpy(), s["set"].to_numpy(), s["fold"].to_numpy(), fit, "t", "blocked")
    spans = _spans(fig.axes[0])
    held = spans[(1.0, tuple(np.round(to_rgba(HELD_COLOR), 3)))]      # fold 1's lane (lanes: sets 3, folds 2, 1, 0)
    fitted = sorted(spans[(1.0, tuple(np.round(to_rgba(FIT_COLOR), 3)))])
    t1 = times[(s["fold"] == 1).to_numpy()]
    assert held == [(t1.min(), t1.max() + 1)]
    assert len(fitted) == 2 and fitted[0][1] == t1.min() - 10 and fitted[1][0] == t1.max() + 11
    assert fig.axes[0].get_title(loc="left") == "Time split by 't' (blocked CV folds)"


def test_group_split_figure_counts_groups_and_rows():
    from rfe_lib.figures.split import group_split

    groups = np.repeat(np.arange(50), np.arange(50) % 7 + 1)
    s = make_split(target(len(groups)), **ARGS, method="group", groups=groups)
    fig = group_split(s["group"].to_numpy(), s["set"].to_numpy(), s["fold"].to_numpy(), "site", 4)
    notes = [t.get_text() for t in fig.axes[0].texts]
    for k in range(4):
        held = s[(s["set"] == "train") & (s["fold"] == k)]
        assert f"{held['group'].nunique()} groups, {len(held)} rows" in notes
    test = s[s["set"] == "test"]
    assert f"{test['group'].nunique()} groups, {len(test)} rows" in notes
    # one dot per group, at its size
    dots = sorted(x for coll in fig.axes[0].collections for x in coll.get_offsets()[:, 0])
    assert dots == sorted(pd.Series(groups).value_counts().to_numpy().tolist())


def test_the_split_figure_is_a_group_or_time_runs_only_and_its_caption_renders():
    from types import SimpleNamespace

    import jinja2

    from conftest import settings_of
    from rfe_lib.figures import registry

    assert registry.SPLIT_FIGURE not in registry.summary_figures(settings_of())
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for method, column in (("time", {"time_column": "t"}), ("group", {"group_column": "day"})):
        settings = settings_of({"split": {"method": method, "stratify_bins": 5, **column}})
        assert registry.summary_figures(settings)[-1] is registry.SPLIT_FIGURE
        options = registry.pick(registry.summary_options(settings, "LOFO importance"), [registry.SPLIT_FIGURE])
        text = env.from_string(registry.caption_template("split")).render(
            snakemake=SimpleNamespace(params=SimpleNamespace(options=options)))
        assert ("by time (``t``)" if method == "time" else "by groups of ``day``") in text and "{" not in text


# ------------------------------------------------------------------------------------------------ the CV matrix

@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_a_gap_fold_shows_the_model_exactly_its_rows(fraction):
    """With a gap, some training rows are neither fitted on nor held out by a fold: the in-place arrangement of the
    CV matrix (rfe_lib.cv) still shows the model exactly the fold's fitting rows (or successive halving's subsample of
    them) and held-out rows, a permutation shuffle touches only the held-out rows, and everything is put back."""
    from rfe_lib.cv import TrainingData

    n = 500
    times = shuffled_times(n, 4)
    s = make_split(target(n), **{**ARGS, "folds": 3}, method="time", times=times, gap=7)
    train = s[s["set"] == "train"]
    X0 = np.asfortranarray(np.random.default_rng(0).normal(size=(len(train), 4)))
    data = TrainingData(X=X0.copy(order="F"), y=train["y"].to_numpy(), columns=list("abcd"),
                        folds=fold_indices(s, 3), subsample_seed=9)
    for k in range(3):
        fit, held = data.folds[k]
        assert len(fit) + len(held) < len(train)             # the gap rows are in neither
        X_fit, X_held = data.fold_views(k, 3, fraction)
        rows = data.fit_rows(k, fraction)
        assert len(rows) == (len(fit) if fraction == 1 else math.ceil(fraction * len(fit)))
        np.testing.assert_array_equal(X_fit, X0[rows][:, :3])
        np.testing.assert_array_equal(X_held, X0[held][:, :3])
        order = np.random.default_rng(k).permutation(len(held))
        with data.held_rows_shuffled(k, [1], order):
            np.testing.assert_array_equal(data.fold_views(k, 4, fraction)[1][:, 1], X0[held][order, 1])
            np.testing.assert_array_equal(data.fold_views(k, 4, fraction)[0], X0[rows])
        np.testing.assert_array_equal(data.fold_views(k, 4, fraction)[1], X0[held])
    data.restore_rows()
    np.testing.assert_array_equal(data.X, X0)


def test_the_plan_of_forward_chaining(in_tmp):
    """Forward chaining's folds in the plan: TimeSeriesSplit's sizes over the time-ordered training rows (built here),
    the earliest block never held out, and the smallest fold's fitting rows in min_fit_rows (what budgets size by)."""
    plan = parse_time_checks(config(method="time", time_column="t", time_folds="forward"))
    n_train = plan.set_sizes["train"]
    expected = [[len(fit), len(held)] for fit, held in TimeSeriesSplit(n_splits=3).split(np.arange(n_train))]
    assert plan.fold_sizes == expected and plan.min_fit_rows == expected[0][0]
    assert sum(h for _, h in plan.fold_sizes) < n_train


def test_the_split_figure_of_a_datetime_time_column_from_its_artifact(tmp_path):
    """The figure job reads the artifact without pandas (datetimes come back as Python datetimes) and draws them on a
    date axis."""
    from rfe_lib.figures.draw import draw

    start = pd.Timestamp("2011-01-01")
    times = (start + pd.to_timedelta(shuffled_times(300, 2), unit="h")).to_numpy()
    s = make_split(target(300), **{**ARGS, "folds": 3}, method="time", times=times, gap="2h")
    s.to_parquet(tmp_path / "indices.parquet", index=False)
    fig = draw("split", {"split": tmp_path / "indices.parquet"},
               {"split_method": "time", "split_column": "when", "folds": 3, "time_folds": "blocked"})
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    from matplotlib.dates import num2date

    # 300 hours from 2011-01-01, on a date axis (margins aside)
    assert pd.Timestamp("2010-12-30", tz="UTC") < num2date(lo) < pd.Timestamp("2011-01-01", tz="UTC")
    assert pd.Timestamp("2011-01-13", tz="UTC") < num2date(hi) < pd.Timestamp("2011-01-16", tz="UTC")
    assert ax.get_title(loc="left") == "Time split by 'when' (blocked CV folds)"
