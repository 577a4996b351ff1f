"""Sample weights (issue 21, ``data.weight_column``): refused when NaN, negative or all zero; never a feature; passed to
every fit and every loss. A real small run is recomputed here with plain scikit-learn and ``np.average``: its CV
losses, its validation and test metrics and its LOFO losses, each of which would differ if the weights were dropped
from a fit or from a loss."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import SMALL_CONFIG, layout, small_frame, snakemake
from rfe_lib import RFEError

GRID = [0.1, 0.3]


def weighted_frame(n=600):
    df = small_frame(n)
    df["w"] = np.random.default_rng(5).choice([0.0, 0.5, 1.0, 4.0], size=n)
    return df


def config(**data) -> dict:
    cfg = copy.deepcopy(SMALL_CONFIG)
    cfg["data"].update({"weight_column": "w", **data})
    cfg["model"] = {"estimator": "sklearn.ensemble.HistGradientBoostingRegressor", "params": {"max_iter": 20},
                    "scale": True}  # a pipeline: the weights must reach its final step
    cfg["hpo"]["grid"] = {"learning_rate": GRID}
    cfg["rfe"] = {"step": 1, "min_features": 4}
    cfg["plots"] = {"top_features": 0}
    return cfg


# ----------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("values, fragment", [
    ({3: np.nan}, "1 missing (NaN) and 0 infinite"),
    ({4: np.inf}, "0 missing (NaN) and 1 infinite"),
    ({5: -1.0}, "1 negative values"),
    ("zeros", "is zero in every row"),
])
def test_bad_weights_are_refused_at_parse_time(values, fragment, tmp_path, monkeypatch):
    from _reliability import parse_time_checks

    monkeypatch.chdir(tmp_path)
    df = weighted_frame(300)
    if values == "zeros":
        df["w"] = 0.0
    else:
        for i, v in values.items():
            df.loc[i, "w"] = v
    df.to_parquet("data.parquet", index=False)
    with pytest.raises(RFEError, match="data.weight_column 'w'") as info:
        parse_time_checks(config())
    assert fragment in str(info.value)


def test_the_weight_column_is_never_a_feature(tmp_path, monkeypatch):
    from _reliability import parse_time_checks

    monkeypatch.chdir(tmp_path)
    weighted_frame(300).to_parquet("data.parquet", index=False)
    with pytest.raises(RFEError, match="never a feature"):
        parse_time_checks(config(features=["hour", "temp", "w"]))
    plan = parse_time_checks(config(features=None))  # every column but the target and the weights
    assert "w" not in plan.features and "temp" in plan.features


def test_an_estimator_that_takes_no_weights_is_refused(tmp_path, monkeypatch):
    from _reliability import parse_time_checks

    monkeypatch.chdir(tmp_path)
    weighted_frame(300).to_parquet("data.parquet", index=False)
    cfg = config()
    cfg["model"] = {"estimator": "sklearn.neighbors.KNeighborsRegressor"}
    cfg["hpo"]["grid"] = {"n_neighbors": [5]}
    with pytest.raises(RFEError, match="KNeighborsRegressor' takes no sample_weight"):
        parse_time_checks(cfg)


def test_weighted_metrics_equal_np_average():
    from rfe_lib.metrics import loss, metric_row

    rng = np.random.default_rng(0)
    y, pred, w = rng.normal(size=50), rng.normal(size=50), rng.uniform(0, 2, 50)
    err = pred - y
    row = metric_row(y, pred, [0.5], None, w)
    assert row["rmse"] == pytest.approx(np.sqrt(np.average(err**2, weights=w)))
    assert row["mae"] == pytest.approx(np.average(np.abs(err), weights=w))
    assert row["bias"] == pytest.approx(np.average(err, weights=w))
    assert row["within_0.5"] == pytest.approx(np.average(np.abs(err) <= 0.5, weights=w))
    assert row["r2"] == pytest.approx(1 - np.sum(w * err**2) / np.sum(w * (y - np.average(y, weights=w)) ** 2))
    # the weighted median: the smallest |error| whose cumulative weight reaches half the total
    order = np.argsort(np.abs(err))
    cum = np.cumsum(w[order])
    assert row["median_ae"] == pytest.approx(np.abs(err)[order][np.searchsorted(cum, 0.5 * cum[-1])])
    assert loss(y, pred, "mse", None, w) == pytest.approx(np.average(err**2, weights=w))
    assert metric_row(y, pred, [0.5])["rmse"] != pytest.approx(row["rmse"])  # the weights matter here


# ------------------------------------------------------------------------------------------- one real run


@pytest.fixture(scope="module")
def weighted_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("weighted")
    weighted_frame().to_parquet(workdir / "data.parquet", index=False)
    cfg = config()
    cfg["rfe"]["importance"] = "lofo"
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    snakemake(workdir, "-j", "2")
    return workdir


def _model(lr):
    return make_pipeline(StandardScaler(), HistGradientBoostingRegressor(max_iter=20, learning_rate=lr,
                                                                         random_state=7))


def _fit(model, X, y, w):
    # Fortran order, as the pipeline's jobs hold X (rfe_lib/cv.py): with weights, HistGradientBoosting's sums differ
    # in the last bits between memory layouts, enough to change a split on this data.
    return model.fit(np.asfortranarray(X), y, histgradientboostingregressor__sample_weight=w)


def _rmse(y, pred, w):
    return float(np.sqrt(np.average((pred - y) ** 2, weights=w)))


def _inputs(run, features):
    table = pd.read_parquet(run.file("table"))
    fmap = pd.read_parquet(run.file("feature_map"))
    columns = [c for f, c in zip(fmap["feature"], fmap["column"]) if f in set(features)]
    split = pd.read_parquet(run.file("split"))
    return table[columns].to_numpy(dtype=float), split


@pytest.mark.slow
def test_cv_losses_are_weighted_fits_scored_with_np_average(weighted_run):
    run = layout(weighted_run)
    raw = weighted_frame()
    features = pd.read_parquet(run.round_file(0, "features"))["feature"].tolist()
    X, split = _inputs(run, features)
    assert "w" not in features and np.array_equal(split["weight"], raw["w"])
    train = split[split["set"] == "train"]
    rows = train["row"].to_numpy()
    X, y, w, fold = X[rows], train["y"].to_numpy(float), raw["w"].to_numpy()[rows], train["fold"].to_numpy()
    results = pd.read_parquet(run.round_file(0, "results"))
    for i, lr in enumerate(GRID):
        expect = [_rmse(y[fold == k], _fit(_model(lr), X[fold != k], y[fold != k], w[fold != k]).predict(X[fold == k]),
                        w[fold == k]) for k in range(3)]
        got = results.loc[results["config_id"] == i, [f"fold_{k}" for k in range(3)]].to_numpy()[0]
        assert got == pytest.approx(expect, rel=1e-12)
    # LOFO: each feature's fold losses without it, weighted the same way (best configuration of round 0)
    best_lr = GRID[int(results.loc[results["mean"].idxmin(), "config_id"])]
    lofo = pd.read_parquet(run.importance_shard(0, 0)).set_index("feature")
    fmap = pd.read_parquet(run.file("feature_map"))
    columns = [c for f, c in zip(fmap["feature"], fmap["column"]) if f in set(features)]
    for feature in ("hour", "temp"):
        keep = [j for j, c in enumerate(columns)
                if c not in set(fmap.loc[fmap["feature"] == feature, "column"])]
        expect = [_rmse(y[fold == k], _fit(_model(best_lr), X[fold != k][:, keep], y[fold != k], w[fold != k])
                        .predict(X[fold == k][:, keep]), w[fold == k]) for k in range(3)]
        assert lofo.loc[feature, [f"fold_{k}" for k in range(3)]].to_numpy(float) == pytest.approx(expect, rel=1e-12)


@pytest.mark.slow
def test_validation_and_test_metrics_are_weighted(weighted_run):
    run = layout(weighted_run)
    raw = weighted_frame()
    features = pd.read_parquet(run.round_file(0, "features"))["feature"].tolist()
    X, split = _inputs(run, features)
    w = raw["w"].to_numpy()[split["row"].to_numpy()]
    y = split["y"].to_numpy(float)
    best = pd.read_parquet(run.round_file(0, "best"))
    lr = float(best.at[0, "param_learning_rate"])
    train = (split["set"] == "train").to_numpy()
    model = _fit(_model(lr), X[split["row"].to_numpy()][train], y[train], w[train])
    metrics = pd.read_parquet(run.round_file(0, "metrics")).set_index("set")
    for name in ("val", "test"):
        part = (split["set"] == name).to_numpy()
        err = model.predict(X[split["row"].to_numpy()][part]) - y[part]
        assert metrics.loc[name, "rmse"] == pytest.approx(np.sqrt(np.average(err**2, weights=w[part])), rel=1e-12)
        assert metrics.loc[name, "mae"] == pytest.approx(np.average(np.abs(err), weights=w[part]), rel=1e-12)
        assert metrics.loc[name, "bias"] == pytest.approx(np.average(err, weights=w[part]), rel=1e-12)
        assert metrics.loc[name, "n"] == part.sum()


@pytest.mark.slow
def test_the_split_is_unchanged_and_the_workbook_and_report_say_weighted(weighted_run):
    from rfe_lib.split import make_split

    run = layout(weighted_run)
    split = pd.read_parquet(run.file("split"))
    s = SMALL_CONFIG["split"]
    plain = make_split(weighted_frame()["bikers"].to_numpy(float), test_fraction=s["test_fraction"],
                       val_fraction=s["val_fraction"], folds=s["folds"], n_bins=s["stratify_bins"], seed=s["seed"])
    pd.testing.assert_frame_equal(split.drop(columns="weight"), plain)
    summary = pd.read_excel(run.file("workbook"), sheet_name="Summary")
    assert set(summary["losses"]) == {"weighted by the column 'w'"}
    description = run.file("description") if run.file("description").exists() else None
    texts = [p.read_text() for p in run.captions_dir.parent.rglob("*.rst")] if description is None else [description.read_text()]
    assert any("weighted by the column ``w``" in t for t in texts)


# ------------------------------------------------------- permutation importance and halving rungs (in-process)


def _ridge_data(n=150, p=3):
    from rfe_lib.cv import TrainingData

    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, p))
    y = X @ np.array([1.0, 2.0, 3.0]) + rng.normal(scale=0.5, size=n)
    fold = np.arange(n) % 3
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    return TrainingData(X=X, y=y, columns=["a", "b", "c"], folds=folds, w=rng.uniform(0, 3, n), subsample_seed=7)


def test_permutation_importance_refits_and_scores_with_the_weights(tmp_path):
    from sklearn.linear_model import Ridge

    from conftest import model_spec
    from rfe_lib.importance import ShardTask
    from rfe_lib.importance.permutation import Permutation, feature_seed

    d = _ridge_data()
    X, y, w = d.X.copy(), d.y.copy(), d.w.copy()
    Permutation(repeats=3, seed=7, round=0).run_shard(ShardTask(
        d, model_spec("sklearn.linear_model.Ridge"), {"alpha": 1.0}, ["a", "b", "c"], {c: [c] for c in "abc"},
        "rmse"), tmp_path / "p.parquet")
    got = pd.read_parquet(tmp_path / "p.parquet").set_index("feature")
    for j, feature in enumerate("abc"):
        for k, (fit, held) in enumerate(d.folds):
            model = Ridge(alpha=1.0).fit(X[fit], y[fit], sample_weight=w[fit])
            rng = np.random.default_rng(feature_seed(7, 0, feature, k))
            losses = []
            for _ in range(3):
                Xh = X[held].copy()
                Xh[:, j] = Xh[rng.permutation(len(held)), j]
                losses.append(_rmse(y[held], model.predict(Xh), w[held]))
            assert got.loc[feature, f"fold_{k}"] == pytest.approx(np.mean(losses), rel=1e-12)


def test_a_halving_rung_fits_its_row_subsample_with_its_weights():
    from sklearn.linear_model import Ridge

    from conftest import model_spec
    from rfe_lib.grid import param_types
    from rfe_lib.search.base import Rung
    from rfe_lib.search.shards import score_batch

    d = _ridge_data()
    X, y, w = d.X.copy(), d.y.copy(), d.w.copy()
    grid = {"alpha": [1.0]}
    row = score_batch([(0, {"alpha": 1.0})], d, model_spec("sklearn.linear_model.Ridge"), "mae", param_types(grid),
                      Rung(1, resource_fraction=0.5, rows=0.5), 0)[0]
    for k, (fit, held) in enumerate(d.folds):
        sub = d.fit_rows(k, 0.5)
        assert len(sub) == math.ceil(0.5 * len(fit))
        pred = Ridge(alpha=1.0).fit(X[sub], y[sub], sample_weight=w[sub]).predict(X[held])
        assert row[f"fold_{k}"] == pytest.approx(np.average(np.abs(pred - y[held]), weights=w[held]), rel=1e-12)
