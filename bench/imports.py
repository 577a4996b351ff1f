"""Start-up cost of each workflow script: what a job pays in imports before it does any work.

The modules come from real jobs: while the suite runs the workflow, every job records the modules
it had loaded when it ended (see ``bench/_rss/sitecustomize.py``), lazy imports inside rfe_lib
included (a fitting job loads scikit-learn at its first fit). For each script the suite then
replays, in a fresh interpreter, the Snakemake preamble that every ``script:`` job runs followed by
the import of exactly those modules, and reports the median of ``repeats`` runs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from .common import REPO, bench_env

HEAVY = ("sklearn", "scipy", "matplotlib", "pandas", "pyarrow", "joblib", "openpyxl", "numpy")

_PROBE = """
import sys, time
t0 = time.perf_counter()
import pickle
from snakemake.logging import logger
from snakemake.iocontainers import Snakemake
t1 = time.perf_counter()
for name in sys.argv[1:]:
    try:
        __import__(name)
    except Exception:
        pass
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def script_name(argv0: str) -> str:
    """``.snakemake/scripts/tmpab12cd.hpo_shard.py`` -> ``hpo_shard.py``."""
    name = argv0.rsplit("/", 1)[-1]
    return name.split(".", 1)[1] if name.startswith("tmp") and name.count(".") >= 2 else name


def measure(job_records, repeats: int = 3, log=print) -> list[dict]:
    """One row per script: jobs seen, median job seconds, replayed import seconds, heavy packages."""
    by_script: dict = {}
    for rec in job_records:
        by_script.setdefault(script_name(rec["argv0"]), []).append(rec)
    env = bench_env()
    env["PYTHONPATH"] = str(REPO)
    rows = []
    for script in sorted(by_script):
        recs = by_script[script]
        mods = max((r["modules"] for r in recs), key=len)
        mods = [m for m in mods if not m.startswith(("snakemake", "bench"))]
        pre, imp = [], []
        for _ in range(repeats):
            out = subprocess.run([sys.executable, "-c", _PROBE, *mods], capture_output=True, text=True,
                                 env=env, cwd=REPO)
            a, b = out.stdout.split()[:2]
            pre.append(float(a))
            imp.append(float(b))
        heavy = sorted({m.split(".")[0] for m in mods} & set(HEAVY), key=HEAVY.index)
        row = {"script": script, "jobs": len(recs),
               "job_seconds_median": round(statistics.median(r["seconds"] for r in recs), 2),
               "preamble_s": round(statistics.median(pre), 3), "imports_s": round(statistics.median(imp), 3),
               "heavy": ", ".join(heavy) or "-", "sklearn": any(m.split(".")[0] == "sklearn" for m in mods)}
        log(f"  {row}")
        rows.append(row)
    return rows


def interpreter_start(repeats: int = 5) -> float:
    """Median wall seconds of ``python -c pass`` (the floor of any job)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"])
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 3)
