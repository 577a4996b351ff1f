"""Memory and time of one HPO shard job and one LOFO shard job, as the grid and the feature count grow.

Every figure comes from a real rule job: the suite prepares a results folder with Snakemake (data
validation, split, feature engineering), then asks Snakemake for one shard's output file and reads
that job's kernel peak RSS (see :mod:`bench.common`) and Snakemake's ``benchmark:`` file.

* HPO: Ridge, 5 folds, a grid of ``alpha`` values cut into 8 shards (the production layout of the
  issue); the table shows shard 0, which streams an eighth of the grid.
* LOFO: HistGradientBoostingRegressor (the pipeline's default estimator; ``max_iter=20``,
  ``early_stopping=False``: with early stopping on, the estimator itself copies its training rows for
  the validation split), 5 folds, on N features; ``lofo.shards`` is set so that shard 0 scores
  ``per_shard`` features (a shard's memory does not depend on how many it scores: see the extra row
  with a larger shard). The same jobs with ``DummyRegressor`` (no working memory of its own) show
  the pipeline's own share.
"""

from __future__ import annotations

import math

from .common import MB, benchmark_tsv, clear_peaks, job_peaks, make_data, snakemake, targets, write_config

N_ANGLES = 3
FOLDS = 5


def _base_config(data_part: dict, run: str) -> dict:
    return {
        "run_name": run,
        **data_part,
        "split": {"test_fraction": 0.15, "val_fraction": 0.15, "stratify_bins": 10, "folds": FOLDS, "seed": 0},
    }


def _table_mb(n_rows: int, n_features: int) -> float:
    """Size of the engineered float64 table: numeric features one column each, angles two."""
    return n_rows * (n_features - N_ANGLES + 2 * N_ANGLES) * 8 / MB


def _measure(workdir, target: str, bench_file: str, script: str, forcerun: str) -> dict:
    clear_peaks(workdir)
    _, wall = snakemake(workdir, "-j", "1", "--forcerun", forcerun, "--", target, rss=True)
    peaks = job_peaks(workdir, script)
    if len(peaks) != 1:
        raise RuntimeError(f"expected one {script} job, found {len(peaks)}")
    tsv = benchmark_tsv(workdir / bench_file)
    return {"peak_rss_mb": round(peaks[0]["maxrss_mb"], 1), "job_seconds": round(peaks[0]["seconds"], 2),
            "snakemake_max_rss_mb": tsv.get("max_rss"), "benchmark_s": float(tsv["s"]), "snakemake_wall": round(wall, 2)}


def hpo(n_rows: int, sizes, n_numeric: int = 164, shards: int = 8, log=print) -> list[dict]:
    """Shard 0's peak RSS and time for grids of each size in ``sizes``."""
    from .common import OUT

    workdir = OUT / "work" / f"hpo_{n_rows}"
    data_part = make_data(workdir / "data.parquet", n_rows, n_numeric, N_ANGLES)
    rows = []
    for n in sizes:
        alphas = [float(f"{a:.6g}") for a in (10 ** (-3 + 6 * i / max(1, n - 1)) for i in range(n))]
        alphas = sorted(set(alphas))
        while len(alphas) < n:  # rounding merged a few values: top up with distinct ones
            alphas.append(alphas[-1] * 1.001)
        cfg = {**_base_config(data_part, "b"),
               "model": {"estimator": "sklearn.linear_model.Ridge", "params": {}},
               "hpo": {"grid": {"alpha": alphas[:n]}, "shards": shards, "max_configs": max(n, 5000)},
               "rfe": {"step": 1, "min_features": n_numeric + N_ANGLES - 1},
               "importance": {"shards": 1}}
        write_config(workdir, cfg)
        run = targets("b")
        snakemake(workdir, "-j", "2", "--", run.round_file(0, "features"))  # prepare (not measured)
        rec = _measure(workdir, run.hpo_shard(0, 0, 0), run.benchmark("hpo_shard_00", 0), "hpo_shard.py", "hpo_shard")
        rec.update(configs=n, shard_configs=len(range(0, n, shards)), rows=n_rows,
                   columns=n_numeric + 2 * N_ANGLES, table_mb=round(_table_mb(n_rows, n_numeric + N_ANGLES), 1))
        rec["seconds_per_fit"] = round(rec["job_seconds"] / (rec["shard_configs"] * FOLDS), 4)
        log(f"  HPO {n} configurations: {rec}")
        rows.append(rec)
    return rows


MODELS = {
    "hgb": {"estimator": "sklearn.ensemble.HistGradientBoostingRegressor",
            "params": {"max_iter": 20, "early_stopping": False, "random_state": 0}, "grid": {"learning_rate": [0.1]}},
    # no working memory of its own: what is left is the pipeline's (data, views, bookkeeping)
    "dummy": {"estimator": "sklearn.dummy.DummyRegressor", "params": {}, "grid": {"strategy": ["mean"]}},
}


def lofo(n_rows: int, sizes, per_shard: int, extra_large_shard: int | None = None, model: str = "hgb",
         log=print) -> list[dict]:
    """Peak RSS and time of a LOFO shard job scoring ``per_shard`` features, for each feature count."""
    from .common import OUT

    cases = [(n, per_shard) for n in sizes]
    if extra_large_shard:
        cases.append((sizes[0], extra_large_shard))
    rows = []
    for n, k in cases:
        workdir = OUT / "work" / f"lofo_{n_rows}_{n}"
        if not (workdir / "data.parquet").is_file():
            make_data(workdir / "data.parquet", n_rows, n - N_ANGLES, N_ANGLES)
        data_part = {"data": {"path": "data.parquet", "target": "target"},
                     "features": {"angles": {f"angle{a}": "degrees" for a in range(N_ANGLES)}}}
        m = MODELS[model]
        cfg = {**_base_config(data_part, "b"),
               "model": {"estimator": m["estimator"], "params": m["params"]},
               "hpo": {"grid": m["grid"], "shards": 1},
               "rfe": {"step": 1, "min_features": n - 1},
               "importance": {"shards": math.ceil(n / k)}}
        write_config(workdir, cfg)
        run = targets("b")
        snakemake(workdir, "-j", "2", "--", run.round_file(0, "best"))  # prepare (not measured)
        rec = _measure(workdir, run.importance_shard(0, 0), run.benchmark("importance_shard_00", 0),
                       "importance_shard.py", "importance_shard")
        n_columns = n - N_ANGLES + 2 * N_ANGLES
        rec.update(model=model, features=n, shard_features=len(range(0, n, math.ceil(n / k))), rows=n_rows, columns=n_columns,
                   table_mb=round(_table_mb(n_rows, n), 1), train_matrix_mb=round(n_rows * 0.7 * n_columns * 8 / MB, 1))
        rec["seconds_per_feature"] = round(rec["job_seconds"] / rec["shard_features"], 2)
        log(f"  LOFO {n} features, {rec['shard_features']} in the shard: {rec}")
        rows.append(rec)
    return rows
