"""The benchmark suite: ``python -m bench all [--quick]`` (or name sections: ``python -m bench hpo lofo``).

Sections: ``hpo`` (HPO shard memory and time vs grid size), ``lofo`` (LOFO shard memory and time vs
feature count), ``lofo_dummy`` (the same LOFO jobs with an estimator that holds nothing: the
pipeline's own share), ``overhead`` (pipeline vs in-process loop on the bundled example, and per-script
start-up, measured from the same run's jobs), ``mlxtend`` (the pipeline against mlxtend's backward selection on the
same folds, and the bundled example end to end; needs ``pip install -e '.[bench]'``), ``overhead_mid`` (the same with a mid-size
144-configuration grid; about 35 minutes, so ``all --quick`` leaves it out), ``dag`` (``snakemake -n``
and a no-op rerun of a long run), ``formats`` (Parquet vs xlsx), ``budget`` (what the budgets of issues 12 and 13
save and lose on real tables, about 50 minutes; not part of ``all``; its own options, ``python -m bench budget -h``),
``repeats`` (repeats of the elimination against a single run on the same tables, over three test splits; not part
of ``all``; ``python -m bench repeats -h``), ``boost`` (LightGBM, XGBoost and CatBoost against HistGradientBoosting:
one fit, one round, the plan's estimate; not part of ``all``), ``splits`` (stratified vs time and group splits on
Bikeshare, issue 20; not part of ``all``; ``--reuse``), ``seed`` (issue 19: a synthetic table of the seed's shape with a
known truth under a time box; about three hours at full scale, not part of ``all``; ``python -m bench seed -h``),
``cache`` (the cache between runs: a first run, then rfe.select and rfe.step changed; ``python -m bench cache -h``).
Results go to ``bench/out/<mode>/<section>.json``; the tables of every mode measured so far are
printed and written to ``docs/benchmarks.md``. ``--quick`` uses smaller data (about 10 minutes on 2
busy cores); the full mode uses the sizes of the issue and takes two to three hours on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import common

SECTIONS = ("hpo", "lofo", "lofo_dummy", "overhead", "overhead_mid", "mlxtend", "dag", "formats")

SIZES = {
    "quick": {"hpo_rows": 2_000, "hpo_sizes": [100, 1000, 10_000], "lofo_rows": 5_000,
              "lofo_sizes": [50, 164, 500, 1000], "lofo_per_shard": 1, "lofo_large_shard": 5,
              "dag_features": 20, "overhead_min_features": 10, "formats_rows": 20_000},
    "full": {"hpo_rows": 100_000, "hpo_sizes": [100, 1000, 10_000], "lofo_rows": 100_000,
             "lofo_sizes": [50, 164, 500, 1000], "lofo_per_shard": 4, "lofo_large_shard": 25,
             "dag_features": 164, "overhead_min_features": 3, "formats_rows": 100_000},
}


def run_section(name: str, mode: str) -> None:
    s = SIZES[mode]
    t0 = time.perf_counter()
    print(f"[{name}] {mode} ({common.uptime()})", flush=True)
    if name == "hpo":
        from . import scale

        rec = {"rows": scale.hpo(s["hpo_rows"], s["hpo_sizes"])}
    elif name == "lofo":
        from . import scale

        rec = {"rows": scale.lofo(s["lofo_rows"], s["lofo_sizes"], s["lofo_per_shard"], s["lofo_large_shard"])}
    elif name == "lofo_dummy":
        from . import scale

        rec = {"rows": scale.lofo(s["lofo_rows"], s["lofo_sizes"], s["lofo_per_shard"], model="dummy")}
    elif name == "overhead":
        from . import imports, overhead

        rec = overhead.measure(s["overhead_min_features"])
        rec["imports"] = imports.measure(rec.pop("job_records"))
        rec["python_start_s"] = imports.interpreter_start()
        rec["snakemake_dry_run_s"] = overhead.snakemake_floor(common.OUT / "work" / "overhead")
        rec["slurm_probe_s"] = common.slurm_probe_seconds()
    elif name == "overhead_mid":
        from . import overhead

        rec = overhead.measure(s["overhead_min_features"], case="mid")
        rec.pop("job_records")
    elif name == "mlxtend":
        from . import versus

        rec = versus.measure()
        rec.update(versus.example_end_to_end())
    elif name == "dag":
        from . import dag

        rec = dag.measure(s["dag_features"])
    elif name == "formats":
        from . import formats

        rec = formats.measure(s["formats_rows"])
    else:
        raise SystemExit(f"unknown section {name!r}; choose from {', '.join(SECTIONS)} or all")
    rec["machine"] = common.machine()
    rec["seconds"] = round(time.perf_counter() - t0, 1)
    common.save(name, mode, rec)
    print(f"[{name}] done in {rec['seconds']} s", flush=True)


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["repeats"]:  # its own options (--datasets, --seeds, --repeats, --reuse): bench/repeats.py
        from . import repeats

        repeats.main(argv[1:])
        return
    if argv[:1] == ["boost"]:  # LightGBM, XGBoost, CatBoost vs HistGradientBoosting (issue 21): bench/boost.py
        from . import boost

        return boost.main(argv[1:])
    if argv[:1] == ["splits"]:  # issue 20: stratified vs time and group splits on Bikeshare (bench/splits.py)
        from . import splits

        splits.main(argv[1:])
        return
    if argv[:1] == ["seed"]:  # the seed's workload (issue 19), its own options: bench/seed.py
        from . import seed

        return seed.main(argv[1:])
    if argv[:1] == ["cache"]:  # the cache between runs (issue 22): its own options, bench/cache.py
        from . import cache

        cache.main(argv[1:])
        return
    if argv[:1] == ["budget"]:  # its own options (--datasets, --parts, --reuse): bench/budget.py
        from . import budget
        from .report import write

        budget.main(argv[1:])
        write()
        return
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", default=["all"], help=f"all, report, or any of {', '.join(SECTIONS)}")
    ap.add_argument("--quick", action="store_true", help="small sizes: a few minutes")
    ap.add_argument("--snapshot", action="store_true",
                    help="run a frozen copy of the workflow (bench/out/snapshot-<pid>/), immune to edits made meanwhile")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    if "all" in args.sections:  # the mid-size overhead case alone takes about 35 minutes: full mode only
        names = [n for n in SECTIONS if not (args.quick and n == "overhead_mid")]
    else:
        names = [n for n in args.sections if n != "report"]
    if args.snapshot and names:
        print(f"running the workflow from a snapshot: {common.snapshot()}", flush=True)
    for name in names:
        run_section(name, mode)
    from .report import write

    text = write()
    print(text)


if __name__ == "__main__":
    sys.exit(main())
