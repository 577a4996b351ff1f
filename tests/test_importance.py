"""Importance methods (issue 13): permutation importance recomputed independently with plain numpy and scikit-learn on
the same folds and seeds, and ``auto`` (permutation while a round has many features, LOFO after) in a real run."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

from conftest import TARGET, layout, make_workdir, model_spec, settings_of, snakemake
from rfe_lib.cv import TrainingData
from rfe_lib.importance import ImportanceMethod, ShardTask, importance_table, round_methods
from rfe_lib.importance.permutation import Permutation


def data(n=180, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ np.array([3.0, 0.0, 1.0, 2.0, 0.5]) + rng.normal(scale=0.5, size=n)
    fold = np.arange(n) % 3
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    return TrainingData(X=X, y=y, columns=[f"c{j}" for j in range(p)], folds=folds)


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def direct_permutation(X, y, folds, make, columns, seed, r, feature, repeats):
    """Per fold: the mean held-out RMSE over ``repeats`` shuffles of ``columns`` (one row order for all of them),
    seeded (seed, round, crc32(feature), fold) as documented; and the unshuffled RMSE."""
    shuffled, plain = [], []
    for k, (fit, held) in enumerate(folds):
        model = make().fit(X[fit], y[fit])
        plain.append(rmse(model.predict(X[held]), y[held]))
        rng = np.random.default_rng([seed, r, zlib.crc32(feature.encode()), k])
        losses = []
        for _ in range(repeats):
            order = rng.permutation(len(held))
            Xh = X[held].copy()
            Xh[:, columns] = Xh[order][:, columns]
            losses.append(rmse(model.predict(Xh), y[held]))
        shuffled.append(float(np.mean(losses)))
    return np.array(shuffled), np.array(plain)


@pytest.mark.parametrize("n_shards", [1, 2])
def test_permutation_importance_equals_a_direct_recomputation(tmp_path, n_shards):
    d = data()
    method = Permutation(repeats=4, seed=11, round=2)
    features = {"a": ["c0"], "bd": ["c1", "c3"], "c": ["c2"], "e": ["c4"]}  # bd: one feature of two columns
    paths = [tmp_path / f"p{s}.parquet" for s in range(n_shards)]
    for s, path in enumerate(paths):
        method.run_shard(ShardTask(d, model_spec("sklearn.linear_model.Ridge"), {"alpha": 1.0}, list(features),
                                   features, "rmse", s, n_shards), path)
    shards = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    assert np.array_equal(d.X, data().X)  # every shuffle undone
    base = None
    for feature, cols in features.items():
        positions = [int(c[1:]) for c in cols]
        shuffled, plain = direct_permutation(d.X, d.y, d.folds, lambda: Ridge(alpha=1.0), positions, 11, 2, feature, 4)
        row = shards.set_index("feature").loc[feature]
        np.testing.assert_allclose(row[["fold_0", "fold_1", "fold_2"]].to_numpy(float), shuffled, rtol=1e-12)
        base = plain
    # the importance table: shuffled minus unshuffled loss, the unshuffled loss being the search's best (the same fit)
    best = pd.DataFrame([{"params": json.dumps({"alpha": 1.0}), **{f"fold_{k}": v for k, v in enumerate(base)}}])
    imp = importance_table(shards, best, list(features)).set_index("feature")
    shuffled, _ = direct_permutation(d.X, d.y, d.folds, lambda: Ridge(alpha=1.0), [0], 11, 2, "a", 4)
    assert imp.loc["a", "importance_mean"] == pytest.approx(np.mean(shuffled - base), rel=1e-12)
    assert imp.index[0] == "a" and imp.loc["bd", "importance_mean"] > imp.loc["c", "importance_mean"] > 0
    assert method.fits(4, 3, n_shards) == 3 * n_shards  # one fit per fold and shard, not per feature


@dataclass(frozen=True)
class HeldMean(ImportanceMethod):
    """A toy method: only how one feature is measured. Its "loss" in fold k is the mean, over the fold's held-out
    rows, of the sum of the feature's columns and the target, plus k and a thousandth of the fold's fitting rows;
    each measurement claims 0.25 fit seconds, and each fold's setup 1.0 s shared by the shard's features."""

    name = "held_mean"
    title = "held-out mean"
    definition = axis_label = "toy"

    def fold_setup(self, task, fold):
        return 1.0

    def measure(self, task, fold, feature):
        held = fold.X_held[:, task.positions(feature)].sum(axis=1) + fold.y_held
        return float(held.mean()) + fold.k + len(fold.y_fit) / 1000, 0.25


@pytest.mark.parametrize("n_shards", [1, 3])
def test_a_new_method_supplies_only_its_measure_and_the_base_loop_does_the_rest(tmp_path, n_shards):
    """The shard loop (base class): each shard gets features i % n_shards, every fold's rows arranged for the method,
    one row per feature with each fold's value, their mean and the fit seconds; the rows put back afterwards."""
    d = data(n=61)
    X0 = d.X.copy()
    features = {"a": ["c0"], "bd": ["c1", "c3"], "c": ["c2"], "e": ["c4"]}
    task = ShardTask(d, model_spec("sklearn.linear_model.Ridge"), {}, list(features), features, "rmse")
    paths = []
    for s in range(n_shards):
        paths.append(tmp_path / f"s{s}.parquet")
        written = HeldMean().run_shard(replace(task, shard=s, n_shards=n_shards), paths[-1])
        got = pd.read_parquet(paths[-1])
        assert written == len(got) and got["feature"].tolist() == list(features)[s::n_shards]
        for _, row in got.iterrows():  # recomputed from the original matrix and the folds' held-out positions
            cols = [int(c[1:]) for c in features[row["feature"]]]
            want = [(X0[held][:, cols].sum(axis=1) + d.y[held]).mean() + k + len(fit) / 1000
                    for k, (fit, held) in enumerate(d.folds)]
            np.testing.assert_allclose(row[["fold_0", "fold_1", "fold_2"]].to_numpy(float), want, rtol=1e-12)
            assert row["loss_mean"] == pytest.approx(np.mean(want), rel=1e-12)
            assert row["fit_seconds"] == pytest.approx(3 * 0.25 + 3 * 1.0 / written)
    np.testing.assert_array_equal(d.X, X0)  # the rows are back in their order
    assert sorted(pd.concat(pd.read_parquet(p) for p in paths)["feature"]) == sorted(features)


def test_a_shuffle_moves_a_features_columns_together():
    d = data(n=30)
    before = d.X.copy()
    d.fold_views(0)
    held = len(d.folds[0][1])
    order = np.arange(held)[::-1]
    with d.held_rows_shuffled(0, [0, 2], order):
        start = len(d.folds[0][0])
        block = d.X[start:, :].copy()
    d.restore_rows()
    original = before[d.folds[0][1]]
    np.testing.assert_array_equal(block[:, [0, 2]], original[order][:, [0, 2]])  # the same row order for both
    np.testing.assert_array_equal(block[:, 1], original[:, 1])  # the other column untouched
    np.testing.assert_array_equal(d.X, before)


def test_auto_uses_permutation_while_many_features_remain_then_lofo():
    settings = settings_of({"rfe": {"importance": "auto", "lofo_below": 4}})
    methods = round_methods(settings, [8, 6, 4, 3])
    assert [m.name for m in methods] == ["permutation", "permutation", "lofo", "lofo"]
    assert [m.round for m in methods[:2]] == [0, 1]  # seeds differ by round
    assert methods[0].fits(8, 5, 2) == 10 and methods[2].fits(4, 5, 2) == 20


@pytest.mark.slow
def test_an_auto_run_uses_permutation_then_lofo_recomputed_independently(tmp_path):
    make_workdir(tmp_path, {"rfe": {"importance": "auto", "lofo_below": 4, "shuffles": 3, "min_features": 3},
                            "hpo": {"grid": {"learning_rate": [0.1], "max_leaf_nodes": [15]}},
                            "plots": {"top_features": 1}}, n_rows=900)
    proc = snakemake(tmp_path, "-j", "2", TARGET.file("workbook"))  # the tables and the workbook it reads; no figure
    assert "permutation importance (rounds 0) then LOFO importance (rounds 1-2)" in proc.stdout + proc.stderr
    run = layout(tmp_path)
    split = pd.read_parquet(run.file("split"))
    table = pd.read_parquet(run.file("table"))
    fmap = pd.read_parquet(run.file("feature_map"))
    train = split[split["set"] == "train"]
    X = table.iloc[train["row"].to_numpy()][fmap["column"].tolist()].to_numpy()
    y, fold = train["y"].to_numpy(), train["fold"].to_numpy()
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]

    def make():
        return HistGradientBoostingRegressor(max_iter=30, learning_rate=0.1, max_leaf_nodes=15, random_state=7)

    imp = pd.read_parquet(run.round_file(0, "importance")).set_index("feature")
    best = pd.read_parquet(run.round_file(0, "best"))
    for feature in imp.index:
        positions = [i for i, f in enumerate(fmap["feature"]) if f == feature]
        shuffled, plain = direct_permutation(X, y, folds, make, positions, 7, 0, feature, 3)
        np.testing.assert_allclose(plain, best[["fold_0", "fold_1", "fold_2"]].to_numpy(float)[0], rtol=1e-9)
        assert imp.loc[feature, "importance_mean"] == pytest.approx(np.mean(shuffled - plain), abs=1e-9)
    sheet = pd.read_excel(run.file("workbook"), sheet_name="Importance")
    assert sheet.groupby("round")["method"].first().tolist() == ["permutation", "lofo", "lofo"]
