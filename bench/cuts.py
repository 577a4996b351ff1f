"""Each cut of the per-round overhead measured on its own: the same runs with the workflow at successive commits.

    python -m bench.cuts COMMIT [COMMIT ...] [--repeat 2] [--cases example versus] [--append]

For each commit (a checkout in ``bench/out/cuts/<commit>``, made with ``git worktree``) it runs, from an empty folder
at ``-j 2``: the former bundled example (``config/example_full.yaml``), and the side-by-side case of ``bench/versus.py`` (Bikeshare,
HistGradientBoosting ``max_iter=100``, a grid of one, step 1), and prints wall and CPU seconds and the number of jobs,
the best of ``--repeat`` runs. The commits' own ``config/example_full.yaml`` is used, or before issue 22 their
``config/round.yaml``, the same configuration (an old checkout names the importance section ``lofo``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import OUT, REPO, bench_env, layout, matching, write_config

CUTS = OUT / "cuts"


def checkout(commit: str) -> Path:
    tree = CUTS / commit
    if not (tree / "Snakefile").is_file():
        CUTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=REPO, check=True,
                       capture_output=True)
    return tree


def configs(tree: Path) -> dict:
    import yaml

    # the heavier example: config/example_full.yaml since issue 22 made config/round.yaml the quick first run
    full = tree / "config" / "example_full.yaml"
    example = yaml.safe_load((full if full.is_file() else tree / "config" / "round.yaml").read_text())
    example["run_name"] = "example"
    example["data"]["path"] = str(REPO / "data" / "example" / "bikeshare.parquet")
    versus = json.loads(json.dumps(example))
    versus["run_name"] = "versus"
    versus["model"]["params"] = {"random_state": 0, "max_iter": 100}
    versus["hpo"]["grid"] = {"learning_rate": [0.1]}
    versus["rfe"].update(step=1, min_features=3, select="best")
    return {"example": example, "versus": versus}


def run(tree: Path, name: str, config: dict) -> dict:
    workdir = CUTS / "work" / f"{tree.name}_{name}"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    write_config(workdir, config)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(tree / "Snakefile"), "-d", str(workdir),
                           "--configfile", str(workdir / "config.yaml"), "-j", "2"], capture_output=True, text=True,
                          env=bench_env())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(f"{tree.name} {name} failed:\n{proc.stderr[-3000:]}")
    m = re.search(r"(\d+) of \1 steps \(100%\) done", proc.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "jobs": int(m.group(1)) if m else None,
            "rounds": len(matching(layout(workdir, config["run_name"]).round_file("*", "results").parent))}


# What each measured commit changed (commits not listed are labelled with their subject line).
CUTS_MADE = {
    "b6c0db4": "before: a job per figure (13 per round), five bookkeeping jobs per round",
    "3305b60": "a job per round and figure family (4 per round); the plan printed once per run",
    "caa1e3a": "a job per round and figure family (3305b60); bookkeeping folded into its consumers",
    "e111167": "one job draws all of a round's figures; `auto` shards of at least 10 fits",
    "aebdc96": "a grid of one: importance shards start without waiting for the search",
    "263fa26": "a grid of one: importance shards start without waiting for the search (aebdc96); issues 12-14",
}


def label(commit: str) -> str:
    if commit[:7] in CUTS_MADE:
        return CUTS_MADE[commit[:7]]
    return subprocess.run(["git", "log", "-1", "--format=%s", commit], cwd=REPO, capture_output=True,
                          text=True).stdout.strip()[:90]


def table() -> list[str]:
    """The cuts measured by ``main`` (``bench/out/cuts.json``) as one table; [] when none were measured."""
    path = OUT / "cuts.json"
    if not path.is_file():
        return []
    rows = json.loads(path.read_text())
    by = {}
    for r in rows:
        by.setdefault(r["commit"], {})[r["case"]] = r
    out = ["| commit | change | example: wall (s) | CPU (s) | jobs | side by side: wall (s) | CPU (s) | jobs | load |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for commit, cases in by.items():
        e, v = cases.get("example", {}), cases.get("versus", {})
        out.append(f"| `{commit[:7]}` | {label(commit)} | {e.get('wall', '')} | {e.get('cpu', '')} | {e.get('jobs', '')} | "
                   f"{v.get('wall', '')} | {v.get('cpu', '')} | {v.get('jobs', '')} | {max(e.get('load', 0), v.get('load', 0))} |")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("commits", nargs="+")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cases", nargs="+", default=["example", "versus"], choices=["example", "versus"])
    ap.add_argument("--append", action="store_true", help="add to bench/out/cuts.json instead of replacing it")
    args = ap.parse_args(argv)
    out = OUT / "cuts.json"
    rows = json.loads(out.read_text()) if args.append and out.is_file() else []
    for commit in args.commits:
        tree = checkout(commit)
        for name, config in configs(tree).items():
            if name not in args.cases:
                continue
            best = min((run(tree, name, config) for _ in range(args.repeat)), key=lambda r: r["wall"])
            row = {"commit": commit, "case": name, **{k: round(v, 1) if isinstance(v, float) else v
                                                       for k, v in best.items()},
                   "load": round(os.getloadavg()[0], 2)}
            print(json.dumps(row), flush=True)
            rows = [r for r in rows if (r["commit"], r["case"]) != (commit, name)] + [row]
            out.write_text(json.dumps(rows, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
