"""Scale behaviour (not timings): streaming HPO shards, copy-free CV views, and the parse-time grid check.

The figures themselves come from the benchmark suite (``python -m bench``, see docs/benchmarks.md).
"""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

import rfe_lib.io as rio
import rfe_lib.search.shards as hpo
from rfe_lib.cv import TrainingData, cv_losses
from rfe_lib.importance import ShardTask
from rfe_lib.importance.lofo import LOFO

from conftest import make_workdir, model_spec, snakemake
from rfe_lib.layout import RESULTS


def lofo_shard(data, spec, params, features, feature_columns, metric, shard, n_shards, out, **kw):
    return LOFO().run_shard(ShardTask(data, spec, params, features, feature_columns, metric, shard, n_shards), out,
                            **kw)


def data(n=150, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ np.arange(1, p + 1) + X[:, 0] ** 2 + rng.normal(scale=0.5, size=n)
    fold = rng.integers(0, 3, n)
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    return TrainingData(X=X, y=y, columns=[f"c{j}" for j in range(p)], folds=folds)


def direct(X, y, folds, make):
    return [float(np.sqrt(np.mean((make().fit(X[f], y[f]).predict(X[h]) - y[h]) ** 2))) for f, h in folds]


def test_hpo_shard_streams_in_batches_and_equals_direct_cv(tmp_path, monkeypatch):
    d = data()
    grid = {"alpha": [0.01, 0.1, 1.0, 3.0, 10.0, 30.0, 100.0]}  # 7 configurations
    held, batches = [], []
    append, score_batch = rio.ParquetBatchWriter.append, hpo.score_batch

    def spy_append(self, row):
        append(self, row)
        held.append(len(self._rows))

    def spy_batch(batch, *args, **kwargs):
        batches.append(len(batch))
        return score_batch(batch, *args, **kwargs)

    monkeypatch.setattr(rio.ParquetBatchWriter, "append", spy_append)
    monkeypatch.setattr(hpo, "score_batch", spy_batch)
    out = tmp_path / "shard.parquet"
    assert hpo.run_shard(d, model_spec("sklearn.linear_model.Ridge"), grid, range(7), "rmse", 0, 1, out,
                         batch_size=2) == 7
    assert batches == [2, 2, 2, 1] and max(held) <= 2  # never more than a batch of rows in memory
    assert pq.ParquetFile(out).num_row_groups == 4  # written batch by batch
    res = pq.read_table(out).to_pandas()
    assert res["config_id"].tolist() == list(range(7))
    for _, row in res.iterrows():
        alpha = json.loads(row["params"])["alpha"]
        expect = direct(d.X, d.y, d.folds, lambda: Ridge(alpha=alpha))
        assert [row[f"fold_{k}"] for k in range(3)] == pytest.approx(expect, rel=1e-12)


class Recorder:
    """A regressor that records what it was given: the arrays must be read-only views of the training matrix."""

    seen = []

    def fit(self, X, y):
        Recorder.seen.append((X, X.flags.writeable))
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        Recorder.seen.append((X, X.flags.writeable))
        return np.full(len(X), self.mean_)


def test_cv_fits_on_read_only_views_and_restores_the_matrix():
    d = data()
    original = d.X.copy()
    Recorder.seen = []
    cv_losses(Recorder, d, "rmse", keep=np.array([0, 2, 3, 4]))
    assert len(Recorder.seen) == 6
    for X, writeable in Recorder.seen:
        assert np.shares_memory(X, d.X) and not writeable  # no copy of the data per fit
        assert X.shape[1] == 4
    assert np.array_equal(d.X, original)  # rows and columns are back in place


def test_cv_restores_the_matrix_when_a_fit_raises():
    d = data()
    original = d.X.copy()

    class Boom(Recorder):
        def fit(self, X, y):
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        cv_losses(Boom, d, "rmse", keep=np.array([1, 2]))
    assert np.array_equal(d.X, original)
    assert cv_losses(lambda: Ridge(), d, "rmse")[0] == pytest.approx(direct(original, d.y, d.folds, Ridge), rel=1e-12)


def test_lofo_with_a_tree_model_equals_a_recomputation_on_the_dropped_matrix_exactly(tmp_path):
    d = data(p=6)
    spec = model_spec("sklearn.ensemble.HistGradientBoostingRegressor", params={"max_iter": 15, "random_state": 0})
    fcols = {"a": ["c0"], "bc": ["c1", "c4"], "d": ["c2"], "e": ["c3"], "f": ["c5"]}  # bc: two non-adjacent columns
    out = tmp_path / "lofo.parquet"
    lofo_shard(d, spec, {"learning_rate": 0.2}, list(fcols), fcols, "rmse", 0, 1, out)
    res = pq.read_table(out).to_pandas().set_index("feature")
    for f, cols in fcols.items():
        keep = [j for j, c in enumerate(d.columns) if c not in cols]
        X = np.ascontiguousarray(d.X[:, keep])  # a plain copy, as X.drop(columns=...) would give
        expect = direct(X, d.y, d.folds, lambda: HistGradientBoostingRegressor(max_iter=15, random_state=0,
                                                                               learning_rate=0.2))
        assert [res.loc[f, f"fold_{k}"] for k in range(3)] == expect  # exactly


def test_oversize_grid_is_refused_at_parse_time_before_any_job(tmp_path):
    make_workdir(tmp_path, {"hpo": {"grid": {"learning_rate": [0.05, 0.1, 0.2], "max_leaf_nodes": [7, 15]},
                                    "max_configs": 4}})
    proc = snakemake(tmp_path, "-j", "1", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert not (tmp_path / RESULTS).exists()  # nothing ran
    assert "hpo.max_configs = 4" in text and "6 configurations" in text
    assert "6 configurations x 3 folds x 3 rounds = 54 HPO fits" in text and "importance fits" in text
    assert "CPU time" in text  # the calibration estimate


def test_dry_run_shows_the_grid_size_fit_count_and_an_estimate(tmp_path):
    make_workdir(tmp_path)
    proc = snakemake(tmp_path, "-n")
    text = proc.stdout + proc.stderr
    assert "4 configurations (limit hpo.max_configs = 5000) x 3 folds x 3 rounds = 36 HPO fits" in text
    assert "fits in all" in text
    assert "estimated CPU time from a calibration fit" in text
