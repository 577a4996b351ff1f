"""Repeats against a single run (issue 18): is the consensus set's answer honest, as good, and more stable?

    python -m bench repeats [--datasets meats chem_proc_yield bikeshare] [--seeds 42 43 44] [--repeats 5] [--reuse]
    python -m bench repeats table      # the table of bench/out/repeats/*.json (markdown)

For each table and each ``split.seed`` (three different test splits), with the table's cheapest budget that kept
its loss in the budget benchmark (``BUDGETS``):

- a **single run** (``rfe.repeats: 1``; the repeated run's repeat 0, run on its own for the first seed to time it
  and to check that it is repeat 0), whose rounds give the answers of
  ``select: best`` (the round with the lowest CV loss; its estimate is that CV loss) and ``select: validation`` (the
  lowest validation loss; its estimate is that validation loss), each scored by the selected round's model on the
  test rows;
- a **repeated run** (``rfe.repeats: R``): the consensus set at the size chosen on the outer curve (``select:
  best``), refitted on every non-test row and scored once on the same test rows; its estimate is the curve's mean
  at that size, with the curve's standard error.

Per run: the test loss, the estimate, the honesty gap (test minus estimate; for the repeated run also in standard
errors), the size, the selected features and the CPU seconds (user + system of the whole ``snakemake`` process
tree). Across the three seeds: the mean test loss, the mean gap, and the mean Jaccard overlap of the selected sets
between seeds. The runs hold ``/tmp/bench.lock`` like the budget benchmark. Results: ``bench/out/repeats/<table>.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .budget import LOCK, base_config
from .common import OUT, REPO, SNAKEFILE, bench_env, machine, write_config

OUTDIR = OUT / "repeats"
# The cheapest budget that kept the loss of each table in the budget benchmark (docs/benchmarks.md#budgets): the
# search, and rfe.importance: auto (permutation while a round has more than rfe.lofo_below features, LOFO after).
BUDGETS = {
    "meats": {"search": "random", "random": {"n_candidates": 20}, "carry": {"top": "auto", "refresh": 0}},
    "chem_proc_yield": {"search": "grid", "carry": {"top": "auto", "refresh": 0}},
    "bikeshare": {"search": "halving", "carry": {"top": "auto", "refresh": 0}},
}
GRID = {"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [4, 8, 16], "min_samples_leaf": [3, 5, 10, 20],
        "l2_regularization": [0.0, 1.0, 10.0]}  # the budget benchmark's 108 configurations


def config(ds: str, seed: int, repeats: int) -> dict:
    cfg = base_config(ds, "single" if repeats == 1 else "repeated", GRID)
    cfg["hpo"].update(BUDGETS[ds])
    cfg["rfe"]["importance"] = "auto"
    cfg["rfe"]["repeats"] = repeats
    cfg["split"]["seed"] = seed
    return cfg


def run(workdir: Path, cfg: dict, targets: list[str], reuse: bool) -> dict:
    """The workflow at -j 2 from an empty folder under ``flock /tmp/bench.lock``: wall and CPU seconds."""
    record = workdir / "run.json"
    if reuse and record.is_file():
        return json.loads(record.read_text())
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    write_config(workdir, cfg)
    lock = [] if os.environ.get("RFE_BENCH_LOCK_HELD") == "1" else ["flock", LOCK]
    cmd = [*lock, sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir), "--configfile",
           str(workdir / "config.yaml"), "-j", "2", *targets]
    env = bench_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    with open(workdir / "snakemake.log", "w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    wall, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{workdir}: snakemake failed; see {workdir / 'snakemake.log'}")
    rec = {"wall_s": round(wall, 1),
           "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)}
    record.write_text(json.dumps(rec))
    return rec


def single_answers(run_dir: Path, metric: str) -> dict:
    """``select: best`` and ``select: validation`` on a single run's rounds."""
    import pandas as pd

    from rfe_lib.selection import select_round

    rounds = pd.read_parquet(run_dir / "summary" / "rounds.parquet").set_index("round", drop=False)
    out = {}
    for rule, estimate in (("best", "cv_mean"), ("validation", "val_loss")):
        row = rounds.loc[select_round(rounds.reset_index(drop=True), rule)]
        test = float(row[f"test_{metric}"])
        out[rule] = {"size": int(row["n_features"]), "test": test, "estimate": float(row[estimate]),
                     "gap": test - float(row[estimate]), "features": sorted(row["features"])}
    return out


def repeated_answer(run_dir: Path) -> dict:
    import pandas as pd

    from rfe_lib.layout import Layout

    layout = Layout(run_dir)
    final = pd.read_parquet(layout.file("final_summary")).iloc[0]
    return {"size": int(final["n_features"]), "test": float(final["test_loss"]),
            "estimate": float(final["loss_estimate"]), "se": float(final["loss_se"]),
            "gap": float(final["honesty_gap"]), "gap_in_se": float(final["gap_in_se"]),
            "features": sorted(pd.read_parquet(layout.file("selected"))["feature"]),
            "median_share": float(final["median_share"]),
            "all_features_estimate": float(final["all_features_estimate"]),
            "verdict": None if pd.isna(final["verdict"]) else str(final["verdict"])}


def measure(ds: str, seeds: list[int], repeats: int, reuse: bool) -> dict:
    """Per seed, the repeated run; the single run is its repeat 0 (the same split, folds and seeds: a repeat equals
    its standalone run, tests/test_repeats.py), whose rounds give ``select: best`` and ``select: validation``. For
    the first seed the single run is also run on its own, for its CPU time and as a check that it is repeat 0."""
    import pandas as pd

    from rfe_lib.layout import Layout

    rows = []
    for k, seed in enumerate(seeds):
        cfg = config(ds, seed, repeats)
        layout = Layout(f"results/{cfg['run_name']}")
        workdir = OUTDIR / ds / f"seed{seed}" / "repeated"
        rec = run(workdir, cfg, [layout.file("final_summary"), layout.file("selected")], reuse)
        rows.append({"seed": seed, "answer": "consensus", **repeated_answer(workdir / layout.root), **rec})
        repeat0 = workdir / layout.repeat(0).root
        single_rec = {"wall_s": None, "cpu_s": None}
        if k == 0:
            cfg1 = config(ds, seed, 1)
            single = Layout(f"results/{cfg1['run_name']}")
            single_dir = OUTDIR / ds / f"seed{seed}" / "single"
            single_rec = run(single_dir, cfg1, [single.file("rounds")], reuse)
            alone = pd.read_parquet(single_dir / single.file("rounds"))
            mine = pd.read_parquet(Path(repeat0) / "summary" / "rounds.parquet")
            cols = ["n_features", "cv_mean", "val_loss", "test_rmse"]
            pd.testing.assert_frame_equal(alone[cols], mine[cols])  # the single run is repeat 0
        for rule, ans in single_answers(Path(repeat0), "rmse").items():
            rows.append({"seed": seed, "answer": rule, **ans, **single_rec})
        print(f"  {ds} seed {seed}: repeated {rec}, single {single_rec}", flush=True)
    return {"dataset": ds, "repeats": repeats, "seeds": seeds, "budget": BUDGETS[ds], "rows": rows,
            "machine": machine()}


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 1.0


def _cpu(rows) -> str:
    cpu = [r["cpu_s"] for r in rows if r["cpu_s"] is not None]
    return f"{statistics.mean(cpu):.0f}" if cpu else ""


def table(records: list[dict]) -> str:
    lines = ["| table | answer | size (per seed) | test RMSE (mean of 3 seeds) | estimate | honesty gap | gap / SE "
             "| Jaccard across seeds | CPU s (one run) |", "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for rec in records:
        for answer in ("best", "validation", "consensus"):
            rows = [r for r in rec["rows"] if r["answer"] == answer]
            if not rows:
                continue
            pairs = list(itertools.combinations([r["features"] for r in rows], 2))
            jac = statistics.mean(jaccard(a, b) for a, b in pairs) if pairs else float("nan")
            in_se = (f"{statistics.mean(r['gap_in_se'] for r in rows):+.2f}" if answer == "consensus" else "")
            label = {"best": "single run, select: best (CV)", "validation": "single run, select: validation",
                     "consensus": f"{rec['repeats']} repeats, consensus"}[answer]
            lines.append(
                f"| {rec['dataset']} | {label} | {', '.join(str(r['size']) for r in rows)} "
                f"| {statistics.mean(r['test'] for r in rows):.4g} | {statistics.mean(r['estimate'] for r in rows):.4g} "
                f"| {statistics.mean(r['gap'] for r in rows):+.4g} | {in_se} | {jac:.2f} "
                f"| {_cpu(rows)} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench repeats", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="run", choices=["run", "table"])
    ap.add_argument("--datasets", nargs="+", default=list(BUDGETS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reuse", action="store_true", help="keep finished runs instead of running them again")
    args = ap.parse_args(argv)
    OUTDIR.mkdir(parents=True, exist_ok=True)
    if args.what == "run":
        for ds in args.datasets:
            rec = measure(ds, args.seeds, args.repeats, args.reuse)
            (OUTDIR / f"{ds}.json").write_text(json.dumps(rec, indent=1))
    records = [json.loads((OUTDIR / f"{ds}.json").read_text()) for ds in BUDGETS if (OUTDIR / f"{ds}.json").is_file()]
    print(table(records))


if __name__ == "__main__":
    main()
