"""LightGBM, XGBoost and CatBoost as first-class estimators (issue 21): the allow-list, refusals, the threads, quiet,
seed and determinism settings each library gets, halving's resource, and one real run per library whose round-0 CV
losses a plain loop in the test recomputes with the library's own estimator on the same folds."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import SMALL_CONFIG, TARGET, layout, make_workdir, model_spec, settings_of, snakemake, training_rows
from rfe_lib import RFEError
from rfe_lib.boosting import LIBRARIES
from rfe_lib.models import build_model, check_grid, import_estimator

LGBM, XGB, CAT = "lightgbm.LGBMRegressor", "xgboost.XGBRegressor", "catboost.CatBoostRegressor"
TREES = {LGBM: "n_estimators", XGB: "n_estimators", CAT: "iterations"}
THREADS = {LGBM: "n_jobs", XGB: "n_jobs", CAT: "thread_count"}


# model.allowed_modules as the schema fills it in (the default allow-list)
DEFAULT_MODULES = tuple(settings_of().model.allowed_modules)


def own_estimator(path: str, **params):
    """The library's own regressor, imported directly (not through rfe_lib)."""
    if path == LGBM:
        import lightgbm

        return lightgbm.LGBMRegressor(**params)
    if path == XGB:
        import xgboost

        return xgboost.XGBRegressor(**params)
    import catboost

    return catboost.CatBoostRegressor(**params)


def tiny(n=300, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    return X, X @ np.arange(1, p + 1) + rng.normal(scale=0.5, size=n)


# ------------------------------------------------------------------------------------------- allow-list, refusals


@pytest.mark.parametrize("path", list(LIBRARIES))
def test_the_default_allow_list_accepts_the_three_regressors(path):
    assert import_estimator(path, DEFAULT_MODULES).__name__ == path.rpartition(".")[2]


@pytest.mark.parametrize("path", ["lightgbm.LGBMClassifier", "xgboost.XGBRFRegressor", "catboost.CatBoost",
                                  "lightgbm.basic.Booster"])
def test_nothing_else_of_those_packages_is_accepted(path):
    with pytest.raises(RFEError, match="not under an allowed module prefix"):
        import_estimator(path, DEFAULT_MODULES)


@pytest.mark.parametrize("path", list(LIBRARIES))
def test_a_missing_package_is_refused_at_parse_time_with_the_install_command(path, monkeypatch, tmp_path):
    from _reliability import parse_time_checks
    from conftest import small_frame

    package = LIBRARIES[path].package
    monkeypatch.setitem(sys.modules, package, None)  # `import <package>` now raises ImportError
    monkeypatch.chdir(tmp_path)
    small_frame(300).to_parquet("data.parquet", index=False)
    cfg = copy.deepcopy(SMALL_CONFIG)
    cfg["model"] = {"estimator": path}
    cfg["hpo"]["grid"] = {"learning_rate": [0.1]}
    with pytest.raises(RFEError) as info:
        parse_time_checks(cfg)
    message = str(info.value)
    assert f"needs the package '{package}'" in message and "pip install 'rfe-pipeline[boost]'" in message
    assert not Path("results").exists()


@pytest.mark.parametrize("path", list(LIBRARIES))
def test_a_grid_key_the_estimator_does_not_take_is_refused(path):
    spec = model_spec(path)
    check_grid(spec, {"learning_rate": [0.1, 0.2], TREES[path]: [10, 20]})
    with pytest.raises(RFEError, match="has no parameter 'max_leaf_nodes'"):
        check_grid(spec, {"max_leaf_nodes": [7]})
    with pytest.raises(RFEError, match=r"model.params.learnin_rate.*did you mean 'learning_rate'"):
        check_grid(model_spec(path, params={"learnin_rate": 0.1}), {"learning_rate": [0.1]})


# ------------------------------------------------------------------------ threads, quiet, seeds and determinism


@pytest.mark.parametrize("path", list(LIBRARIES))
def test_threads_quiet_and_seed_reach_the_estimator(path):
    model = build_model(model_spec(path, threads=3, seed=11), {"learning_rate": 0.2})
    params = model.get_params()
    assert params[THREADS[path]] == 3
    assert params["learning_rate"] == 0.2
    assert params["random_seed" if path == CAT else "random_state"] == 11
    quiet = {LGBM: ("verbose", -1), XGB: ("verbosity", 0), CAT: ("logging_level", "Silent")}[path]
    assert params[quiet[0]] == quiet[1]
    if path == LGBM:
        assert params["deterministic"] is True and params["force_row_wise"] is True
    if path == CAT:
        assert params["allow_writing_files"] is False


def test_what_the_user_sets_explicitly_is_kept():
    lgbm = build_model(model_spec(LGBM, threads=2, params={"verbose": 1, "force_col_wise": True, "n_jobs": 1}))
    p = lgbm.get_params()
    assert p["verbose"] == 1 and p["n_jobs"] == 1 and p["force_col_wise"] is True and "force_row_wise" not in p
    cat = build_model(model_spec(CAT, params={"verbose": 100, "random_state": 5})).get_params()
    assert cat["verbose"] == 100 and "logging_level" not in cat and "random_seed" not in cat
    xgb = build_model(model_spec(XGB, params={"device": "cuda", "verbosity": 2})).get_params()
    assert xgb["device"] == "cuda" and xgb["verbosity"] == 2  # GPU parameters pass through untouched


@pytest.mark.parametrize("path", list(LIBRARIES))
def test_the_same_predictions_with_one_or_two_threads(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = tiny()
    params = {TREES[path]: 30, "subsample": 0.8} if path != CAT else {TREES[path]: 30, "rsm": 0.8}
    if path == LGBM:
        params["subsample_freq"] = 1
    preds = [build_model(model_spec(path, threads=t, params=params)).fit(X, y).predict(X) for t in (1, 2)]
    assert np.array_equal(preds[0], preds[1])
    assert not any(tmp_path.iterdir())  # CatBoost wrote no catboost_info folder


@pytest.mark.parametrize("path", list(LIBRARIES))
def test_halving_spends_the_number_of_trees(path):
    from conftest import settings_of
    from rfe_lib.search.halving import HalvingSearch

    s = settings_of({"hpo": {"search": "halving"}})
    import dataclasses

    s = dataclasses.replace(s, model=dataclasses.replace(s.model, estimator=path, params={TREES[path]: 90}),
                            hpo=dataclasses.replace(s.hpo, grid={"learning_rate": [0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
                                                                                  0.6, 0.7, 0.8]}))
    search = HalvingSearch.from_settings(s.hpo, 9, {"seed": 0, "min_fit_rows": 1000, "model": s.model_spec()})
    assert search.resource == TREES[path] and search.max_resources == 90
    assert [g.params for g in search.rungs_of(9)] == [{TREES[path]: 10}, {TREES[path]: 30}, {TREES[path]: 90}]


# --------------------------------------------------------------------------------- one real run per library

GRID = [0.1, 0.3]


def boost_config(path: str) -> dict:
    cfg = copy.deepcopy(SMALL_CONFIG)
    cfg["model"] = {"estimator": path, "params": {TREES[path]: 15}}
    cfg["hpo"]["grid"] = {"learning_rate": GRID}
    cfg["rfe"] = {"step": 1, "min_features": 4}  # two rounds: 5 -> 4 features
    cfg["plots"] = {"top_features": 0}
    return cfg


@pytest.fixture(scope="module", params=list(LIBRARIES), ids=lambda p: p.partition(".")[0])
def boost_run(request, tmp_path_factory):
    path = request.param
    workdir = tmp_path_factory.mktemp(path.partition(".")[0])
    make_workdir(workdir, n_rows=600)
    (workdir / "config.yaml").write_text(yaml.safe_dump(boost_config(path), sort_keys=False))
    snakemake(workdir, "-j", "2")
    return path, workdir


@pytest.mark.slow
def test_round_0_cv_losses_equal_a_plain_loop_with_the_library(boost_run):
    path, workdir = boost_run
    run = layout(workdir)
    X, y, fold = training_rows(run, 0)
    own = {LGBM: dict(random_state=7, n_jobs=1, verbose=-1, deterministic=True, force_row_wise=True),
           XGB: dict(random_state=7, n_jobs=1, verbosity=0),
           CAT: dict(random_seed=7, thread_count=1, logging_level="Silent", allow_writing_files=False)}[path]
    means = []
    for lr in GRID:
        rmse = []
        for k in range(3):
            fit, held = fold != k, fold == k
            model = own_estimator(path, learning_rate=lr, **{TREES[path]: 15}, **own).fit(X[fit], y[fit])
            rmse.append(float(np.sqrt(np.mean((model.predict(X[held]) - y[held]) ** 2))))
        means.append(np.mean(rmse))
    best = pd.read_parquet(run.round_file(0, "best"))
    assert json.loads(best.at[0, "params"]) == {"learning_rate": GRID[int(np.argmin(means))]}
    assert best.at[0, "mean"] == pytest.approx(min(means), rel=1e-12)


@pytest.mark.slow
def test_the_logs_are_quiet_no_files_are_left_and_no_job_oversubscribes(boost_run):
    path, workdir = boost_run
    run = layout(workdir)
    for log in run.logs_dir.rglob("*.log"):
        text = log.read_text()
        for noise in ("[LightGBM]", "learn:", "validation_0", "Warning"):
            assert noise not in text, f"{log}: {noise!r} in the log"
    assert not (workdir / "catboost_info").exists()
    # the final model's job (hpo.threads: 1) set the library's thread parameter to its one thread
    from rfe_lib.model_file import load_model

    model = load_model(run.round_file(0, "model"), run.root)["model"]
    assert model.get_params()[THREADS[path]] == 1
    # CPU time over wall time of every modelling job given one thread (hpo.threads, importance.threads: 1)
    for tsv in run.benchmarks_dir.rglob("*shard_*.tsv"):
        row = pd.read_csv(tsv, sep="\t").iloc[0]
        assert row["cpu_time"] <= 1.3 * row["s"] + 0.5, f"{tsv.name}: {row['cpu_time']} s CPU in {row['s']} s"


@pytest.mark.slow
def test_the_same_results_with_other_shard_and_thread_counts(boost_run, tmp_path):
    """The same config with 2 HPO and importance shards and 2 threads per job gives the same losses, importances and
    predictions (the libraries' fits do not depend on the thread count, checked end to end)."""
    path, workdir = boost_run
    make_workdir(tmp_path, n_rows=600)
    cfg = boost_config(path)
    cfg["hpo"].update(shards=2, threads=2)
    cfg["importance"] = {"shards": 2, "threads": 2}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    snakemake(tmp_path, "-j", "2", TARGET.file("rounds"))  # every round's tables; no figure, workbook or report
    a, b = layout(workdir), layout(tmp_path)
    for r in (0, 1):
        ra, rb = (pd.read_parquet(x.round_file(r, "results")).drop(columns="fit_seconds") for x in (a, b))
        pd.testing.assert_frame_equal(ra, rb)
        for part in ("importance", "predictions", "metrics"):
            pd.testing.assert_frame_equal(pd.read_parquet(a.round_file(r, part)), pd.read_parquet(b.round_file(r, part)))
