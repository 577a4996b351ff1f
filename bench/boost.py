"""LightGBM, XGBoost and CatBoost against HistGradientBoosting (issue 21): ``python -m bench boost``.

For each estimator, with one thread (the pipeline's ``threads: 1`` mapped to the library's parameter, and every
thread pool limited to one), default parameters and 100 trees:

- *fit*: one fit on fold 0's fitting rows (5 folds of the 70% training rows), as an HPO job makes it;
- *round*: (on the bundled example; at the seed's scale estimated as 10 times the fit, predictions left out, since the
  shared machine was too busy for 40 more fits at that scale) what a round of the pipeline does at least, in process with the jobs' own functions: the HPO shard of a
  one-configuration grid (5 fold fits, scored) and the permutation importance of every feature (5 refits, one
  shuffle per feature and fold); plus a LOFO round's cost, estimated as (features x folds) times the fit time;
- *CPU / wall*: process CPU time over wall time of that round (of the fit, at the seed's scale): above 1 would mean
  more than the one thread ran;
- *plan estimate*: the plan's own estimate (``rfe_lib.plan``: its calibration fit of the grid's first configuration
  on 5,000 rows, scaled to a fold's rows, times every fit of the run) for the seed-scale run: 20,000 rows x 500
  features, a 5,000-configuration grid of the library's own parameters, 5 folds, rfe.step 0.1, min_features 10
  (43 rounds), LOFO importance, on one core.

At the seed's scale (20,000 x 500, bench/common.make_data) and on the bundled example (8,645 x 12). Prints a Markdown
table and writes ``bench/out/boost.json``. ``python -m bench boost --seed-round`` measures the round at the seed's
scale too (``bench/out/boost_seed_round.json``).
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path

from . import common

ESTIMATORS = {
    "HistGradientBoosting": ("sklearn.ensemble.HistGradientBoostingRegressor", {"max_iter": 100}),
    "LightGBM": ("lightgbm.LGBMRegressor", {"n_estimators": 100}),
    "XGBoost": ("xgboost.XGBRegressor", {"n_estimators": 100}),
    "CatBoost": ("catboost.CatBoostRegressor", {"iterations": 100}),
}
# 5,000 configurations of each library's own parameters (10 x 10 x 10 x 5), as the seed's HistGradientBoosting grid
LR = [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5]
GRIDS = {
    "HistGradientBoosting": None,  # bench/budget.py's GRID_C
    "LightGBM": {"learning_rate": LR, "num_leaves": [4, 8, 12, 16, 24, 31, 48, 63, 96, 127],
                 "min_child_samples": [5, 10, 20, 30, 40, 60, 80, 100, 150, 200],
                 "reg_lambda": [0.0, 0.01, 0.1, 1.0, 10.0]},
    "XGBoost": {"learning_rate": LR, "max_depth": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
                "min_child_weight": [1, 2, 3, 5, 8, 10, 15, 20, 30, 50], "reg_lambda": [0.0, 0.01, 0.1, 1.0, 10.0]},
    "CatBoost": {"learning_rate": LR, "depth": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                 "l2_leaf_reg": [0.1, 0.3, 1, 2, 3, 5, 8, 10, 20, 30], "random_strength": [0.0, 0.5, 1.0, 2.0, 5.0]},
}
OUT = common.OUT / "boost.json"


def _tables():
    import numpy as np
    import pandas as pd

    path = common.OUT / "work" / "boost" / "seed.parquet"
    if not path.is_file():
        common.make_data(path, 20_000, 497, n_angles=3)
    seed = pd.read_parquet(path)
    example = pd.read_parquet(common.REPO / "data" / "example" / "bikeshare.parquet")
    out = {}
    for name, df, target in (("seed scale (20,000 x 500)", seed, "target"),
                             ("bundled example (8,645 x 12)", example, "bikers")):
        X = np.asfortranarray(df.drop(columns=[target]).to_numpy(dtype=float))
        out[name] = (X, df[target].to_numpy(dtype=float), list(df.drop(columns=[target]).columns), path)
    return out


def _folds(n: int, seed: int = 42):
    """5 folds of a 70% training share, as the pipeline's split makes them (stratification aside)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    train = np.sort(rng.permutation(n)[: int(0.7 * n)])
    fold = rng.integers(0, 5, len(train))
    return train, [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(5)]


def measure_one(path: str, params: dict, X, y, columns, whole_round: bool = True) -> dict:
    import numpy as np
    from threadpoolctl import threadpool_limits

    from rfe_lib.cv import TrainingData
    from rfe_lib.importance import ShardTask
    from rfe_lib.importance.permutation import Permutation
    from rfe_lib.models import ModelSpec, build_model, fit_model
    from rfe_lib.search.shards import run_shard

    train, folds = _folds(len(y))
    data = TrainingData(X=np.asfortranarray(X[train]), y=y[train], columns=columns, folds=folds)
    spec = ModelSpec(path, params, False, None, None, ("sklearn.",), 42, threads=1)
    tmp = Path(tempfile.mkdtemp(prefix="bench-boost-"))
    with threadpool_limits(limits=1):
        X_fit, _ = data.fold_views(0)
        model = build_model(spec)
        t0, c0 = time.perf_counter(), time.process_time()
        fit_model(model, X_fit, data.y[folds[0][0]])
        fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        data.restore_rows()
        if not whole_round:
            return {"fit_s": round(fit_s, 2), "fit_cpu_s": round(fit_cpu, 2), "round_s": None,
                    "round_cpu_s": round(fit_cpu * 10, 1), "cpu_per_wall": round(fit_cpu / fit_s, 2),
                    "lofo_round_estimate_cpu_s": round(fit_cpu * (len(columns) + 1) * 5, 0)}
        wall0, cpu0 = time.perf_counter(), time.process_time()
        run_shard(data, spec, {"learning_rate": [0.1]}, [0], "rmse", 0, 1, tmp / "hpo.parquet")
        Permutation(repeats=1, seed=42, round=0).run_shard(
            ShardTask(data, spec, {"learning_rate": 0.1}, columns, {c: [c] for c in columns}, "rmse"),
            tmp / "imp.parquet")
        round_s, cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"fit_s": round(fit_s, 2), "fit_cpu_s": round(fit_cpu, 2), "round_s": round(round_s, 1),
            "round_cpu_s": round(cpu_s, 1), "cpu_per_wall": round(cpu_s / round_s, 2),
            "lofo_round_estimate_cpu_s": round(fit_cpu * (len(columns) + 1) * 5, 0),
            "catboost_info": Path("catboost_info").exists()}


def plan_estimate(name: str, path: str, params: dict, data_path: Path) -> dict:
    """The plan's estimate of the seed-scale run with this estimator (as `snakemake -n` prints it)."""
    from snakemake.utils import validate

    from rfe_lib.plan import make_plan
    from rfe_lib.plan.fits import round_fits, totals
    from rfe_lib.schema import SCHEMA_PATH, check_config
    from rfe_lib.settings import Settings

    from .budget import GRID_C, scale_config

    cfg = scale_config(GRIDS[name] or GRID_C)
    cfg["data"]["path"] = str(data_path)
    cfg["model"] = {"estimator": path, "params": dict(params)}
    cfg["hpo"]["threads"] = 1
    check_config(cfg)
    validate(cfg, str(SCHEMA_PATH))
    settings = Settings.from_config(cfg)
    plan = make_plan(settings)
    t = totals(round_fits(plan, settings, [1] * plan.n_rounds))
    cpu = plan.seconds_per_fit * t["total"] if plan.seconds_per_fit is not None else None
    return {"calibration_s_per_fit": round(plan.seconds_per_fit, 3) if plan.seconds_per_fit else None,
            "fits": t["total"], "rounds": plan.n_rounds, "cpu_days": round(cpu / 86400, 1) if cpu else None}


def measure(log=print) -> dict:  # noqa: D401 - log takes print's flush=
    rec = {"machine": common.machine(), "tables": {}, "plan": {}}
    tables = _tables()
    for i, (table, (X, y, columns, seed_path)) in enumerate(tables.items()):
        rec["tables"][table] = {}
        for name, (path, params) in ESTIMATORS.items():
            # at the seed's scale the round is estimated from the fit (this machine is too busy for 40 more fits)
            rec["tables"][table][name] = r = measure_one(path, params, X, y, columns, whole_round=i > 0)
            log(f"  {table} {name}: {r}", flush=True)
    seed_path = next(iter(tables.values()))[3]
    for name, (path, params) in ESTIMATORS.items():
        rec["plan"][name] = p = plan_estimate(name, path, params, seed_path)
        log(f"  plan {name}: {p}", flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rec, indent=1, default=str))
    return rec


def table(rec: dict) -> list[str]:
    lines = []
    for t, by_est in rec["tables"].items():
        lines += [f"#### {t}, one thread, 100 trees", "",
                  "| estimator | one fit: CPU s (wall s) | one round, HPO 1 config + permutation: CPU s (wall s) | "
                  "CPU / wall | LOFO round, estimated CPU s |", "| --- | ---: | ---: | ---: | ---: |"]
        for name, r in by_est.items():
            rnd = (f"{r['round_cpu_s']:.1f} ({r['round_s']:.1f})" if r["round_s"] is not None
                   else f"{r['round_cpu_s']:.0f}, estimated: 10 x the fit")
            lines.append(f"| {name} | {r['fit_cpu_s']:.2f} ({r['fit_s']:.2f}) | {rnd} | {r['cpu_per_wall']:.2f} | "
                         f"{r['lofo_round_estimate_cpu_s']:,.0f} |")
        lines.append("")
    lines += ["#### The plan's estimate of the seed-scale run (5,000 configurations, 5 folds, 43 rounds, LOFO, one core)",
              "", "| estimator | calibration fit (s, scaled to a fold) | fits | CPU time |", "| --- | ---: | ---: | ---: |"]
    for name, p in rec["plan"].items():
        cal = "n/a" if p["calibration_s_per_fit"] is None else f"{p['calibration_s_per_fit']:.3f}"
        cpu = "n/a" if p["cpu_days"] is None else f"{p['cpu_days']:,.1f} days"
        lines.append(f"| {name} | {cal} | {int(p['fits']):,} | {cpu} |")
    return lines


def seed_round(log=print) -> dict:
    """The round measured at the seed's scale (``python -m bench boost --seed-round``): for each estimator, the
    one-configuration HPO shard and the permutation importance of all 500 features, in process, one thread.
    Writes ``bench/out/boost_seed_round.json``."""
    table = next(iter(_tables().items()))
    X, y, columns, _ = table[1]
    rec = {"machine": common.machine(), "table": table[0], "rounds": {}}
    for name, (path, params) in ESTIMATORS.items():
        rec["rounds"][name] = r = measure_one(path, params, X, y, columns, whole_round=True)
        log(f"  {table[0]} {name}: {r}", flush=True)
    out = common.OUT / "boost_seed_round.json"
    out.write_text(json.dumps(rec, indent=1, default=str))
    return rec


def main(argv=None) -> int:
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if argv and argv[0] == "--seed-round":
        rec = seed_round()
        print("| estimator | one fit: CPU s (wall s) | one round, HPO 1 config + permutation of 500 features: CPU s (wall s) "
              "| CPU / wall |\n| --- | ---: | ---: | ---: |")
        for name, r in rec["rounds"].items():
            print(f"| {name} | {r['fit_cpu_s']:.2f} ({r['fit_s']:.2f}) | {r['round_cpu_s']:.1f} ({r['round_s']:.1f}) "
                  f"| {r['cpu_per_wall']:.2f} |")
        return 0
    rec = measure()
    print("\n".join(table(rec)))
    return 0
