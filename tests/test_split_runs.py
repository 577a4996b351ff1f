"""Whole runs with a time split and a group split (issue 20) on the real, time-ordered Bikeshare data, and a time
run killed and resumed.

The slice of the bundled table is the conftest's 2,000 rows plus their hour of the year, ``t = (day - 1) * 24 +
hour`` (the order of the rows in time), with 60 values of ``hum`` taken out so that the runs impute (and scale)
inside each fold. The stratified method is the conftest's ``small_run``, checked by the other modules.

Each round's CV losses are recomputed here with a plain scikit-learn loop over the folds the split artifact names
(imputation and scaling fitted on each fold's fitting rows only, in a Pipeline), and the split is checked against
the raw data: no group in two sets or two folds; test later than validation later than training; gaps kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import SMALL_CONFIG, TARGET, layout, make_workdir, small_frame, snakemake
from _reliability import (ANY, RUN, assert_same_artifacts, files_under, hook_env, kill_mid_write, planned_jobs, run,
                          stale_temporaries, start)

pytestmark = pytest.mark.slow
GAP = 24  # hours: a day between a held-out block and the rows a fold fits on

COMMON = {"features": {"impute": "median"}, "model": {"scale": True}, "plots": {"top_features": 0}}
TIME = {**COMMON, "split": {"method": "time", "time_column": "t", "gap": GAP, "stratify_bins": None}}
GROUP = {**COMMON, "split": {"method": "group", "group_column": "day"}}


def frame() -> pd.DataFrame:
    df = small_frame(2000)
    df["t"] = (df["day"] - 1) * 24 + df["hour"]
    df.loc[np.random.default_rng(5).choice(len(df), 60, replace=False), "hum"] = np.nan
    return df


def workdir_for(path: Path, overrides: dict) -> Path:
    make_workdir(path, overrides, frame=frame())
    config = path / "config.yaml"
    if overrides["split"]["method"] == "time":  # a time split takes no stratify_bins (the conftest sets 5)
        config.write_text("\n".join(l for l in config.read_text().splitlines() if "stratify_bins" not in l) + "\n")
    return path


@pytest.fixture(scope="module")
def time_run(tmp_path_factory) -> Path:
    workdir = workdir_for(tmp_path_factory.mktemp("time"), TIME)
    snakemake(workdir, "-j", "2")
    return workdir


@pytest.fixture(scope="module")
def group_run(tmp_path_factory) -> Path:
    workdir = workdir_for(tmp_path_factory.mktemp("group"), GROUP)
    snakemake(workdir, "-j", "2")
    return workdir


def read(workdir, key, r=None) -> pd.DataFrame:
    """A run's artifact by its layout key (a round's with ``r``)."""
    run = layout(workdir)
    return pd.read_parquet(run.file(key) if r is None else run.round_file(r, key))


def reference_cv_losses(workdir, r: int):
    """{config_id: per-fold RMSE} of round r, from the raw data and the folds the split artifact names: a plain
    loop with SimpleImputer(median) -> StandardScaler -> HistGradientBoostingRegressor fitted per fold."""
    raw = frame()
    split = read(workdir, "split")
    train = split[split["set"] == "train"]
    features = read(workdir, "features", r)["feature"].tolist()
    cols = {}
    for f in ["hour", "temp", "hum", "workingday", "weathersit"]:  # the run's model-column order
        if f in features:
            if f == "hour":
                angle = 2 * np.pi * raw["hour"].to_numpy(dtype=float) / 24
                cols.update(hour_sin=np.sin(angle), hour_cos=np.cos(angle))
            else:
                cols[f] = raw[f].to_numpy(dtype=float)
    # The fits use the run's model table, checked here against the raw data: its sin/cos may be a rounding away from
    # numpy's here (sin(pi) = 1.2e-16 or -2.4e-16), which would reorder a tree's bins (see tests/_reference.py).
    table = read(workdir, "table")[list(cols)].to_numpy(dtype=float)
    np.testing.assert_allclose(table, np.column_stack(list(cols.values())), rtol=0, atol=1e-12)
    X = table[train["row"].to_numpy()]
    y = raw["bikers"].to_numpy(dtype=float)[train["row"].to_numpy()]
    fold = train["fold"].to_numpy()
    fit_cols = [c for c in train.columns if c.startswith("fit_")]
    results = read(workdir, "results", r)
    out = {}
    for cid, params in zip(results["config_id"], results["params"]):
        losses = []
        for k in range(SMALL_CONFIG["split"]["folds"]):
            fit = train[f"fit_{k}"].to_numpy() if fit_cols else (fold != k) & (fold >= 0)
            held = fold == k
            model = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), HistGradientBoostingRegressor(
                **SMALL_CONFIG["model"]["params"], **json.loads(params), random_state=SMALL_CONFIG["split"]["seed"]))
            # column-major, as the jobs hold the matrix: StandardScaler's sums then add in the same order (a C-order
            # copy moves the scaled values by an ulp, which moves HistGradientBoosting's bin edges)
            pred = model.fit(np.asfortranarray(X[fit]), y[fit]).predict(np.asfortranarray(X[held]))
            losses.append(np.sqrt(np.mean((pred - y[held]) ** 2)))
        out[int(cid)] = np.array(losses)
    return results, out


@pytest.mark.parametrize("which", ["time", "group"])
def test_cv_losses_equal_a_plain_scikit_learn_loop_over_the_same_folds(request, which):
    workdir = request.getfixturevalue(f"{which}_run")
    for r in range(3):
        results, expected = reference_cv_losses(workdir, r)
        for cid, losses in expected.items():
            got = results.loc[results["config_id"] == cid, ["fold_0", "fold_1", "fold_2"]].to_numpy(dtype=float)[0]
            np.testing.assert_allclose(got, losses, rtol=1e-9, err_msg=f"{which} round {r} config {cid}")


def test_time_run_split_is_in_time_order_with_gaps(time_run):
    raw = frame()
    split = read(time_run, "split")
    t = raw["t"].to_numpy()
    assert (split["time"].to_numpy() == t).all()
    sets = split["set"].to_numpy()
    assert t[sets == "test"].min() > t[sets == "val"].max() > t[sets == "gap"].max() > t[sets == "train"].max()
    assert t[sets == "train"].max() < t[sets == "val"].min() - GAP <= t[sets == "gap"].min()
    train = split[split["set"] == "train"]
    for k in range(3):
        held = train.loc[train["fold"] == k, "time"].to_numpy()
        fit = train.loc[train[f"fit_{k}"], "time"].to_numpy()
        assert np.min(np.abs(fit[:, None] - held[None, :])) > GAP
        others = train.loc[train["fold"] != k, "time"].to_numpy()  # blocked: all other rows beyond the gap
        assert set(fit) == {x for x in others if np.min(np.abs(held - x)) > GAP}
    # the time column is no feature; hour (cyclic) still is
    fmap = read(time_run, "feature_map")
    assert "t" not in set(fmap["feature"]) and "hour" in set(fmap["feature"])
    # the final models score the validation and test rows, and nothing is scored on the gap rows
    metrics = read(time_run, "metrics", 0).set_index("set")
    assert metrics.loc["test", "n"] == (sets == "test").sum() and metrics.loc["val", "n"] == (sets == "val").sum()
    assert metrics.loc["train", "n"] == (sets == "train").sum()


def test_group_run_keeps_every_day_whole(group_run):
    raw = frame()
    split = read(group_run, "split")
    assert (split["group"].to_numpy() == raw["day"].to_numpy()).all()
    frame_ = pd.DataFrame({"day": raw["day"], "set": split["set"], "fold": split["fold"]})
    assert frame_.groupby("day")["set"].nunique().max() == 1
    assert frame_.groupby("day")["fold"].nunique().max() == 1
    assert "day" not in set(read(group_run, "feature_map")["feature"])


def test_a_killed_time_run_resumes_to_the_uninterrupted_result(time_run, tmp_path):
    workdir = workdir_for(tmp_path / "work", TIME)
    env, (marker,) = hook_env(tmp_path, pause=[str(ANY.importance_shard(1, 0))])
    proc = start(workdir, "-j", "2", env=env, out=tmp_path / "run.out")
    kill_mid_write(workdir, proc, marker, "importance")
    run(workdir, "--unlock")
    run(workdir, "-j", "2")
    assert_same_artifacts(time_run / RUN, workdir / RUN)
    assert stale_temporaries(workdir / RUN) == []
    assert files_under(workdir / RUN) == files_under(time_run / RUN)
    assert planned_jobs(workdir) == []


@pytest.mark.parametrize("which, named", [("time", "by time ('t', blocked folds, gap 24)"),
                                          ("group", "by groups of 'day'")])
def test_the_split_figure_workbook_and_report_name_the_method(request, which, named):
    from test_plots import assert_sane_png

    workdir = request.getfixturevalue(f"{which}_run")
    run = layout(workdir)
    assert_sane_png(run.plot("split"))
    assert f"rows split {named}" in run.file("description").read_text()
    assert "The split by" in run.caption("split").read_text()
    config = pd.read_excel(run.file("workbook"), sheet_name="Config").set_index("key")["value"]
    assert config["split.method"] == f'"{which}"'


def test_a_time_split_composes_with_every_budget(tmp_path):
    """conftest.BUDGETS (successive halving with carried rankings, permutation importance then LOFO, correlated
    features grouped, early stopping) on the time split with its gap: the run finishes with its rungs, importances and
    the split figure. (That a gap fold's row subsamples and permutation shuffles touch only its own rows is checked
    on the CV matrix itself: tests/test_split_methods.py::test_a_gap_fold_shows_the_model_exactly_its_rows.)"""
    from conftest import BUDGETS, deep_update

    overrides = deep_update(BUDGETS, TIME)
    workdir = workdir_for(tmp_path, overrides)
    snakemake(workdir, "-j", "2", TARGET.file("selected"), TARGET.plot("split"))  # what it reads: no workbook
    run = layout(workdir)
    assert run.file("selected").is_file() and run.plot("split").is_file()
    results = read(workdir, "results", 0)
    assert results["rung"].nunique() == 3 and (results["resource_fraction"] < 1).any()
    assert read(workdir, "importance", 0)["feature"].nunique() == len(read(workdir, "features", 0))


def test_an_angle_target_composes_with_a_group_split(tmp_path):
    """The angle run of the conftest (a direction in degrees, an angle feature, a derived feature, imputation, a
    fractional step) split by groups of 30 consecutive rows: every set and fold holds whole groups, and every error
    is wrapped into [-180, 180) degrees."""
    from conftest import ANGLE_CONFIG, angle_frame, deep_update

    df = angle_frame()
    df["site"] = np.arange(len(df)) // 30
    workdir = tmp_path / "angle_group"
    workdir.mkdir()
    df.to_csv(workdir / "data.csv", index=False)
    config = deep_update(ANGLE_CONFIG, {"split": {"method": "group", "group_column": "site"}})
    (workdir / "config.yaml").write_text(__import__("yaml").safe_dump(config, sort_keys=False))
    snakemake(workdir, "-j", "2", TARGET.file("rounds"))  # Parquet tables only: no figure or workbook
    split = read(workdir, "split")
    per_site = pd.DataFrame({"site": df["site"], "set": split["set"], "fold": split["fold"]}).groupby("site")
    assert per_site["set"].nunique().max() == 1 and per_site["fold"].nunique().max() == 1
    assert "site" not in set(read(workdir, "feature_map")["feature"])
    pred = read(workdir, "predictions", 0)
    wrapped = (pred["y_pred"] - pred["y_true"] + 180) % 360 - 180
    assert np.allclose(pred["error"], wrapped) and pred["error"].abs().max() <= 180
