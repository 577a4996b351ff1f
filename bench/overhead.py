"""Pipeline versus a plain in-process loop doing the same fits: the wall-time ratio, and where the difference goes.

Two cases on the same real data (the bundled Bikeshare table: 8,645 rows, 12 features, 10 rounds from 12
features to 3, HistGradientBoosting with 200 iterations, 5 folds):

- ``example``: the bundled example as shipped, a 4-configuration grid (the quick start: each round's
  fits take a few seconds, so the per-job start-up is most of what a round costs);
- ``mid``: the same run with a 144-configuration grid (learning rate x leaves x minimum leaf size x L2
  penalty), a mid-size search where fitting, not start-up, is most of the work.

Each is the whole workflow at ``-j 2`` with every artifact its default target makes (figures, tables,
workbook), from an empty results folder and an empty plan cache, against :mod:`bench.inprocess` with
``n_jobs=2``. Both must select the same features in every round.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import OUT, REPO, bench_env, layout, matching, snakemake, write_config


MID_GRID = {
    "learning_rate": [0.03, 0.05, 0.1, 0.2],
    "max_leaf_nodes": [15, 31, 63],
    "min_samples_leaf": [10, 20, 40],
    "l2_regularization": [0.0, 0.1, 1.0, 10.0],
}
CASES = {"example": None, "mid": MID_GRID}


def _config(min_features: int, grid: dict | None = None) -> dict:
    import yaml

    cfg = yaml.safe_load((REPO / "config" / "example_full.yaml").read_text())  # the heavier example (issue 22)
    cfg["run_name"] = "overhead"
    if grid is not None:
        cfg["hpo"]["grid"] = grid
    cfg["data"]["path"] = str(REPO / "data" / "example" / "bikeshare.parquet")
    cfg["rfe"]["min_features"] = min_features
    cfg["hpo"]["shards"] = "auto"
    cfg["importance"]["shards"] = "auto"
    return cfg


def _rule_of(script: str) -> str:
    return script.removesuffix(".py")


def measure(min_features: int = 3, case: str = "example", log=print) -> dict:
    import json

    import pandas as pd

    from .imports import script_name

    workdir = OUT / "work" / ("overhead" if case == "example" else f"overhead_{case}")
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    cfg = _config(min_features, CASES[case])
    write_config(workdir, cfg)

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.inprocess", str(workdir / "config.yaml"), "2"],
                          capture_output=True, text=True, cwd=REPO, env=bench_env())
    loop_wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    loop = json.loads(proc.stdout.strip().splitlines()[-1])

    _, pipe_wall = snakemake(workdir, "-j", "2", rss=True)

    # where the pipeline's time goes: per-script job counts and seconds (process lifetimes)
    jobs = [json.loads(f.read_text()) for f in sorted((workdir / "rss").glob("*.json"))]
    jobs = [j for j in jobs if ".snakemake/scripts/" in j["argv0"]]
    by_rule: dict = {}
    for j in jobs:
        by_rule.setdefault(_rule_of(script_name(j["argv0"])), []).append(j["seconds"])
    run = layout(workdir, "overhead")
    fit_seconds = 0.0
    for pattern in (run.hpo_shard("*", 0, "*"), run.importance_shard("*", "*")):
        for f in matching(pattern):
            fit_seconds += float(pd.read_parquet(f, columns=["fit_seconds"])["fit_seconds"].sum())
    rounds = pd.read_parquet(run.file("rounds"))
    same = ([list(f) for f in rounds["features"]] == [r["features"] for r in loop["rounds"]]
            and [list(e) for e in rounds["eliminated"]] == [r["eliminated"] for r in loop["rounds"]]
            and list(rounds["params"]) == [r["params"] for r in loop["rounds"]])
    n_configs = _n_configs(cfg["hpo"]["grid"])
    label = "the bundled Bikeshare example" if case == "example" else "Bikeshare, a mid-size grid"
    rec = {
        "case": f"{label}: {len(rounds)} rounds, HistGradientBoosting, {n_configs} configurations, 5 folds, -j 2",
        "case_name": case, "rounds": len(rounds), "n_configs": n_configs,
        "added_per_round": round((pipe_wall - loop_wall) / len(rounds), 1),
        "pipeline_wall": round(pipe_wall, 1), "loop_wall": round(loop_wall, 1),
        "ratio": round(pipe_wall / loop_wall, 3), "same_selection": same, "n_jobs": len(jobs),
        "job_seconds_total": round(sum(j["seconds"] for j in jobs), 1),
        "fit_seconds_in_cv": round(fit_seconds, 1),
        "by_rule": {r: {"jobs": len(v), "total_s": round(sum(v), 1), "median_s": round(statistics.median(v), 2)}
                    for r, v in sorted(by_rule.items(), key=lambda kv: -sum(kv[1]))},
        "job_records": jobs,
    }
    log(f"  pipeline {rec['pipeline_wall']} s, loop {rec['loop_wall']} s, ratio {rec['ratio']}, "
        f"{rec['n_jobs']} jobs, same selection: {same}")
    for r, v in rec["by_rule"].items():
        log(f"    {r:20s} {v}")
    return rec


def _n_configs(grid: dict) -> int:
    import math

    return math.prod(len(v) for v in grid.values())


def snakemake_floor(workdir: Path, repeats: int = 3) -> float:
    """Median wall seconds of ``snakemake -n`` on an up-to-date run (start-up + parse + DAG)."""
    times = []
    for _ in range(repeats):
        _, wall = snakemake(workdir, "-n", "-q")
        times.append(wall)
    return round(statistics.median(times), 2)
