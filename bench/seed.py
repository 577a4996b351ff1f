"""The seed's workload (issue 19): a synthetic table of the seed's shape with a known truth, run under a time box.

    python -m bench seed                      # 20,000 x 500, the 5,000-configuration grid, budget: {hours: 3}
    python -m bench seed --rows 1000 --features 45 --grid small --step 0.5 --hours 1   # a smoke run, 4 rounds
    python -m bench seed --data-only          # write the table and its truth, run nothing

Run at full scale on 2026-12-05 (docs/benchmarks.md, "The seed's workload, run"): the box chose random + carry with
``rfe.importance: auto``, 46.5 min against an estimate of 77 min; run again after the carried pool began to follow
the best configuration (``--name seed_20000x500_full_neighbours``): 31.8 min against 70. The table: ``n_features`` columns, of which 30 carry the signal (12 linear, 6 nonlinear, 6 in three
pairwise interactions, a cyclic ``hour`` (period 24), an angle ``wind_dir`` (degrees), and 4 threshold effects);
10 of the informative columns have a correlated copy (``copy_<name>``, correlation about 0.95, no signal of its own);
the rest is noise (Gaussian, uniform and integer-valued). The truth goes beside the table (``truth.json``).

The run is the real workflow at ``-j 2`` (``bench/out/seed/<name>/``, targeting the summary). Reported: the wall
time against the plan's estimate of the chosen preset; recall and precision of the informative features in the
selected set (strict, and counting a copy as its original); the held-out (test) RMSE of the selected round against
an oracle model fitted on exactly the true features and against one fitted on every feature (both
HistGradientBoosting with the selected round's parameters, fitted on the run's training rows); the peak memory of
any job (``max_rss`` of the jobs' benchmark files). Results: ``bench/out/seed/<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rfe_lib.layout import Layout

from .common import OUT, machine

SEED_OUT = OUT / "seed"
N_INFORMATIVE = 30
N_COPIES = 10
GRID_SMALL = {"learning_rate": [0.05, 0.1, 0.3], "max_leaf_nodes": [8, 16, 31], "min_samples_leaf": [10, 40]}


def make_table(path: Path, n_rows: int = 20_000, n_features: int = 500, seed: int = 0) -> dict:
    """Write the table (Parquet) and return its truth: ``informative`` (the 30 columns the target depends on),
    ``copies`` (copy -> original), ``cyclic``, ``angles``, and the noise level."""
    import numpy as np
    import pandas as pd

    if n_features < N_INFORMATIVE + N_COPIES + 1:
        raise SystemExit(f"--features must be at least {N_INFORMATIVE + N_COPIES + 1}")
    rng = np.random.default_rng(seed)
    n = n_rows
    cols: dict[str, np.ndarray] = {}
    y = np.zeros(n)
    lin = [f"lin{i:02d}" for i in range(12)]
    for i, name in enumerate(lin):  # linear, falling weights
        cols[name] = rng.normal(size=n)
        y += (3.0 - 0.2 * i) * cols[name]
    shapes = [np.sin, np.square, np.abs, lambda v: np.tanh(2 * v), lambda v: np.exp(-v ** 2), lambda v: v ** 3 / 3]
    nonlin = [f"nl{i}" for i in range(6)]
    for name, f in zip(nonlin, shapes):  # nonlinear
        cols[name] = rng.uniform(-2.5, 2.5, n)
        y += 2.0 * f(cols[name])
    inter = [f"ia{i}" for i in range(6)]
    for a, b in zip(inter[0::2], inter[1::2]):  # interactions in pairs, no main effect
        cols[a], cols[b] = rng.normal(size=n), rng.normal(size=n)
        y += 2.0 * cols[a] * cols[b]
    cols["hour"] = rng.integers(0, 24, n).astype(float)
    y += 3.0 * np.cos(2 * np.pi * cols["hour"] / 24) + 1.5 * np.sin(2 * np.pi * cols["hour"] / 24)
    cols["wind_dir"] = rng.uniform(0, 360, n)
    y += 2.5 * np.cos(np.deg2rad(cols["wind_dir"] - 225.0))
    steps = [f"step{i}" for i in range(4)]
    for i, name in enumerate(steps):  # threshold effects
        cols[name] = rng.uniform(0, 1, n)
        y += 2.0 * (cols[name] > 0.3 + 0.1 * i)
    informative = lin + nonlin + inter + ["hour", "wind_dir"] + steps
    assert len(informative) == N_INFORMATIVE
    copies = {}
    for name in (lin[:4] + nonlin[:3] + inter[:2] + steps[:1]):  # correlated copies (no signal of their own)
        x = cols[name]
        copies[f"copy_{name}"] = name
        cols[f"copy_{name}"] = x + 0.33 * x.std() * rng.normal(size=n)
    k = 0
    while len(cols) < n_features:  # noise
        kind = k % 3
        cols[f"noise{k:03d}"] = (rng.normal(size=n) if kind == 0 else rng.uniform(-3, 3, n) if kind == 1
                                 else rng.integers(0, 10, n).astype(float))
        k += 1
    noise_sd = 0.5 * y.std()
    y = y + rng.normal(scale=noise_sd, size=n)
    order = list(cols)
    rng.shuffle(order)  # no telling position
    df = pd.DataFrame({c: cols[c] for c in order})
    df["target"] = y
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)
    truth = {"informative": informative, "copies": copies, "cyclic": {"hour": 24}, "angles": {"wind_dir": "degrees"},
             "noise_sd": float(noise_sd), "rows": n_rows, "features": n_features, "seed": seed}
    (path.parent / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def config(path: Path, truth: dict, grid: dict, hours: float | None, name: str, step: float = 0.1) -> dict:
    cfg = {
        "run_name": name,
        "data": {"path": str(path), "target": "target"},
        "features": {"cyclic": dict(truth["cyclic"]), "angles": dict(truth["angles"])},
        "split": {"folds": 5, "seed": 42},
        "model": {"estimator": "sklearn.ensemble.HistGradientBoostingRegressor",
                  "params": {"random_state": 0, "max_iter": 100, "early_stopping": False}},
        "hpo": {"grid": grid, "metric": "rmse", "max_configs": 5000},
        "rfe": {"step": step, "min_features": 10},
        "plots": {"top_features": 0},
    }
    if hours is not None:
        cfg["budget"] = {"hours": hours}
    return cfg


def scores(selected: list[str], truth: dict) -> dict:
    inf = set(truth["informative"])
    sel = set(selected)
    as_original = {truth["copies"].get(f, f) for f in sel}
    hit, hit_c = len(sel & inf), len(as_original & inf)
    return {"recall": hit / len(inf), "precision": hit / max(len(sel), 1),
            "recall_copies_as_originals": hit_c / len(inf), "precision_copies_as_originals":
                len([f for f in sel if truth["copies"].get(f, f) in inf]) / max(len(sel), 1)}


def oracle_losses(run: Path, truth: dict, params: dict, model_params: dict) -> dict:
    """Test RMSE of HistGradientBoosting with ``params`` fitted on the run's training rows: on exactly the true
    features' model columns, and on every column."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingRegressor

    fmap = pd.read_parquet(Layout(run).file("feature_map"))
    split = pd.read_parquet(Layout(run).file("split"))
    table = pd.read_parquet(Layout(run).file("table"))
    train, test = split[split["set"] == "train"], split[split["set"] == "test"]
    out = {}
    for label, feats in (("oracle", set(truth["informative"])), ("all", set(fmap["feature"]))):
        cols = fmap.loc[fmap["feature"].isin(feats), "column"].tolist()
        X = table[cols].to_numpy(dtype=float)
        m = HistGradientBoostingRegressor(**model_params, **params).fit(X[train["row"]], train["y"])
        out[f"{label}_test_rmse"] = float(np.sqrt(np.mean((m.predict(X[test["row"]]) - test["y"].to_numpy()) ** 2)))
    return out


def estimate(workdir: Path, cfg: dict) -> dict:
    """The plan's estimate of the run at -j 2 (the preset the box chose), from the run's own cached plan."""
    import os

    from rfe_lib.plan import Plan
    from rfe_lib.plan.presets import budget_plan
    from rfe_lib.settings import Settings

    (cached,) = sorted((workdir / ".snakemake" / "rfe-plan").glob("*.json"))[-1:]
    plan = Plan(**json.loads(cached.read_text()))
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        settings = Settings.from_config(cfg)
    finally:
        os.chdir(cwd)
    b = budget_plan(plan, settings, cores=2, cpus=int(os.environ.get("RFE_AUTO_SHARDS", os.cpu_count() or 1)))
    if b.chosen is None:  # no box: the configured settings, which no preset need match
        return {"preset": None, "estimate_s": None, "seconds_per_fit": plan.seconds_per_fit}
    return {"preset": b.chosen.name, "why": b.why, "estimate_s": b.chosen.wall[0], "seconds_per_fit": plan.seconds_per_fit,
            "fits": b.chosen.fits, "fit_equivalents": b.chosen.fit_equivalents, "waves": b.chosen.waves}


def measure(rows: int, features: int, grid_name: str, hours: float | None, name: str, data_only: bool,
            step: float = 0.1, reuse: bool = False) -> dict:
    import pandas as pd

    from .budget import GRID_C, read_run, run_workflow
    from .common import benchmark_tsv

    wd = SEED_OUT / name
    data = SEED_OUT / f"{name}_data" / "seed.parquet"
    truth_file = data.parent / "truth.json"
    if reuse and data.is_file() and truth_file.is_file():  # the same table: a finished run stays valid
        truth = json.loads(truth_file.read_text())
    else:
        truth = make_table(data, rows, features)
    print(f"[seed] table {data} ({rows} x {features}); truth in {data.parent / 'truth.json'}", flush=True)
    if data_only:
        return {"truth": truth}
    cfg = config(data, truth, GRID_C if grid_name == "full" else GRID_SMALL, hours, name, step)
    wall = run_workflow(wd, cfg, reuse=reuse)
    est = estimate(wd, cfg)
    # what the run used: the box's preset may have set rfe.importance (read_run counts importance fits by it)
    used = json.loads(json.dumps(cfg))
    used["rfe"].update({"importance": "auto" if "importance auto" in (est["preset"] or "") else "lofo",
                        "lofo_below": 30})
    rec = read_run(wd, used, wall)
    run = wd / "results" / name
    selected = pd.read_parquet(Layout(run).file("selected"))
    rounds = pd.read_parquet(Layout(run).file("rounds")).set_index("round")
    sel_round = int(selected["round"].iloc[0])
    params = json.loads(rounds.loc[sel_round, "params"])
    peaks = [float(benchmark_tsv(f).get("max_rss") or 0.0) for f in (run / "benchmarks").rglob("*.tsv")]
    out = {"rows": rows, "features": features, "grid": grid_name, "hours": hours, "wall_s": wall,
           **est, "selected_round": sel_round, "selected": rec["selected_features"],
           **scores(rec["selected_features"], truth), "test_rmse": rec["test_rmse"], "val_rmse": rec["val_rmse"],
           **oracle_losses(run, truth, params, cfg["model"]["params"]), "peak_job_rss_mb": max(peaks, default=None),
           "n_rounds": rec["n_rounds"], "machine": machine()}
    if out.get("estimate_s"):
        out["wall_over_estimate"] = wall / out["estimate_s"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench seed", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--features", type=int, default=500)
    ap.add_argument("--grid", choices=["full", "small"], default="full",
                    help="full: the 5,000-configuration grid of bench/budget.py (GRID_C); small: 18 configurations")
    ap.add_argument("--hours", type=float, default=3.0, help="budget.hours (0: no time box)")
    ap.add_argument("--step", type=float, default=0.1, help="rfe.step (0.1: 43 rounds at full scale)")
    ap.add_argument("--name", default=None, help="run name (default: seed_<rows>x<features>_<grid>)")
    ap.add_argument("--data-only", action="store_true", help="write the table and its truth only")
    ap.add_argument("--reuse", action="store_true", help="read a finished run instead of running it again")
    args = ap.parse_args(argv)
    name = args.name or f"seed_{args.rows}x{args.features}_{args.grid}"
    rec = measure(args.rows, args.features, args.grid, args.hours or None, name, args.data_only, args.step,
                  args.reuse)
    SEED_OUT.mkdir(parents=True, exist_ok=True)
    (SEED_OUT / f"{name}.json").write_text(json.dumps(rec, indent=1, default=str))
    print(json.dumps({k: v for k, v in rec.items() if k not in ("selected", "truth", "machine")}, indent=1,
                     default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
