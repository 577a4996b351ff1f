"""Budgets on real tables (issues 12 and 13): what each opt-in budget saves and what it costs in loss.

    python -m bench budget [--datasets meats chem_proc_yield bikeshare] [--parts A B C] [--reuse]
    python -m bench.budget table      # the tables of bench/out/budget/*.json (markdown)
    python -m bench.budget estimates  # the plan's wall-time estimate against the finished runs' (issue 19)

Part A (search, issue 12): a HistGradientBoosting grid of 108 configurations, LOFO importance, the same RFE
settings in every run; grid, halving, random and each with ``hpo.carry``. Per run: HPO fit-equivalents (the sum of
``resource_fraction`` over the scored configuration-folds of every ``hpo/results.parquet``), HPO CPU seconds (the
``cpu_time`` of the HPO jobs' ``benchmark:`` files), wall time at ``-j 2``, the regret of every round (the CV loss of
the chosen configuration over the best of the whole grid on the same round's features, both on every row of every
fold: from the exhaustive run when it had a round with those features, else computed here with plain scikit-learn
on the run's own folds, cached per feature set), and the selected round's features and losses.

Part B (importance, issue 13): lofo, permutation and auto, each with ``features.correlated`` report or group and
``rfe.stop`` off or ``{patience: 3, tolerance: 1.0}``, with a small fixed grid. Per run: importance and total fits,
wall time, the selected round's features, validation and test loss, and the Spearman correlation of round 0's
importance ranking with LOFO's (with grouping: with LOFO's over the same groups).

Part C (scale, from the plan alone, no fits): 20,000 rows x 500 features, a 5,000-configuration grid.

Every run is the real workflow at ``-j 2`` from an empty folder (``bench/out/budget/<dataset>/<run>/``), targeting
the summary (``summary/rounds.parquet`` and ``selected.parquet``): every fitting and bookkeeping job, no figures,
report tables or workbook. Each ``snakemake`` run, and the in-process regret computation, holds ``/tmp/bench.lock``
(``flock``) so that other benchmarks on the machine do not overlap it; under
``RFE_BENCH_LOCK_HELD=1 flock /tmp/bench.lock python -m bench budget ...`` the whole suite holds it once instead. Results: ``bench/out/budget/<dataset>.json``
and ``bench/out/budget/scale.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import OUT, REPO, SNAKEFILE, bench_env, layout, machine, matching, targets, write_config

BUDGET = OUT / "budget"
LOCK = "/tmp/bench.lock"
DATA = REPO / "data" / "bench"

# A grid for small tables: 3 x 3 x 4 x 3 = 108 configurations.
GRID_A = {"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [4, 8, 16], "min_samples_leaf": [3, 5, 10, 20],
          "l2_regularization": [0.0, 1.0, 10.0]}
GRID_B = {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [8, 16]}  # 4 configurations
MAX_ITER = 30
RANDOM_CANDIDATES = 20

# Per table: the data and its RFE sizing (identical in every run of the table).
DATASETS = {
    "meats": {"data": {"path": "data/bench/meats.parquet", "target": "fat", "drop": ["water", "protein"]},
              "cyclic": {}, "tolerances": [1, 2, 5], "unit": "% fat", "step": 0.5, "min_features": 10,
              "lofo_below": 30, "threshold": 0.9999},
    "chem_proc_yield": {"data": {"path": "data/bench/chem_proc_yield.parquet", "target": "yield", "drop": []},
                        "cyclic": {}, "tolerances": [0.5, 1, 2], "unit": "yield %", "step": 0.5, "min_features": 5,
                        "lofo_below": 30, "threshold": 0.9},
    "bikeshare": {"data": {"path": "data/example/bikeshare.parquet", "target": "bikers", "drop": []},
                  "cyclic": {"hour": 24, "month": 12, "weekday": 7, "day": 365, "season": 4},
                  "tolerances": [10, 25, 50], "unit": "rentals", "step": 2, "min_features": 4, "lofo_below": 6,
                  "threshold": 0.95},
}

SEARCHES = {
    "grid": {"search": "grid"},
    "halving": {"search": "halving"},
    "random": {"search": "random", "random": {"n_candidates": RANDOM_CANDIDATES}},
    "grid+carry": {"search": "grid", "carry": {"top": "auto", "refresh": 0}},
    "halving+carry": {"search": "halving", "carry": {"top": "auto", "refresh": 0}},
    "random+carry": {"search": "random", "random": {"n_candidates": RANDOM_CANDIDATES},
                     "carry": {"top": "auto", "refresh": 0}},
}
STOP = {"patience": 3, "tolerance": 1.0}
NO_STOP_VARIANTS: set = set()  # tables whose part B runs without the rfe.stop variants (--no-stop-variants)
ONLY_SEARCHES: list = []  # part A runs only these searches (--searches; grid, the reference, always runs)


def run_id(name: str) -> str:
    return name.replace("+", "_")


def base_config(ds: str, name: str, grid: dict) -> dict:
    d = DATASETS[ds]
    return {
        "run_name": run_id(name),
        "data": {"path": str(REPO / d["data"]["path"]), "target": d["data"]["target"], "features": None,
                 "drop": list(d["data"]["drop"]), "id_column": None},
        "features": {"cyclic": dict(d["cyclic"]), "angles": {}, "impute": None},
        "split": {"test_fraction": 0.15, "val_fraction": 0.15, "stratify_bins": 10, "folds": 5, "seed": 42},
        "model": {"estimator": "sklearn.ensemble.HistGradientBoostingRegressor",
                  "params": {"random_state": 0, "max_iter": MAX_ITER, "early_stopping": False}, "scale": False},
        "hpo": {"grid": grid, "metric": "rmse", "search": "grid", "shards": "auto"},
        "rfe": {"step": d["step"], "min_features": d["min_features"], "select": "best", "importance": "lofo",
                "lofo_below": d["lofo_below"]},
        "evaluation": {"tolerances": d["tolerances"]},
        "plots": {"target_unit": d["unit"], "top_features": 4},
    }


def part_a_configs(ds: str) -> dict:
    out = {}
    for name, hpo in SEARCHES.items():
        if ONLY_SEARCHES and name != "grid" and name not in ONLY_SEARCHES:
            continue
        cfg = base_config(ds, name, GRID_A)
        cfg["hpo"].update(hpo)
        out[name] = cfg
    return out


def part_b_configs(ds: str, stops=(None, STOP)) -> dict:
    out = {}
    for imp in ("lofo", "permutation", "auto"):
        for action in ("report", "group"):
            for stop in stops:
                name = f"{imp}/{'group' if action == 'group' else 'none'}/{'stop' if stop else 'all'}"
                cfg = base_config(ds, name.replace("/", "-"), GRID_B)
                cfg["rfe"]["importance"] = imp
                cfg["features"]["correlated"] = {"threshold": DATASETS[ds]["threshold"], "action": action}
                if stop:
                    cfg["rfe"]["stop"] = dict(stop)
                out[name] = cfg
    return out


# ---------------------------------------------------------------------------------------------- running


@contextlib.contextmanager
def machine_lock():
    """Hold /tmp/bench.lock (the lock ``flock /tmp/bench.lock`` takes) for in-process measurements."""
    import fcntl

    if os.environ.get("RFE_BENCH_LOCK_HELD") == "1":  # the whole suite runs under flock /tmp/bench.lock
        yield
        return
    with open(LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_workflow(workdir: Path, cfg: dict, reuse: bool, log=print) -> float | None:
    """The workflow at -j 2 from an empty folder, under ``flock /tmp/bench.lock``; its wall seconds.
    ``reuse``: True skips a finished run; "collect" runs nothing and returns None for a run not finished."""
    name = cfg["run_name"]
    wall_file = workdir / "wall.json"
    done = layout(workdir, name).file("selected")
    if reuse and wall_file.is_file() and done.is_file():
        return json.loads(wall_file.read_text())["wall"]
    if reuse == "collect":
        return None
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    write_config(workdir, cfg)
    summary = [targets(name).file("rounds"), targets(name).file("selected")]
    lock = [] if os.environ.get("RFE_BENCH_LOCK_HELD") == "1" else ["flock", LOCK]
    cmd = [*lock, sys.executable, "-m", "bench.budget", "timed", str(wall_file), "--",
           sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir), "--configfile",
           str(workdir / "config.yaml"), "-j", "2", *summary]
    env = bench_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    with open(workdir / "snakemake.log", "w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{workdir}: snakemake failed; see {workdir / 'snakemake.log'}")
    wall = json.loads(wall_file.read_text())["wall"]
    log(f"    {workdir.parent.name}/{workdir.name}: {wall:.1f} s", flush=True)
    return wall


def timed(wall_file: str, cmd: list[str]) -> int:
    t0 = time.perf_counter()
    rc = subprocess.run(cmd).returncode
    Path(wall_file).write_text(json.dumps({"wall": round(time.perf_counter() - t0, 2), "rc": rc}))
    return rc


# ---------------------------------------------------------------------------------------------- reading a run


def _importance_fits(run, r: int, n_features: int, method: str, folds: int) -> int:
    import pandas as pd

    shards = matching(run.importance_shard(r, "*"))
    if method == "lofo":
        return sum(len(pd.read_parquet(s, columns=["feature"])) for s in shards) * folds
    return folds * len(shards)


def _cpu(bench_tsv: Path) -> float:
    from .common import benchmark_tsv

    row = benchmark_tsv(bench_tsv)
    cpu = float(row.get("cpu_time") or 0.0)
    return cpu if cpu > 0 else float(row["s"])


def read_run(workdir: Path, cfg: dict, wall: float) -> dict:
    """The figures of one finished run, from its artifacts."""
    import numpy as np
    import pandas as pd

    run = layout(workdir, cfg["run_name"])
    folds = cfg["split"]["folds"]
    rounds = pd.read_parquet(run.file("rounds"))
    selected = pd.read_parquet(run.file("selected"))
    fmap = pd.read_parquet(run.file("feature_map"))
    imp, below = cfg["rfe"]["importance"], cfg["rfe"]["lofo_below"]
    per_round = []
    for _, row in rounds.iterrows():
        r = int(row["round"])
        res = pd.read_parquet(run.round_file(r, "results"))
        fold_cols = [c for c in res.columns if c.startswith("fold_")]
        scored = res[fold_cols].notna().sum(axis=1).to_numpy()
        method = imp if imp != "auto" else ("permutation" if row["n_features"] > below else "lofo")
        per_round.append({
            "round": r, "n_features": int(row["n_features"]), "features": sorted(row["features"]),
            "cv_mean": float(row["cv_mean"]), "params": row["params"], "full_search": bool(row["full_search"]),
            "hpo_fits": int(row["hpo_fits"]),
            "hpo_fit_equivalents": float((res["resource_fraction"].to_numpy() * scored).sum()),
            "hpo_fit_equivalents_summary": float(row["hpo_fit_equivalents"]),
            "hpo_fit_seconds": float(res["fit_seconds"].sum()),
            "importance_method": method,
            "importance_fits": _importance_fits(run, r, int(row["n_features"]), method, folds),
            "val_rmse": float(row["val_rmse"]), "test_rmse": float(row["test_rmse"]),
        })
    hpo_cpu = sum(_cpu(f) for f in matching(run.benchmark("hpo_*", "*")))
    imp_cpu = sum(_cpu(f) for f in matching(run.benchmark("importance_*", "*")))
    all_cpu = sum(_cpu(f) for f in run.benchmarks_dir.rglob("*.tsv"))
    sel_round = int(selected["round"].iloc[0])
    sel = next(p for p in per_round if p["round"] == sel_round)
    kinds = dict(zip(fmap["feature"], fmap["kind"]))
    members = fmap.groupby("feature", sort=False)["column"].apply(list).to_dict()

    def expand(features):  # group features to their member columns (original feature names)
        out = set()
        for f in features:
            out.update(members[f] if kinds.get(f) == "group" else [f])
        return sorted(out)

    imp0 = pd.read_parquet(run.round_file(0, "importance"))
    return {
        "run": cfg["run_name"], "wall": wall, "rounds": per_round, "n_rounds": len(per_round),
        "round0_features": per_round[0]["n_features"],
        "hpo_fits": sum(p["hpo_fits"] for p in per_round),
        "hpo_fit_equivalents": round(sum(p["hpo_fit_equivalents"] for p in per_round), 3),
        "hpo_cpu": round(hpo_cpu, 2), "hpo_fit_seconds": round(sum(p["hpo_fit_seconds"] for p in per_round), 2), "importance_cpu": round(imp_cpu, 2), "jobs_cpu": round(all_cpu, 2),
        "importance_fits": sum(p["importance_fits"] for p in per_round),
        "total_fits": sum(p["hpo_fits"] + p["importance_fits"] + 1 for p in per_round),
        "selected_round": sel_round, "selected_n": sel["n_features"],
        "selected_features": expand(selected["feature"].tolist()),
        "val_rmse": sel["val_rmse"], "test_rmse": sel["test_rmse"],
        "held_out": (sel["val_rmse"] + sel["test_rmse"]) / 2,
        "round0_importance": dict(zip(imp0["feature"], imp0["importance_mean"].astype(float))),
        "stopped_early": bool(rounds["stopped_early"].any()) if "stopped_early" in rounds else False,
        "mean_rmse_rounds": float(np.mean([p["cv_mean"] for p in per_round])),
    }


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 1.0


def spearman(a: dict, b: dict) -> float | None:
    from scipy.stats import spearmanr

    common = [f for f in a if f in b]
    if len(common) < 3:
        return None
    return float(spearmanr([a[f] for f in common], [b[f] for f in common]).statistic)


# ---------------------------------------------------------------------------------------------- regret


def _config_rmse(X, y, folds, model_params: dict, params: dict) -> float:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor

    losses = []
    for k in range(int(folds.max()) + 1):
        fit, held = folds != k, folds == k
        m = HistGradientBoostingRegressor(**model_params, **params).fit(X[fit], y[fit])
        losses.append(float(np.sqrt(np.mean((y[held] - m.predict(X[held])) ** 2))))
    return float(np.mean(losses))


def grid_cv(run: Path, features, grid: dict, model_params: dict, configs=None) -> list[float]:
    """The mean CV RMSE of every configuration (``configs``, default the whole grid in ParameterGrid order) on
    ``features``, with plain scikit-learn on the run's own engineered table and folds (``split/indices.parquet``)."""
    import pandas as pd
    from joblib import Parallel, delayed
    from sklearn.model_selection import ParameterGrid

    from rfe_lib.layout import Layout

    paths = Layout(Path(run))
    fmap = pd.read_parquet(paths.file("feature_map"))
    cols = fmap.loc[fmap["feature"].isin(set(features)), "column"].tolist()
    split = pd.read_parquet(paths.file("split"))
    train = split[split["set"] == "train"]
    X = pd.read_parquet(paths.file("table"), columns=cols).to_numpy(dtype=float)[train["row"].to_numpy()]
    y = train["y"].to_numpy(dtype=float)
    folds = train["fold"].to_numpy()
    configs = list(ParameterGrid(grid)) if configs is None else configs
    return Parallel(n_jobs=2)(delayed(_config_rmse)(X, y, folds, model_params, p) for p in configs)


def regrets(ds: str, exhaustive: dict, runs: dict, cfg: dict, log=print) -> dict:
    """Per-round regret (%) of every run against the whole grid's best on the same features."""
    cache_file = BUDGET / ds / "grid_cv_cache.json"
    cache = json.loads(cache_file.read_text()) if cache_file.is_file() else {}
    exhaustive_run = layout(BUDGET / ds / "grid", "grid")
    ex_dir = exhaustive_run.root
    best = {}
    import pandas as pd

    for p in exhaustive["rounds"]:  # the exhaustive run's own rounds: its results on every row of every fold
        res = pd.read_parquet(exhaustive_run.round_file(p["round"], "results"))
        best["|".join(p["features"])] = float(res.loc[res["resource_fraction"] == 1.0, "mean"].min())
    computed = 0
    model_params = cfg["model"]["params"]
    out = {}
    for name, rec in runs.items():
        per = []
        for p in rec["rounds"]:
            key = "|".join(p["features"])
            if key not in best:
                if key not in cache:
                    with machine_lock():
                        cache[key] = min(grid_cv(ex_dir, p["features"], GRID_A, model_params))
                    computed += 1
                    cache_file.write_text(json.dumps(cache))
                best[key] = cache[key]
            per.append(100 * (p["cv_mean"] / best[key] - 1))
        out[name] = per
    log(f"    regret: {computed} feature sets computed in-process ({len(cache)} cached)")
    return out


def check_inprocess(ds: str, cfg: dict, n: int = 6) -> float:
    """Largest relative gap between the in-process CV and the pipeline's, on ``n`` configurations of round 0."""
    import pandas as pd

    exhaustive_run = layout(BUDGET / ds / "grid", "grid")
    ex_dir = exhaustive_run.root
    res = pd.read_parquet(exhaustive_run.round_file(0, "results")).head(n)
    feats = pd.read_parquet(exhaustive_run.round_file(0, "features"))["feature"].tolist()
    with machine_lock():
        mine = grid_cv(ex_dir, feats, GRID_A, cfg["model"]["params"], [json.loads(p) for p in res["params"]])
    return max(abs(a / b - 1) for a, b in zip(mine, res["mean"]))


# ---------------------------------------------------------------------------------------------- parts


def measure_a(ds: str, reuse: bool, log=print) -> dict:
    cfgs = part_a_configs(ds)
    runs = {}
    for name, cfg in cfgs.items():
        wall = run_workflow(BUDGET / ds / run_id(name), cfg, reuse, log)
        if wall is not None:
            runs[name] = read_run(BUDGET / ds / run_id(name), cfg, wall)
    ex = runs["grid"]
    reg = regrets(ds, ex, runs, cfgs["grid"], log)
    for name, rec in runs.items():
        rec["regret"] = reg[name]
        rec["regret_median"] = statistics.median(reg[name])
        rec["regret_max"] = max(reg[name])
        rec["jaccard"] = jaccard(rec["selected_features"], ex["selected_features"])
        rec.pop("round0_importance")
    old = json.loads((BUDGET / f"{ds}.json").read_text()).get("A", {}) if (BUDGET / f"{ds}.json").is_file() else {}
    check = old.get("inprocess_check_max_rel_gap") if reuse == "collect" else None
    return {"grid": GRID_A, "configs": math.prod(len(v) for v in GRID_A.values()), "runs": runs,
            "inprocess_check_max_rel_gap": check if check is not None else check_inprocess(ds, cfgs["grid"]),
            "settings": settings_text(cfgs["grid"])}


def measure_b(ds: str, reuse: bool, log=print) -> dict:
    cfgs = part_b_configs(ds, (None,) if ds in NO_STOP_VARIANTS else (None, STOP))
    runs = {}
    for name, cfg in cfgs.items():
        wd = BUDGET / ds / "b" / cfg["run_name"]
        wall = run_workflow(wd, cfg, reuse, log)
        if wall is not None:
            runs[name] = read_run(wd, cfg, wall)
    ref = runs["lofo/none/all"]
    for name, rec in runs.items():
        group_ref = runs.get("lofo/group/all", {"round0_importance": {}}) if "/group/" in name else ref
        rec["jaccard"] = jaccard(rec["selected_features"], ref["selected_features"])
        rec["spearman_round0"] = spearman(rec["round0_importance"], group_ref["round0_importance"])
        rec["held_out_vs_lofo"] = 100 * (rec["held_out"] / ref["held_out"] - 1)
    for rec in runs.values():
        rec.pop("round0_importance")
    grouped = runs["lofo/group/all"]["round0_features"] if "lofo/group/all" in runs else None
    return {"grid": GRID_B, "runs": runs, "threshold": DATASETS[ds]["threshold"], "features_grouped": grouped,
            "settings": settings_text(cfgs["lofo/none/all"])}


def settings_text(cfg: dict) -> str:
    r = cfg["rfe"]
    return (f"HistGradientBoosting max_iter={cfg['model']['params']['max_iter']} (no early stopping), "
            f"{cfg['split']['folds']} folds, rfe.step {r['step']}, min_features {r['min_features']}, select best, "
            f"lofo_below {r['lofo_below']}")


def scale_config(grid: dict) -> dict:
    cfg = {
        "run_name": "scale",
        "data": {"path": str(BUDGET / "scale" / "scale.parquet"), "target": "target"},
        "features": {"angles": {f"angle{a}": "degrees" for a in range(3)}},
        "split": {"folds": 5, "seed": 42},
        "model": {"estimator": "sklearn.ensemble.HistGradientBoostingRegressor",
                  "params": {"random_state": 0, "max_iter": 100, "early_stopping": False}},
        "hpo": {"grid": grid, "metric": "rmse", "search": "grid", "max_configs": 5000},
        "rfe": {"step": 0.1, "min_features": 10, "importance": "lofo"},
    }
    return cfg


GRID_C = {"learning_rate": [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5],
          "max_leaf_nodes": [4, 8, 12, 16, 24, 31, 48, 63, 96, 127],
          "min_samples_leaf": [5, 10, 20, 30, 40, 60, 80, 100, 150, 200],
          "l2_regularization": [0.0, 0.01, 0.1, 1.0, 10.0]}  # 10 x 10 x 10 x 5 = 5,000


def measure_c(log=print) -> dict:
    """HPO fit-equivalents and importance fits from the plan (rfe_lib.plan, as the Snakefile makes it): no fits."""
    from snakemake.utils import validate

    from rfe_lib.importance import round_methods
    from rfe_lib.plan import make_plan
    from rfe_lib.plan.fits import round_fits, totals
    from rfe_lib.schema import SCHEMA_PATH, check_config
    from rfe_lib.settings import Settings

    from .common import make_data

    path = BUDGET / "scale" / "scale.parquet"
    if not path.is_file():
        make_data(path, 20_000, 497, n_angles=3)
    cases = {"grid": {}, "halving": {"search": "halving"}, "halving+carry": {"search": "halving", "carry": {}},
             "random": {"search": "random"}, "random+carry": {"search": "random", "carry": {}},
             "grid+carry": {"carry": {}},
             "halving factor 4+carry": {"search": "halving", "halving": {"factor": 4}, "carry": {}},
             "halving+carry top 50": {"search": "halving", "carry": {"top": 50}}}
    cpus = 2
    out = {"rows": 20_000, "features": 500, "configs": math.prod(len(v) for v in GRID_C.values()), "cpus": cpus,
           "search": {}, "importance": {}}
    for name, hpo in [*((n, h) for n, h in cases.items()),
                      *(("importance:" + m, {"importance": m}) for m in ("lofo", "permutation", "auto"))]:
        cfg = scale_config(GRID_C)
        if name.startswith("importance:"):
            cfg["rfe"]["importance"] = hpo["importance"]
        else:
            cfg["hpo"].update(hpo)
        check_config(cfg)
        validate(cfg, str(SCHEMA_PATH))
        settings = Settings.from_config(cfg)
        plan = make_plan(settings)
        methods = round_methods(settings, plan.schedule)
        shards = [m.shards(settings.importance.shards, n, plan.n_folds, cpus) for n, m in zip(plan.schedule, methods)]
        t = totals(round_fits(plan, settings, shards))
        if name.startswith("importance:"):
            out["importance"][name.split(":")[1]] = {"importance_fits": t["importance"], "total_fits": t["fits"]}
        else:
            out["search"][name] = {"hpo_fits": t["hpo"], "hpo_fit_equivalents": round(t["hpo_equivalents"], 1),
                                   "exhaustive": t["hpo_exhaustive"]}
        out["rounds"] = plan.n_rounds
        out["schedule"] = plan.schedule
        log(f"    {name}: {t}")
    return out


# ---------------------------------------------------------------------------------------------- estimates

PRESET_OF = {"grid": "exhaustive", "grid+carry": "grid+carry", "halving+carry": "halving+carry",
             "random+carry": "random+carry"}


def estimates(log=print, recalibrate: bool = False) -> list[dict]:
    """The plan's wall-time estimate at -j 2 (rfe_lib.plan.presets, from each finished run's own cached plan)
    against the run's measured wall time, and where it misses: the calibration fit's seconds against the HPO
    jobs' measured seconds per fit-equivalent, and the jobs' count."""
    import yaml

    from rfe_lib.plan import Plan
    from rfe_lib.plan.presets import Machine, presets, waves
    from rfe_lib.settings import Settings

    out = []
    for ds in DATASETS:
        rec_file = BUDGET / f"{ds}.json"
        if not rec_file.is_file():
            continue
        runs = json.loads(rec_file.read_text()).get("A", {}).get("runs", {})
        for name, rec in runs.items():
            wd = BUDGET / ds / run_id(name)
            plans = sorted((wd / ".snakemake" / "rfe-plan").glob("*.json"))
            if name not in PRESET_OF or len(plans) != 1:
                continue
            plan = Plan(**json.loads(plans[0].read_text()))
            settings = Settings.from_config(yaml.safe_load((wd / "config.yaml").read_text()))
            if recalibrate:  # the plan as this code makes it now (its calibration fits made again, here)
                from rfe_lib.plan import make_plan

                with machine_lock():
                    plan = make_plan(settings)
            table = {p.name: p for p in presets(plan, settings, 2, [Machine(2)])}
            preset = table.get(PRESET_OF[name])
            if preset is None or preset.wall[0] is None:
                continue
            n_jobs = sum(j for _, j in waves(plan, preset.settings, 2))
            measured_spf = rec["hpo_fit_seconds"] / rec["hpo_fit_equivalents"] if rec.get("hpo_fit_seconds") else None
            row = {"dataset": ds, "run": name, "column_fixed_share": plan.column_fixed_share, "rows": plan.n_rows, "features": len(plan.features),
                   "rounds": plan.n_rounds, "estimate_s": round(preset.wall[0], 1), "wall_s": rec["wall"],
                   "ratio": round(rec["wall"] / preset.wall[0], 2), "calibration_spf": plan.seconds_per_fit,
                   "hpo_spf_measured": measured_spf, "jobs_cpu_s": rec.get("jobs_cpu"),
                   "estimated_cpu_s": round(preset.cpu_seconds, 1), "jobs_estimated": n_jobs}
            log(f"    {ds}/{name}: estimate {row['estimate_s']} s, wall {row['wall_s']} s (x{row['ratio']}); "
                f"calibration {plan.seconds_per_fit:.3g} s/fit, HPO measured "
                f"{measured_spf if measured_spf is None else round(measured_spf, 4)} s/fit-equivalent", flush=True)
            out.append(row)
    return out


# ---------------------------------------------------------------------------------------------- tables


def _f(x, nd=1):
    return "n/a" if x is None else f"{x:,.{nd}f}"


def table_a(ds: str, rec: dict) -> list[str]:
    a = rec["A"]
    runs = a["runs"]
    ex = runs["grid"]
    out = [f"#### {ds}: search (issue 12), {a['configs']} configurations, LOFO", "",
           f"{a['settings']}; {ex['n_rounds']} rounds ({ex['rounds'][0]['n_features']} -> "
           f"{ex['rounds'][-1]['n_features']} features). In-process CV vs the pipeline's on round 0: largest relative "
           f"gap {a['inprocess_check_max_rel_gap']:.1e}.", "",
           "| search | HPO fits | HPO fit-equivalents | fewer | HPO CPU (s) | less | HPO fit s | wall -j 2 (s) | "
           "regret median (%) | regret max (%) | selected (features) | Jaccard | val RMSE | test RMSE | test vs grid |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in runs.items():
        out.append(
            f"| {name} | {r['hpo_fits']:,} | {_f(r['hpo_fit_equivalents'], 0)} | "
            f"{ex['hpo_fit_equivalents'] / r['hpo_fit_equivalents']:.1f}x | {_f(r['hpo_cpu'])} | "
            f"{ex['hpo_cpu'] / r['hpo_cpu']:.1f}x | {_f(r.get('hpo_fit_seconds'))} | {_f(r['wall'])} | {r['regret_median']:.2f} | "
            f"{r['regret_max']:.2f} | round {r['selected_round']} ({r['selected_n']}) | {r['jaccard']:.2f} | "
            f"{r['val_rmse']:.4g} | {r['test_rmse']:.4g} | {100 * (r['test_rmse'] / ex['test_rmse'] - 1):+.1f}% |")
    out += ["", targets_a(ds, rec), ""]
    return out


def best_budgeted(runs: dict) -> tuple[str, dict]:
    """The budgeted search with the fewest HPO fit-equivalents among those within 2% test loss and under 1% median
    regret; if none qualifies, the one with the fewest fit-equivalents."""
    ex = runs["grid"]
    cands = {n: r for n, r in runs.items() if n != "grid"}
    ok = {n: r for n, r in cands.items() if r["test_rmse"] <= 1.02 * ex["test_rmse"] and r["regret_median"] < 1.0}
    pool = ok or cands
    name = min(pool, key=lambda n: pool[n]["hpo_fit_equivalents"])
    return name, pool[name]


def targets_a(ds: str, rec: dict) -> str:
    runs = rec["A"]["runs"]
    ex = runs["grid"]
    name, r = best_budgeted(runs)
    fe = ex["hpo_fit_equivalents"] / r["hpo_fit_equivalents"]
    cpu = ex["hpo_cpu"] / r["hpo_cpu"]
    test = 100 * (r["test_rmse"] / ex["test_rmse"] - 1)
    checks = [("≥5x fewer HPO fit-equivalents", fe >= 5, f"{fe:.1f}x"), ("≥4x less HPO CPU", cpu >= 4, f"{cpu:.1f}x"),
              ("test loss within 2%", test <= 2, f"{test:+.1f}%"),
              ("median regret <1%", r["regret_median"] < 1, f"{r['regret_median']:.2f}%")]
    return (f"Targets, best budgeted setting ({name}): "
            + "; ".join(f"{t}: {v} **{'met' if ok else 'missed'}**" for t, ok, v in checks) + ".")


def table_b(ds: str, rec: dict) -> list[str]:
    b = rec["B"]
    runs = b["runs"]
    ref = runs["lofo/none/all"]
    out = [f"#### {ds}: importance (issue 13), {math.prod(len(v) for v in b['grid'].values())} configurations", "",
           f"{b['settings']}; correlated threshold {b['threshold']} (group: {ref['round0_features']} features -> "
           f"{b['features_grouped']} features or groups in round 0). Spearman: round 0's importance ranking against "
           "LOFO's (with grouping, against LOFO with the same groups).", "",
           "| importance / correlated / stop | rounds | importance fits | fewer | total fits | wall -j 2 (s) | "
           "selected (features) | Jaccard | val RMSE | test RMSE | held-out | vs LOFO | Spearman r0 |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in runs.items():
        out.append(
            f"| {name} | {r['n_rounds']}{' (stopped)' if r['stopped_early'] else ''} | {r['importance_fits']:,} | "
            f"{ref['importance_fits'] / r['importance_fits']:.1f}x | {r['total_fits']:,} | {_f(r['wall'])} | "
            f"round {r['selected_round']} ({len(r['selected_features'])}) | {r['jaccard']:.2f} | {r['val_rmse']:.4g} | "
            f"{r['test_rmse']:.4g} | {r['held_out']:.4g} | {r['held_out_vs_lofo']:+.1f}% | "
            f"{_f(r['spearman_round0'], 2)} |")
    auto = runs.get("auto/none/all")
    if auto is None:
        return out + ["", "(auto not measured)", ""]
    fewer = ref["importance_fits"] / auto["importance_fits"]
    verdict = (f"≥3x on meats: {'**met**' if fewer >= 3 else '**missed**'}" if ds == "meats"
               else "the ≥3x target is set for meats")
    out += ["", f"Targets: auto {fewer:.1f}x fewer importance fits than LOFO ({verdict}); "
            f"held-out loss of auto {auto['held_out_vs_lofo']:+.1f}% vs exhaustive LOFO (within 2% or better: "
            f"{'**met**' if auto['held_out_vs_lofo'] <= 2 else '**missed**'}). Selected features count members of "
            "groups.", ""]
    return out


def table_c(rec: dict) -> list[str]:
    s, i = rec["search"], rec["importance"]
    ex = s["grid"]["hpo_fit_equivalents"]
    out = [f"#### Scale, from the plan alone ({rec['rows']:,} rows x {rec['features']} features, {rec['configs']:,} "
           f"configurations, 5 folds, rfe.step 0.1, min_features 10: {rec['rounds']} rounds)", "",
           "| search | HPO fits | HPO fit-equivalents | fewer than grid |", "| --- | ---: | ---: | ---: |"]
    for name, r in s.items():
        out.append(f"| {name} | {r['hpo_fits']:,} | {r['hpo_fit_equivalents']:,.0f} | {ex / r['hpo_fit_equivalents']:.1f}x |")
    lofo = i["lofo"]["importance_fits"]
    out += ["", "| importance | fits | fewer than LOFO |", "| --- | ---: | ---: |"]
    for name, r in i.items():
        out.append(f"| {name} | {r['importance_fits']:,} | {lofo / r['importance_fits']:.1f}x |")
    hc = ex / s["halving+carry"]["hpo_fit_equivalents"]
    au = lofo / i["auto"]["importance_fits"]
    meets = [n for n, r in s.items() if "halving" in n and ex / r["hpo_fit_equivalents"] >= 50]
    out += ["", f"Targets: halving+carry with the defaults {hc:.0f}x fewer HPO fit-equivalents (≥50x: "
            f"{'**met**' if hc >= 50 else '**missed**'}{'; met by ' + ', '.join(meets) if meets and hc < 50 else ''}); "
            f"auto {au:.0f}x fewer importance fits (≥10x: {'**met**' if au >= 10 else '**missed**'}); permutation "
            f"importance shards counted for {rec['cpus']} CPUs.", ""]
    return out


def load_results() -> dict:
    out = {}
    for f in sorted(BUDGET.glob("*.json")):
        out[f.stem] = json.loads(f.read_text())
    return out


def tables() -> list[str]:
    res = load_results()
    if not res:
        return []
    first = next(iter(res.values()))
    m = first["machine"]
    out = [f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores; snakemake {m['versions']['snakemake']}, "
           f"scikit-learn {m['versions']['scikit-learn']}. Load when each table's runs finished is in "
           "`bench/out/budget/*.json`.", ""]
    for ds in DATASETS:
        if ds in res:
            if "A" in res[ds]:
                out += table_a(ds, res[ds])
            if "B" in res[ds]:
                out += table_b(ds, res[ds])
    if "scale" in res:
        out += table_c(res["scale"])
    return out


def save(name: str, rec: dict) -> None:
    BUDGET.mkdir(parents=True, exist_ok=True)
    path = BUDGET / f"{name}.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    old.update(rec)
    old["machine"] = machine()
    path.write_text(json.dumps(old, indent=1, default=str))


def measure(datasets, parts, reuse: bool, log=print) -> None:
    if "C" in parts:
        log("[budget] C: scale from the plan", flush=True)
        save("scale", measure_c(log))
    for ds in datasets:
        for part, fn in (("A", measure_a), ("B", measure_b)):
            if part in parts:
                t0 = time.perf_counter()
                log(f"[budget] {ds} {part}", flush=True)
                rec = fn(ds, reuse, log)
                rec["seconds"] = round(time.perf_counter() - t0, 1)
                save(ds, {part: rec})
                log(f"[budget] {ds} {part} done in {rec['seconds']} s", flush=True)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["timed"]:
        sep = argv.index("--")
        return timed(argv[1], argv[sep + 1:])
    if argv[:1] == ["table"]:
        print("\n".join(tables()))
        return 0
    if argv[:1] == ["estimates"]:  # the plan's estimate against finished runs' wall time (issue 19)
        rows = estimates(recalibrate="--recalibrate" in argv)
        BUDGET.mkdir(parents=True, exist_ok=True)
        (BUDGET / "estimates.json").write_text(json.dumps(rows, indent=1))
        return 0
    ap = argparse.ArgumentParser(prog="python -m bench budget", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--parts", nargs="+", default=["A", "B", "C"], choices=["A", "B", "C"])
    ap.add_argument("--reuse", action="store_true", help="skip runs whose summary exists (do not rerun them)")
    ap.add_argument("--collect", action="store_true", help="run nothing: tables from the runs finished so far")
    ap.add_argument("--no-stop-variants", nargs="*", default=[], metavar="DATASET",
                    help="part B of these tables without the rfe.stop runs (half the runs)")
    ap.add_argument("--searches", nargs="+", default=[], choices=list(SEARCHES),
                    help="part A with only these searches (and grid, the reference)")
    args = ap.parse_args(argv)
    ONLY_SEARCHES.extend(args.searches)
    NO_STOP_VARIANTS.update(args.no_stop_variants)
    measure(args.datasets, args.parts, "collect" if args.collect else args.reuse, log=lambda *a, **k: print(*a, **{"flush": True, **k}))
    print("\n".join(tables()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
