"""Each cut of the per-round overhead measured on its own: the same runs with the workflow at successive commits.

    python -m bench.cuts COMMIT [COMMIT ...] [--repeat 2]

For each commit (a checkout in ``bench/out/cuts/<commit>``, made with ``git worktree``) it runs, from an empty folder
at ``-j 2``: the bundled example (``config/round.yaml``), and the side-by-side case of ``bench/versus.py`` (Bikeshare,
HistGradientBoosting ``max_iter=100``, a grid of one, step 1), and prints wall and CPU seconds and the number of jobs,
the best of ``--repeat`` runs. The commits' own ``config/round.yaml`` is used (an old checkout names the importance
section ``lofo``).
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

from .common import OUT, REPO, bench_env, write_config

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

    example = yaml.safe_load((tree / "config" / "round.yaml").read_text())
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
            "rounds": len(list((workdir / "results" / config["run_name"]).glob("round_*/hpo")))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("commits", nargs="+")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    rows = []
    for commit in args.commits:
        tree = checkout(commit)
        for name, config in configs(tree).items():
            best = min((run(tree, name, config) for _ in range(args.repeat)), key=lambda r: r["wall"])
            row = {"commit": commit, "case": name, **{k: round(v, 1) if isinstance(v, float) else v
                                                       for k, v in best.items()},
                   "load": round(os.getloadavg()[0], 2)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    out = OUT / "cuts.json"
    out.write_text(json.dumps(rows, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
