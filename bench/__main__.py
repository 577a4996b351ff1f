"""The benchmarks' one entry point: ``python -m bench`` lists every section and tool (COMMANDS below); ``python -m bench
all [--quick]`` runs the suite, ``python -m bench hpo lofo`` some of its sections, ``python -m bench <tool> -h`` a
tool's own options. (The modules' own entry points, such as ``python -m bench.budget table``, still work.)

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


def _tool(module: str, write_docs: bool = False):
    """A tool with its own options: ``python -m bench <name> ARGS`` runs ``bench.<module>.main(ARGS)``."""
    def run(argv):
        import importlib

        rc = importlib.import_module(f"bench.{module}").main(argv)
        if write_docs:
            from .report import write

            write()
        return rc
    return run


def _budget(argv):
    """bench/budget.py; a measuring run (not its ``table``, ``estimates`` or ``timed`` reports) rewrites
    docs/benchmarks.md's generated blocks."""
    from . import budget

    rc = budget.main(argv)
    if argv[:1] not in (["table"], ["estimates"], ["timed"]):
        from .report import write

        write()
    return rc


# Every way to start a benchmark: name -> (what it measures, how it is run). The suite's sections (SECTIONS, "all",
# "report") go through the suite's own parser below.
TOOLS = {
    "budget": ("budgets of issues 12, 13 and 19 on real tables, about 50 minutes; `budget table`, `budget estimates`"
               " [--recalibrate]: reports of the finished runs (bench/budget.py)", _budget),
    "boost": ("LightGBM, XGBoost and CatBoost against HistGradientBoosting: one fit, one round, the plan's estimate;"
              " --seed-round: a round at the seed's scale (bench/boost.py)", _tool("boost")),
    "repeats": ("repeats of the elimination against a single run on three tables and three test splits"
                " (bench/repeats.py)", _tool("repeats")),
    "splits": ("stratified against time and group splits on Bikeshare; --reuse (bench/splits.py)", _tool("splits")),
    "seed": ("the seed's workload: a synthetic 20,000 x 500 table with a known truth under a time box"
             " (bench/seed.py)", _tool("seed")),
    "cache": ("the cache between runs: a first run, then rfe.select and rfe.step changed (bench/cache.py)",
              _tool("cache")),
    "estimate": ("the plan's wall-time estimate against real runs of different shapes at -j 2; --cases, --reuse"
                 " (bench/estimate.py)", _tool("estimate")),
    "cuts": ("each cut of the per-round overhead: the same runs at successive commits, `cuts COMMIT ...`"
             " (bench/cuts.py)", _tool("cuts")),
    "versus": ("`versus mlxtend DIR` / `versus perfit DIR`: one side of the mlxtend comparison, or the cost of one fit"
               " (bench/versus.py)", _tool("versus")),
    "inprocess": ("`inprocess CONFIG [N_JOBS]`: the same RFE as a plain loop in one process, the overhead's yardstick"
                  " (bench/inprocess.py)", _tool("inprocess")),
}
SUITE = {
    "all": "every section below but overhead_mid with --quick: about 10 minutes with --quick, 2-3 hours without",
    "hpo": "HPO shard memory and time against grid size",
    "lofo": "LOFO shard memory and time against feature count",
    "lofo_dummy": "the same LOFO jobs with an estimator that holds nothing: the pipeline's own share",
    "overhead": "the pipeline against an in-process loop on the bundled example, and per-script start-up",
    "overhead_mid": "the same with a mid-size 144-configuration grid (about 35 minutes; full mode only)",
    "mlxtend": "the pipeline against mlxtend's backward selection on the same folds (pip install -e '.[bench]')",
    "dag": "snakemake -n and a no-op rerun of a long run",
    "formats": "Parquet against xlsx",
    "report": "rewrite docs/benchmarks.md's tables from bench/out/ (nothing measured)",
}


def listing() -> str:
    """What ``python -m bench`` with no arguments prints: every section of the suite and every tool."""
    width = max(map(len, [*SUITE, *TOOLS]))
    lines = ["usage: python -m bench SECTION [SECTION ...] [--quick] [--snapshot]  |  python -m bench TOOL [ARGS]", "",
             "suite sections (results in bench/out/<quick|full>/<section>.json, tables in docs/benchmarks.md):"]
    lines += [f"  {name:<{width}}  {text}" for name, text in SUITE.items()]
    lines += ["", "tools (each with its own options: python -m bench TOOL -h):"]
    lines += [f"  {name:<{width}}  {text}" for name, (text, _) in TOOLS.items()]
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(listing())
        return 0
    if argv[0] in TOOLS:
        return TOOLS[argv[0]][1](argv[1:])
    unknown = [a for a in argv if not a.startswith("-") and a not in SUITE]
    if unknown:
        raise SystemExit(f"unknown section {unknown[0]!r}\n\n{listing()}")
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__, epilog=listing(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="+", help=f"all, report, or any of {', '.join(SECTIONS)}")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
