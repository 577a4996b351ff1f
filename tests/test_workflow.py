"""The real workflow on a 2,000-row slice of the example: 3 rounds, 4 configurations, 3 folds."""

import json
import re

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from conftest import SMALL_CONFIG, TARGET, artifact, layout, make_workdir, snakemake

pytestmark = pytest.mark.slow
ROUNDS = 3


def test_rounds_shrink_as_scheduled(small_run):
    counts = [len(artifact(layout(small_run), "features", r)) for r in range(ROUNDS)]
    assert counts == [5, 4, 3]
    for r in range(ROUNDS - 1):
        now = artifact(layout(small_run), "features", r)["feature"].tolist()
        gone = artifact(layout(small_run), "eliminated", r)["feature"].tolist()
        nxt = artifact(layout(small_run), "features", r + 1)["feature"].tolist()
        assert len(gone) == 1 and nxt == [f for f in now if f not in gone]
    assert artifact(layout(small_run), "eliminated", ROUNDS - 1).empty


def test_eliminated_feature_is_the_argmin_of_importance(small_run):
    for r in range(ROUNDS - 1):
        imp = artifact(layout(small_run), "importance", r)
        gone = artifact(layout(small_run), "eliminated", r)["feature"].item()
        lowest = imp.sort_values(["importance_mean", "feature"]).iloc[0]["feature"]
        assert gone == lowest


def test_best_configuration_is_the_lowest_mean(small_run):
    for r in range(ROUNDS):
        res = artifact(layout(small_run), "results", r)
        best = artifact(layout(small_run), "best", r)
        assert len(res) == 4 and res["error"].isna().all()
        assert res["config_id"].tolist() == [0, 1, 2, 3]
        assert best["config_id"].item() == res.sort_values(["mean", "config_id"]).iloc[0]["config_id"]


def _direct_cv(X, y, fold, params):
    """K-fold CV RMSE computed from scratch with scikit-learn, independent of rfe_lib."""
    losses = []
    for k in range(SMALL_CONFIG["split"]["folds"]):
        fit, held = fold != k, fold == k
        model = HistGradientBoostingRegressor(**{**SMALL_CONFIG["model"]["params"], **params,
                                                 "random_state": SMALL_CONFIG["split"]["seed"]})
        pred = model.fit(X[fit], y[fit]).predict(X[held])
        losses.append(np.sqrt(np.mean((pred - y[held]) ** 2)))
    return np.array(losses)


def test_lofo_importance_equals_direct_recomputation(small_run):
    table = artifact(layout(small_run), "table")
    fmap = artifact(layout(small_run), "feature_map")
    split = artifact(layout(small_run), "split")
    train = split[split["set"] == "train"]
    y, fold = train["y"].to_numpy(), train["fold"].to_numpy()
    r = 0
    features = artifact(layout(small_run), "features", r)["feature"].tolist()
    params = json.loads(artifact(layout(small_run), "best", r)["params"].item())
    X_all = table.iloc[train["row"].to_numpy()]
    cols = fmap.loc[fmap["feature"].isin(features), "column"].tolist()
    with_all = _direct_cv(X_all[cols].to_numpy(), y, fold, params)
    imp = artifact(layout(small_run), "importance", r).set_index("feature")
    assert imp["loss_with_all"].iloc[0] == pytest.approx(with_all.mean(), rel=1e-12)
    for f in features:
        drop = fmap.loc[fmap["feature"] == f, "column"].tolist()
        without = _direct_cv(X_all[cols].drop(columns=drop).to_numpy(), y, fold, params)
        got = imp.loc[f, [f"fold_{k}" for k in range(3)]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, without - with_all, rtol=1e-9, atol=1e-9)
        assert imp.loc[f, "importance_mean"] == pytest.approx((without - with_all).mean(), abs=1e-9)
    assert "hour" in fmap.loc[fmap["kind"] == "cyclic", "feature"].tolist()
    assert fmap.loc[fmap["feature"] == "hour", "column"].tolist() == ["hour_sin", "hour_cos"]


def test_summary_and_selection(small_run):
    rounds = artifact(layout(small_run), "rounds")
    selected = artifact(layout(small_run), "selected")
    assert rounds["round"].tolist() == [0, 1, 2] and rounds["n_features"].tolist() == [5, 4, 3]
    for col in ("cv_mean", "cv_std", "val_rmse", "test_rmse", "test_within_25", "params"):
        assert col in rounds.columns
    best_round = int(rounds.sort_values(["cv_mean", "n_features"]).iloc[0]["round"])
    assert set(selected["round"]) == {best_round} and set(selected["rule"]) == {"best"}
    assert sorted(selected["feature"]) == sorted(rounds.loc[best_round, "features"])
    validation = artifact(layout(small_run), "validation")
    assert list(validation.columns) == ["column", "check", "status", "detail"]
    assert not (validation["status"] == "error").any()


def test_progress_lines_in_shard_logs(small_run):
    """In fits, as the plan counts them: 4 configurations x 3 folds (what the progress bar reads from running jobs)."""
    log = layout(small_run).log("hpo_shard_00", 0).read_text()
    assert "HPO round 000 shard 0: 12/12 (100%) elapsed" in log and "ETA" in log


def test_lint_is_clean(small_run):
    proc = snakemake(small_run, "--lint")
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr


def test_with_one_configuration_the_importance_jobs_do_not_wait_for_the_search(tmp_path):
    """A grid of one configuration: the importance shards know the best parameters without the HPO shards, so they
    start beside them; the importances are still the CV losses recomputed from scratch."""
    one = {"learning_rate": [0.2], "max_leaf_nodes": [15]}
    make_workdir(tmp_path, {"hpo": {"grid": one}, "rfe": {"min_features": 4}}, n_rows=800)
    dry = snakemake(tmp_path, "-n", TARGET.round_file(0, "eliminated"))
    blocks = re.split(r"\n(?=\[[^\]]+\]\n(?:local)?rule )", dry.stdout + dry.stderr)
    inputs = {re.search(r"rule (\w+):", b).group(1): re.search(r"input: (.*)", b).group(1)
              for b in blocks if re.search(r"rule (\w+):", b) and re.search(r"input: (.*)", b)}
    shard = TARGET.hpo_shard(0, 0, 0)
    assert shard.rsplit("_", 1)[0] not in inputs["importance_shard"] and shard in inputs["eliminate_000"]
    snakemake(tmp_path, "-j", "2", TARGET.round_file(0, "eliminated"))

    table = artifact(layout(tmp_path), "table")
    fmap = artifact(layout(tmp_path), "feature_map")
    split = artifact(layout(tmp_path), "split")
    train = split[split["set"] == "train"]
    X, y, fold = table.iloc[train["row"].to_numpy()], train["y"].to_numpy(), train["fold"].to_numpy()
    params = {"learning_rate": 0.2, "max_leaf_nodes": 15}
    with_all = _direct_cv(X[fmap["column"].tolist()].to_numpy(), y, fold, params)
    imp = artifact(layout(tmp_path), "importance", 0).set_index("feature")
    for f in imp.index:
        drop = fmap.loc[fmap["feature"] == f, "column"].tolist()
        without = _direct_cv(X[fmap["column"].tolist()].drop(columns=drop).to_numpy(), y, fold, params)
        assert imp.loc[f, "importance_mean"] == pytest.approx((without - with_all).mean(), abs=1e-9)
