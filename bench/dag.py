"""How long Snakemake takes to plan and to confirm a long run: 164 features, step 1, 8 HPO and 8 importance shards.

* ``snakemake -n`` from a fresh working folder (the parse-time plan reads the data, checks it and runs
  its calibration fit) and again with the plan cached, as a user sees them (median of 3).
* A no-op rerun of the complete run. Fitting several thousand jobs for real would take hours, so the
  outputs are made without running the jobs: every output the dry run lists is created empty, then
  ``snakemake --touch`` walks the DAG in order (marking each job done, with its metadata, exactly as
  it would after running it). The run-level summary, report and workbook (a handful of jobs) are left
  out, because the workflow reads a finished run's summary when it is parsed and placeholders would not
  do; the no-op covers every job of every round (targets: all round outputs).
  ``snakemake -j 2`` then has nothing to do; its wall time (median of 3) is the no-op
  rerun (parse, DAG over every job, the up-to-date checks of every output and its params and code).
"""

from __future__ import annotations

import fnmatch
import re
import shutil
from pathlib import PurePosixPath

from .common import OUT, make_data, snakemake, targets, write_config

N_ANGLES = 3


def _outputs(dry_run_text: str) -> list[str]:
    files = []
    for line in dry_run_text.splitlines():
        m = re.match(r"\s+output: (.*)$", line)
        if m:
            files += [f.strip() for f in m.group(1).split(",")]
    return list(dict.fromkeys(files))


def _median(fn, repeats: int = 3) -> float:
    import statistics

    return statistics.median(fn() for _ in range(repeats))


def measure(n_features: int = 164, n_rows: int = 2000, shards: int = 8, log=print) -> dict:
    workdir = OUT / "work" / f"dag_{n_features}"
    if workdir.exists():
        shutil.rmtree(workdir)
    data_part = make_data(workdir / "data.parquet", n_rows, n_features - N_ANGLES, N_ANGLES)
    cfg = {"run_name": "long", **data_part,
           "split": {"folds": 5, "stratify_bins": 5},
           "model": {"estimator": "sklearn.linear_model.Ridge"},
           "hpo": {"grid": {"alpha": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0]}, "shards": shards},
           "rfe": {"step": 1, "min_features": 3},
           "importance": {"shards": shards}}
    write_config(workdir, cfg)
    proc, dry_fresh = snakemake(workdir, "-n")
    text = proc.stdout + proc.stderr
    m = re.search(r"^total\s+(\d+)", text, re.MULTILINE)
    n_jobs = int(m.group(1)) if m else None
    plan_lines = [ln for ln in text.splitlines() if ln.startswith(("RFE plan", "  grid:", "  estimated"))]
    dry_cached = _median(lambda: snakemake(workdir, "-n")[1])
    dry_quiet = _median(lambda: snakemake(workdir, "-n", "-q")[1])
    all_outputs = _outputs(text)
    run = targets(cfg["run_name"])
    per_round = (f"{run.round_dir('*')}/*", run.plot("*", "*"))  # every round's artifacts and figures
    outputs = [f for f in all_outputs if any(fnmatch.fnmatch(f, pattern) for pattern in per_round)]
    prepared = {str(PurePosixPath(run.file(key)).parent) for key in ("table", "split")}  # data/ and split/
    for f in outputs + [f for f in all_outputs if str(PurePosixPath(f).parent) in prepared]:
        path = workdir / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    _, touch_wall = snakemake(workdir, "--touch", "-j", "1", "--", *outputs)
    proc, _ = snakemake(workdir, "-j", "2", "--", *outputs)
    nothing = "Nothing to be done" in (proc.stdout + proc.stderr)
    noop = _median(lambda: snakemake(workdir, "-j", "2", "--", *outputs)[1])
    noop_dry = _median(lambda: snakemake(workdir, "-n", "--", *outputs)[1])
    rec = {"features": n_features, "shards": shards, "jobs": n_jobs, "outputs": len(outputs),
           "dry_run_fresh_s": round(dry_fresh, 1), "dry_run_cached_s": round(dry_cached, 1),
           "dry_run_quiet_s": round(dry_quiet, 1), "touch_s": round(touch_wall, 1),
           "noop_rerun_s": round(noop, 1), "noop_nothing_to_do": nothing, "noop_dry_run_s": round(noop_dry, 1),
           "noop_outputs": len(outputs), "plan": plan_lines}
    log(f"  {rec}")
    return rec
