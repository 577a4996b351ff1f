import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import Ridge

from rfe_lib import RFEError
from rfe_lib.cv import TrainingData, cv_losses
from rfe_lib.elimination import eliminate, next_features
from rfe_lib.importance import importance_table as importance
from rfe_lib.importance import ShardTask
from rfe_lib.importance.lofo import LOFO
from rfe_lib.schedule import shard_items
from rfe_lib.search.results import best_config, check_complete, merge_shards
from rfe_lib.search.shards import fold_stats, run_shard as search_shard

from types import SimpleNamespace

from conftest import model_spec, settings_of
from rfe_lib.search import search_strategy


def run_shard(data, spec, grid, metric, shard, n_shards, out, **kw):
    from rfe_lib.grid import grid_size

    return search_shard(data, spec, grid, range(grid_size(grid)), metric, shard, n_shards, out, **kw)


def lofo_shard(data, spec, params, features, feature_columns, metric, shard, n_shards, out, **kw):
    return LOFO().run_shard(ShardTask(data, spec, params, features, feature_columns, metric, shard, n_shards), out,
                            **kw)


def data(n=120, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ np.arange(1, p + 1) + rng.normal(scale=0.5, size=n)
    fold = np.arange(n) % 3
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    return TrainingData(X=X, y=y, columns=[f"c{j}" for j in range(p)], folds=folds)


def direct_cv(X, y, folds, alpha):
    out = []
    for fit, held in folds:
        pred = Ridge(alpha=alpha).fit(X[fit], y[fit]).predict(X[held])
        out.append(float(np.sqrt(np.mean((pred - y[held]) ** 2))))
    return out


def test_shards_are_disjoint_and_cover_the_grid():
    ids = [i for s in range(3) for i in shard_items(range(10), s, 3)]
    assert sorted(ids) == list(range(10))


def test_hpo_shards_equal_direct_cv_and_merge_in_order(tmp_path):
    d = data()
    spec = model_spec("sklearn.linear_model.Ridge")
    grid = {"alpha": [0.01, 1.0, 10.0, 100.0, 1000.0]}
    paths = []
    for s in range(2):
        paths.append(tmp_path / f"shard_{s}.parquet")
        run_shard(d, spec, grid, "rmse", s, 2, paths[-1], batch_size=2)
    res = merge_shards(paths)
    assert res["config_id"].tolist() == [0, 1, 2, 3, 4]
    for _, row in res.iterrows():
        alpha = json.loads(row["params"])["alpha"]
        expect = direct_cv(d.X, d.y, d.folds, alpha)
        assert [row[f"fold_{k}"] for k in range(3)] == pytest.approx(expect, rel=1e-12)
        assert row["mean"] == pytest.approx(np.mean(expect))
        assert row["std"] == pytest.approx(np.std(expect, ddof=1))
        assert row["param_alpha"] == alpha
    assert pq.ParquetFile(paths[0]).num_row_groups == 2  # 3 rows streamed in batches of 2


def test_failing_configuration_is_recorded_not_fatal(tmp_path):
    d = data()
    spec = model_spec("sklearn.linear_model.Ridge")
    run_shard(d, spec, {"alpha": [1.0], "solver": ["auto", "no-such-solver"]}, "rmse", 0, 1, tmp_path / "s.parquet")
    res = merge_shards([tmp_path / "s.parquet"])
    assert res["error"].isna().tolist() == [True, False]
    assert "no-such-solver" in res.loc[1, "error"]
    assert best_config(res)["config_id"].item() == 0


def test_best_config_ties_go_to_lowest_id_and_all_failed_is_refused():
    res = pd.DataFrame({"config_id": [0, 1, 2], "mean": [2.0, 1.0, 1.0], "error": [None, None, None], "rung": 0})
    assert best_config(res)["config_id"].item() == 1
    failed = pd.DataFrame({"config_id": [0], "mean": [None], "error": ["ValueError: boom"], "rung": 0})
    with pytest.raises(RFEError, match="(?s)every one of the 1 hyperparameter configurations failed.*boom"):
        best_config(failed)


def test_lofo_equals_direct_recomputation(tmp_path):
    d = data()
    spec = model_spec("sklearn.linear_model.Ridge")
    features = ["f01", "f2", "f3"]  # f01 is one feature with two columns
    fcols = {"f01": ["c0", "c1"], "f2": ["c2"], "f3": ["c3"]}
    paths = [tmp_path / f"l{s}.parquet" for s in range(2)]
    for s, p in enumerate(paths):
        lofo_shard(d, spec, {"alpha": 1.0}, features, fcols, "rmse", s, 2, p)
    shards = pd.concat([pd.read_parquet(p) for p in paths])
    with_all = direct_cv(d.X, d.y, d.folds, 1.0)
    best = pd.DataFrame([{"params": '{"alpha": 1.0}', **{f"fold_{k}": v for k, v in enumerate(with_all)},
                          "mean": np.mean(with_all)}])
    imp = importance(shards, best)
    for f, cols in fcols.items():
        keep = [j for j, c in enumerate(d.columns) if c not in cols]
        without = direct_cv(d.X[:, keep], d.y, d.folds, 1.0)
        row = imp.set_index("feature").loc[f]
        assert [row[f"fold_{k}"] for k in range(3)] == pytest.approx(np.subtract(without, with_all), rel=1e-9)
        assert row["importance_mean"] == pytest.approx(np.mean(without) - np.mean(with_all))
    assert imp["importance_mean"].is_monotonic_decreasing
    assert imp.iloc[0]["feature"] == "f3"  # the largest coefficient


def test_lofo_of_a_single_feature_uses_the_constant_predictor():
    d = data(p=1)
    losses, _ = cv_losses(lambda: Ridge(), d, "rmse", keep=np.array([], dtype=int))
    expect = [float(np.sqrt(np.mean((d.y[h] - d.y[f].mean()) ** 2))) for f, h in d.folds]
    assert losses == pytest.approx(expect)


def test_shard_features_partition():
    feats = list("abcdefg")
    parts = [shard_items(feats, s, 3) for s in range(3)]
    assert sorted(sum(parts, [])) == feats


def test_eliminate_lowest_with_ties_by_name():
    imp = pd.DataFrame({"feature": ["b", "a", "c", "d"], "importance_mean": [0.1, 0.1, 5.0, -1.0]})
    assert eliminate(imp, 2)["feature"].tolist() == ["d", "a"]
    assert eliminate(imp, 0).empty
    assert next_features(["a", "b", "c", "d"], ["d", "a"]) == ["b", "c"]


def test_fold_stats():
    assert fold_stats([1.0, 2.0, 3.0]) == pytest.approx((2.0, 1.0))


def test_merges_refuse_incomplete_or_overlapping_shards():
    grid = settings_of({"hpo": {"grid": {"learning_rate": [0.1, 0.2, 0.3], "max_leaf_nodes": [15]}}})
    search = search_strategy(grid, SimpleNamespace(n_configs=3, min_fit_rows=100))
    check_complete(pd.DataFrame({"config_id": [0, 1, 2], "rung": 0}), search, 0)
    with pytest.raises(RFEError, match="different shard counts"):
        check_complete(pd.DataFrame({"config_id": [0, 0, 2], "rung": 0}), search, 0)
    with pytest.raises(RFEError, match="different shard counts"):
        check_complete(pd.DataFrame({"config_id": [0, 1], "rung": 0}), search, 0)
    shards = pd.DataFrame({"feature": ["a", "a"], "fold_0": [1.0, 1.0]})
    best = pd.DataFrame({"params": ["{}"], "fold_0": [0.5]})
    with pytest.raises(RFEError, match="not the round's features"):
        importance(shards, best, expected=["a", "b"])
