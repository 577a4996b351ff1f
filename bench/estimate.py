"""The plan's wall-time estimate against real runs (issue 19): ``python -m bench estimate [--cases ...] [--reuse]``.

Runs the workflow at ``-j 2`` (its rounds and summary, as ``bench/budget.py`` does) on runs of different shapes and
compares the wall time with what the plan estimates for that run's own settings on 2 cores
(``rfe_lib.plan.presets.wall_seconds`` over the run's job waves, from the run's cached plan: the calibration the
run itself made). Also printed: the calibration's seconds per fit against the HPO jobs' measured CPU seconds per
fit-equivalent, and the jobs' CPU seconds against the estimate's fit seconds. Cases:

- ``example``: ``config/round.yaml`` (Bikeshare, 8,645 x 12, 2 configurations, 6 rounds): start-up dominates;
- ``meats_grid``: meats (215 x 100), the 108-configuration grid, LOFO, 5 rounds: fits dominate;
- ``chem_random_carry``: chem_proc_yield (176 x 57), random + carry, LOFO, 5 rounds;
- ``bikeshare_halving_carry``: Bikeshare with the budget benchmark's settings, halving + carry (partial fits);
- ``chem_grid``, ``meats_random_carry_auto`` and ``example_full`` (``config/example_full.yaml``: 10 rounds, 5 folds,
  200 iterations): shapes measured after the job start-up figure was set from the first four.

Results: ``bench/out/estimate/estimate.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from .common import OUT, REPO, benchmark_tsv, uptime

EST_OUT = OUT / "estimate"


def configs() -> dict:
    from .budget import GRID_A, SEARCHES, base_config

    example = yaml.safe_load((REPO / "config" / "round.yaml").read_text())
    example["data"]["path"] = str(REPO / example["data"]["path"])
    example["run_name"] = "example"
    meats = base_config("meats", "meats_grid", GRID_A)
    chem = base_config("chem_proc_yield", "chem_random_carry", GRID_A)
    chem["hpo"].update(SEARCHES["random+carry"])
    bike = base_config("bikeshare", "bikeshare_halving_carry", GRID_A)
    bike["hpo"].update(SEARCHES["halving+carry"])
    # shapes the start-up figure (JOB_SECONDS) was not read from
    chem_grid = base_config("chem_proc_yield", "chem_grid", GRID_A)
    meats_auto = base_config("meats", "meats_random_carry_auto", GRID_A)
    meats_auto["hpo"].update(SEARCHES["random+carry"])
    meats_auto["rfe"]["importance"] = "auto"
    full = yaml.safe_load((REPO / "config" / "example_full.yaml").read_text())
    full["data"]["path"] = str(REPO / full["data"]["path"])
    return {"example": example, "meats_grid": meats, "chem_random_carry": chem, "bikeshare_halving_carry": bike,
            "chem_grid": chem_grid, "meats_random_carry_auto": meats_auto, "example_full": full}


def estimate_of(workdir: Path, cfg: dict) -> dict:
    """The plan's estimate of the run on 2 cores, from its own cached plan."""
    from rfe_lib.plan import Plan
    from rfe_lib.plan.presets import Machine, wall_seconds, waves
    from rfe_lib.settings import Settings

    (cached,) = sorted((workdir / ".snakemake" / "rfe-plan").glob("*.json"))[-1:]
    plan = Plan(**json.loads(cached.read_text()))
    settings = Settings.from_config(cfg)
    wave_list = waves(plan, settings, 2)
    fit_equivalents = sum(w for w, _ in wave_list)
    return {"estimate_s": wall_seconds(wave_list, plan.seconds_per_fit, Machine(2)),
            "seconds_per_fit": plan.seconds_per_fit, "column_fixed_share": plan.column_fixed_share,
            "fit_seconds": fit_equivalents * plan.seconds_per_fit, "waves": len(wave_list),
            "jobs": sum(j for _, j in wave_list), "rows": plan.n_rows, "features": len(plan.features),
            "rounds": plan.n_rounds}


def measure(name: str, cfg: dict, reuse: bool) -> dict:
    from .budget import run_workflow

    wd = EST_OUT / name
    load = uptime()
    wall = run_workflow(wd, cfg, reuse=reuse)
    rec = {"case": name, "wall_s": round(wall, 1), "load_at_start": load, **estimate_of(wd, cfg)}
    rec["wall_over_estimate"] = round(wall / rec["estimate_s"], 2)
    cpu = [benchmark_tsv(f) for f in (wd / "results" / cfg["run_name"] / "benchmarks").rglob("*.tsv")]
    rec["jobs_cpu_s"] = round(sum(float(b.get("cpu_time") or 0.0) for b in cpu), 1)
    return rec


def table(rows: list[dict]) -> list[str]:
    out = ["| run | rows x features | rounds | jobs | estimate (s) | measured wall (s) | measured / estimate | "
           "calibration (s per fit) | estimate's fit seconds | HPO and importance jobs' CPU seconds | load at start |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        out.append(f"| {r['case']} | {r['rows']:,} x {r['features']} | {r['rounds']} | {r['jobs']} | "
                   f"{r['estimate_s']:.0f} | {r['wall_s']:.0f} | {r['wall_over_estimate']:.2f} | "
                   f"{r['seconds_per_fit']:.3g} | {r['fit_seconds']:.0f} | {r['jobs_cpu_s']:.0f} | {r['load_at_start']} |")
    return out


def main(argv=None) -> int:
    cases = configs()
    ap = argparse.ArgumentParser(prog="python -m bench estimate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="+", default=list(cases), choices=list(cases))
    ap.add_argument("--reuse", action="store_true", help="read finished runs instead of running them again")
    args = ap.parse_args(argv)
    rows = []
    for name in args.cases:
        rows.append(measure(name, cases[name], args.reuse))
        print(json.dumps(rows[-1]), flush=True)
    EST_OUT.mkdir(parents=True, exist_ok=True)
    (EST_OUT / "estimate.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(table(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
