"""The cache between runs (issue 22): ``python -m bench cache [--configfile config/round.yaml | --dataset meats | --wide ROWS FEATURES
| --seed ROWS FEATURES] [--first-step S] [--step 3]``.

Four real runs at ``-j 2`` in ``bench/out/work/cache-<config>/``, in order (``--only`` picks some):

1. ``first``: the configuration as given, with an empty cache (what a newcomer's first run costs, storing included);
2. ``select``: the same with the other ``rfe.select`` (best <-> one_se), under another run_name: the target is less
   than 10% of the first run;
3. ``step``: the same with ``rfe.step`` set to ``--step``, under another run_name, with the cache: round 0 is reused;
4. ``step_nocache``: run 3's configuration with the cache off: the target is at least 2x run 3's time.

and two bounds that no cache can beat, printed below the table:

- after ``select``: the same run again with ``--forcerun summarize``: Snakemake's start and the jobs a new selection must
  make again (summary, workbook, summary figures, report tables and texts), with every other job already present. A
  cache whose restores cost nothing would still cost this, so the ``select`` target cannot hold where this alone is
  10% of the first run or more;
- after ``step_nocache``: round 0's share of its search and importance shards' seconds (their ``benchmark:`` files),
  the only shards the two schedules share: no cache can make run 4 faster than 1 / (1 - that share) of the shards'
  work.

Runs a frozen copy of the workflow (bench/out/snapshot-<pid>/). Prints a Markdown table (wall and CPU seconds, jobs restored from the cache and computed) for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
from pathlib import Path

from . import common
from .common import OUT, REPO, snakemake, uptime, write_config


def _jobs(run: Path) -> tuple[int, int]:
    """(restored, computed) among the cached jobs of a run, from their logs."""
    restored = computed = 0
    for log in run.glob("logs/**/*.log"):
        text = log.read_text(errors="replace")
        restored += "restored" in text and "from the cache entry" in text
        computed += "cache miss" in text
    return restored, computed


def seed_config(rows: int, features: int) -> tuple[str, dict]:
    """The seed's kind of workload (bench/seed.py's table of this shape, the 5,000-configuration grid, 5 folds) with
    the preset the seed run's time box chose pinned in the config (random search with a carried pool, importance
    auto), so that a new rfe.step cannot make a box choose another preset; rfe.step 0.3."""
    from .budget import GRID_C
    from .seed import config, make_table

    name = f"seed_{rows}x{features}"
    path = OUT / "data" / name / "seed.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    truth = make_table(path, rows, features)
    cfg = config(path, truth, GRID_C, None, name, step=0.3)
    cfg["hpo"].update(search="random", carry={"top": "auto", "refresh": 0})
    cfg["rfe"]["importance"] = "auto"
    return f"{name}_pinned", cfg


def base_of(configfile: Path | None, dataset: str | None, wide: list[int] | None = None) -> tuple[str, dict]:
    """(name, config) of the first run: a config file; a budget benchmark table's part-B configuration (the grid
    of 4 configurations, LOFO: ``bench/budget.py``), e.g. ``meats`` (100 features); or (``wide``: rows, features)
    the same settings on a synthetic table of that shape (``common.make_data``: 20 informative columns, 3 angles),
    where a fit's time grows with its columns, as on the seed's workload."""
    if dataset or wide:
        from .budget import GRID_B, base_config

        config = base_config(dataset or "meats", "first", GRID_B)
        if not wide:
            return dataset, config
        rows, features = wide
        name = f"wide_{rows}x{features}"
        path = OUT / "data" / f"{name}.parquet"
        part = common.make_data(path, rows, features - 3, n_angles=3)
        config["data"].update(path=str(path), target="target", drop=[])
        config["features"].update(cyclic={}, angles=part["features"]["angles"])
        config["plots"]["target_unit"] = "target"
        return name, config
    import yaml

    base = yaml.safe_load(configfile.read_text())
    base["data"]["path"] = str((REPO / base["data"]["path"]).resolve())
    return configfile.stem, base


def measure(name: str, base: dict, step: float, only: list[str] | None = None) -> list[dict]:
    workdir = OUT / "work" / f"cache-{name}"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    cache = workdir / "cache"
    other = "one_se" if base["rfe"].get("select", "best") == "best" else "best"
    runs = [("first", {}, cache), ("select", {"select": other}, cache), ("step", {"step": step}, cache),
            ("step_nocache", {"step": step}, "off")]
    rows = []
    for name, rfe, where in runs:
        if only and name not in only:
            continue
        cfg = json.loads(json.dumps(base))
        cfg["run_name"] = name
        cfg["rfe"].update(rfe)
        write_config(workdir, cfg, name=f"{name}.yaml")
        load = uptime()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        _, wall = snakemake(workdir, "-j", "2", configfile=f"{name}.yaml", cache=str(where))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        restored, computed = _jobs(workdir / "results" / name)
        rows.append({"run": name, "change": ", ".join(f"rfe.{k}: {v}" for k, v in rfe.items()) or "-",
                     "cache": "off" if where == "off" else "on", "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "restored": restored,
                     "computed": computed, "load": re.sub(r".*load average: ", "", load)})
        print(rows[-1], flush=True)
        if name == "select":
            _, floor = snakemake(workdir, "-j", "2", "--forcerun", "summarize", configfile=f"{name}.yaml",
                                 cache=str(where))
            rows[-1]["floor_s"] = round(floor, 1)
        if name == "step_nocache":
            rows[-1]["round0_share"] = round(round0_share(workdir / "results" / name), 3)
    return rows


def round0_share(run: Path) -> float:
    """Round 0's share of the seconds of a run's search and importance shards (their Snakemake benchmark files)."""
    seconds = {}
    for tsv in run.glob("benchmarks/round_*/*.tsv"):
        lines = tsv.read_text().splitlines()
        seconds[tsv] = float(lines[1].split("\t")[0])
    total = sum(seconds.values())
    return sum(s for tsv, s in seconds.items() if tsv.parent.name == "round_000") / total if total else float("nan")


def table(rows: list[dict]) -> str:
    """Wall and CPU seconds (the run's processes and all their children: on a busy machine CPU time is the steadier
    figure), each as a share of the first run, and run 3 against run 4."""
    first = rows[0]
    by = {r["run"]: r for r in rows}
    lines = ["| run | change | cache | wall (s) | CPU (s) | wall / CPU share of the first run | cached jobs restored / "
             "computed | load average (1, 5, 15 min) at start |",
             "| --- | --- | --- | ---: | ---: | --- | --- | --- |"]
    for r in rows:
        share = f"{100 * r['wall_s'] / first['wall_s']:.0f}% / {100 * r['cpu_s'] / first['cpu_s']:.0f}%"
        if r["run"] == "step" and "step_nocache" in by:
            nc = by["step_nocache"]
            share += f" (without the cache: {nc['wall_s'] / r['wall_s']:.2f}x the wall, {nc['cpu_s'] / r['cpu_s']:.2f}x the CPU)"
        lines.append(f"| {r['run']} | {r['change']} | {r['cache']} | {r['wall_s']} | {r['cpu_s']} | {share} | "
                     f"{r['restored']} / {r['computed']} | {r['load']} |")
    notes = []
    if "select" in by and "floor_s" in by["select"]:
        floor = by["select"]["floor_s"]
        notes.append(f"- The floor of a `select` run (the same run again with `--forcerun summarize`: Snakemake's start "
                     f"and the jobs a new selection makes again): {floor} s, {100 * floor / first['wall_s']:.1f}% of "
                     "the first run's wall time, what a cache whose restores cost nothing would still take.")
    if "step_nocache" in by and "round0_share" in by["step_nocache"]:
        share = by["step_nocache"]["round0_share"]
        notes.append(f"- Round 0's share of the `step_nocache` run's search and importance shard seconds: "
                     f"{100 * share:.0f}%: no cache can make those shards' work more than {1 / (1 - share):.2f}x "
                     "faster.")
    return "\n".join(lines + ([""] + notes if notes else []))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench cache", description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", type=Path, default=REPO / "config" / "round.yaml")
    ap.add_argument("--dataset", choices=["meats", "chem_proc_yield", "bikeshare"],
                    help="instead of --configfile: a budget table's configuration (bench/budget.py, part B's grid)")
    ap.add_argument("--wide", nargs=2, type=int, metavar=("ROWS", "FEATURES"),
                    help="instead of --configfile: a synthetic table of this shape with --dataset's settings")
    ap.add_argument("--seed", nargs=2, type=int, metavar=("ROWS", "FEATURES"),
                    help="instead of --configfile: the seed's kind of workload at this shape, its preset pinned "
                         "(docs/benchmarks.md, sixth measurement: 5000 120)")
    ap.add_argument("--step", type=float, default=3, help="rfe.step of the third and fourth runs (a count, or a "
                    "fraction below 1)")
    ap.add_argument("--first-step", type=float, help="rfe.step of the first two runs (default: the config's)")
    ap.add_argument("--only", nargs="+", choices=["first", "select", "step", "step_nocache"],
                    help="run only these (in the order above; 'first' fills the cache the others read)")
    args = ap.parse_args(argv)
    print(f"running the workflow from a snapshot: {common.snapshot()}", flush=True)  # immune to edits meanwhile
    name, base = seed_config(*args.seed) if args.seed else base_of(args.configfile.resolve(), args.dataset, args.wide)
    if args.first_step:
        base["rfe"]["step"] = int(args.first_step) if args.first_step >= 1 else args.first_step
    step = int(args.step) if args.step >= 1 else args.step
    rows = measure(name, base, step, args.only)
    text = table(rows)
    (OUT / f"cache-{name}.md").write_text(text + "\n")
    print(text)
