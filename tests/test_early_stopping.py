"""Early stopping inside each fit (issue 21, ``model.early_stopping``): the stopping rows come from the fit's own
training rows only. A search shard's fold losses and trees used are recomputed here fold by fold from the fold's
fitting rows alone, with each library's own early-stopping API; a fit that saw a held-out row would differ."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import model_spec, settings_of
from rfe_lib import RFEError
from rfe_lib.cv import TrainingData
from rfe_lib.early_stopping import SUPPORTED
from rfe_lib.search.results import merge_shards
from rfe_lib.search.shards import run_shard

ES = {"rounds": 3, "validation_fraction": 0.2}
TREES = {"lightgbm.LGBMRegressor": "n_estimators", "xgboost.XGBRegressor": "n_estimators",
         "catboost.CatBoostRegressor": "iterations", "sklearn.ensemble.HistGradientBoostingRegressor": "max_iter"}


def data(n=240, p=4, seed=1, weights=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ np.arange(1, p + 1) + rng.normal(scale=2.0, size=n)
    fold = np.arange(n) % 3
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    w = rng.uniform(0, 2, n) if weights else None
    return TrainingData(X=X, y=y, columns=[f"c{j}" for j in range(p)], folds=folds, w=w)


def own_fit(path, lr, X, y, w, seed=7):  # the split seed of the test configuration
    """The library's own estimator with its own early stopping, on stopping rows carved from ``X`` alone as the
    pipeline documents: the first ceil(0.2 n) of a permutation seeded by (seed, n)."""
    n = len(y)
    perm = np.random.default_rng([seed, n]).permutation(n)
    stop, keep = np.sort(perm[:math.ceil(0.2 * n)]), np.sort(perm[math.ceil(0.2 * n):])
    ws = (None, None) if w is None else (w[keep], w[stop])
    if path == "lightgbm.LGBMRegressor":
        import lightgbm

        m = lightgbm.LGBMRegressor(n_estimators=200, learning_rate=lr, random_state=seed, n_jobs=1, verbose=-1,
                                   deterministic=True, force_row_wise=True, min_child_samples=5)
        with warnings.catch_warnings():  # eval_set: the name every LightGBM 4 takes (4.7 prefers eval_X, eval_y)
            warnings.filterwarnings("ignore", message=".*eval_set.*deprecated")
            m.fit(X[keep], y[keep], sample_weight=ws[0], eval_set=[(X[stop], y[stop])],
                  eval_sample_weight=None if w is None else [ws[1]],
                  callbacks=[lightgbm.early_stopping(3, verbose=False)])
        return m, m.best_iteration_
    if path == "xgboost.XGBRegressor":
        import xgboost

        m = xgboost.XGBRegressor(n_estimators=200, learning_rate=lr, random_state=seed, n_jobs=1, verbosity=0,
                                 early_stopping_rounds=3)
        m.fit(X[keep], y[keep], sample_weight=ws[0], eval_set=[(X[stop], y[stop])],
              sample_weight_eval_set=None if w is None else [ws[1]], verbose=False)
        return m, m.best_iteration + 1
    if path == "catboost.CatBoostRegressor":
        import catboost

        m = catboost.CatBoostRegressor(iterations=200, learning_rate=lr, random_seed=seed, thread_count=1,
                                       logging_level="Silent", allow_writing_files=False)
        m.fit(X[keep], y[keep], sample_weight=ws[0], eval_set=catboost.Pool(X[stop], y[stop], weight=ws[1]),
              early_stopping_rounds=3, use_best_model=True)
        return m, m.tree_count_
    from sklearn.ensemble import HistGradientBoostingRegressor

    m = HistGradientBoostingRegressor(max_iter=200, learning_rate=lr, random_state=seed, early_stopping=True,
                                      n_iter_no_change=3)
    m.fit(X[keep], y[keep], sample_weight=ws[0], X_val=X[stop], y_val=y[stop], sample_weight_val=ws[1])
    return m, m.n_iter_


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("path", SUPPORTED)
def test_fold_losses_and_trees_use_only_each_folds_fitting_rows(path, weights, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = data(weights=weights)
    params = {TREES[path]: 200}
    if path == "lightgbm.LGBMRegressor":
        params["min_child_samples"] = 5
    spec = model_spec(path, params=params, early_stopping=ES)
    grid = {"learning_rate": [0.3, 0.8]}
    run_shard(d, spec, grid, range(2), "rmse", 0, 1, tmp_path / "s.parquet")
    res = merge_shards([tmp_path / "s.parquet"])
    for i, lr in enumerate(grid["learning_rate"]):
        losses, trees = [], []
        for fit, held in d.folds:
            X = np.asfortranarray(d.X[fit])
            m, n_trees = own_fit(path, lr, X, d.y[fit], None if d.w is None else d.w[fit])
            err = m.predict(d.X[held]) - d.y[held]
            losses.append(float(np.sqrt(np.average(err**2, weights=None if d.w is None else d.w[held]))))
            trees.append(n_trees)
        row = res[res["config_id"] == i].iloc[0]
        assert row["trees_used"] == pytest.approx(np.mean(trees))
        assert row["trees_used"] < 200  # it stopped early
        assert [row[f"fold_{k}"] for k in range(3)] == pytest.approx(losses, rel=1e-9)
    assert not any(p.name == "catboost_info" for p in tmp_path.iterdir())


def test_no_trees_column_without_early_stopping(tmp_path):
    d = data()
    run_shard(d, model_spec("sklearn.ensemble.HistGradientBoostingRegressor", params={"max_iter": 10}),
              {"learning_rate": [0.1]}, range(1), "rmse", 0, 1, tmp_path / "s.parquet")
    assert "trees_used" not in merge_shards([tmp_path / "s.parquet"]).columns


def test_early_stopping_is_refused_for_other_estimators():
    with pytest.raises(RFEError, match="model.early_stopping works with .* not model.estimator 'sklearn.linear_model"):
        settings_of({"model": {"estimator": "sklearn.linear_model.Ridge", "params": {}, "early_stopping": {"rounds": 5}},
                     "hpo": {"grid": {"alpha": [1.0]}}})
    assert settings_of({"model": {"early_stopping": {"rounds": 5}}}).model.early_stopping == {
        "rounds": 5, "validation_fraction": 0.1}


def test_the_final_model_stops_early_on_its_own_training_rows():
    from rfe_lib.training import fit_and_predict

    d = data()
    n = len(d.y)
    split = pd.DataFrame({"row": np.arange(n), "set": np.where(np.arange(n) < 180, "train", "test"),
                          "y": d.y})
    spec = model_spec("sklearn.ensemble.HistGradientBoostingRegressor", params={"max_iter": 200}, early_stopping=ES)
    model, pred = fit_and_predict(np.asfortranarray(d.X), split, spec, {"learning_rate": 0.5})
    own, n_trees = own_fit(spec.estimator, 0.5, np.asfortranarray(d.X[:180]), d.y[:180], None)
    assert model.n_trees_ == n_trees
    assert pred["y_pred"].to_numpy()[180:] == pytest.approx(own.predict(d.X[180:]), rel=1e-12)


# ------------------------------------------------------------------------------ a real run (LightGBM, 2 rounds)


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    import copy

    import yaml

    from conftest import SMALL_CONFIG, TARGET, make_workdir, snakemake

    workdir = tmp_path_factory.mktemp("stopped")
    make_workdir(workdir, n_rows=600)
    cfg = copy.deepcopy(SMALL_CONFIG)
    cfg["model"] = {"estimator": "lightgbm.LGBMRegressor", "params": {"n_estimators": 200, "min_child_samples": 5},
                    "early_stopping": {"rounds": 3, "validation_fraction": 0.2}}
    cfg["hpo"]["grid"] = {"learning_rate": [0.3, 0.8]}
    cfg["rfe"] = {"step": 1, "min_features": 4}
    cfg["plots"] = {"top_features": 0}
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    snakemake(workdir, "-j", "2", TARGET.file("rounds"))  # every round's tables and logs; its test reads no figure
    return workdir


@pytest.mark.slow
def test_a_run_records_the_trees_each_configuration_used(stopped_run):
    from conftest import layout, training_rows

    run = layout(stopped_run)
    X, y, fold = training_rows(run, 0)
    results = pd.read_parquet(run.round_file(0, "results"))
    for i, lr in enumerate([0.3, 0.8]):
        trees, losses = [], []
        for k in range(3):
            fit, held = fold != k, fold == k  # the stopping rows come from the fold's fitting rows alone
            m, n = own_fit("lightgbm.LGBMRegressor", lr, np.asfortranarray(X[fit]), y[fit], None)
            trees.append(n)
            losses.append(float(np.sqrt(np.mean((m.predict(X[held]) - y[held]) ** 2))))
        row = results[results["config_id"] == i].iloc[0]
        assert row["trees_used"] == pytest.approx(np.mean(trees)) and row["trees_used"] < 200
        assert [row[f"fold_{k}"] for k in range(3)] == pytest.approx(losses, rel=1e-9)
    assert "early stopping kept" in (run.log("train_model", 0)).read_text()
