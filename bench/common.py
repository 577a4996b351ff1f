"""Shared helpers of the benchmark suite: synthetic data, running the real workflow, peak memory.

Peak memory of a job is the kernel's high-water mark of its resident set (``ru_maxrss``): while the
suite runs the workflow, ``bench/_rss/`` is put on ``PYTHONPATH``, and its ``sitecustomize.py`` makes
every Python process (each job's script included) record its own peak at exit. Snakemake's
``benchmark:`` files are read too, but they sample memory (every second for 30 s, then every 30 s),
so they can miss a short peak; the tables show the kernel figure.

The SLURM executor plugin (the project's ``[slurm]`` extra) runs ``scontrol show config`` when Snakemake
imports it, at every start; where SLURM's client is installed but no controller answers, that waits
up to 10 s. The suite puts ``bench/_noslurm/`` (an ``scontrol`` that fails at once) first on ``PATH``
so that the figures measure the pipeline, and reports what the real probe costs on this machine.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The workflow under test: this repository, or a frozen copy of it (``python -m bench --snapshot``), so that
# edits made to the working tree while a long benchmark runs do not trigger reruns half-way.
SNAKEFILE = Path(os.environ.get("RFE_BENCH_SNAKEFILE", REPO / "Snakefile"))
SNAPSHOT_PARTS = ("Snakefile", "workflow", "rfe_lib", "config", "envs", "profiles")
OUT = REPO / "bench" / "out"
RSS_HOOK = REPO / "bench" / "_rss"
NO_SLURM = REPO / "bench" / "_noslurm"
MB = 2**20


def layout(workdir, run_name: str):
    """The artifact paths (``Path``s) of run ``run_name`` in working directory ``workdir`` (``rfe_lib.layout``)."""
    from rfe_lib.layout import RESULTS, Layout

    return Layout.of(run_name, Path(workdir) / RESULTS)


def targets(run_name: str):
    """The artifact paths of run ``run_name`` relative to its working directory, as strings: Snakemake's targets."""
    from rfe_lib.layout import Layout

    return Layout.of(run_name)


def matching(pattern) -> list[Path]:
    """The existing paths that match ``pattern``, a layout path with ``*`` for a number or a name, sorted."""
    import glob

    return sorted(Path(p) for p in glob.glob(str(pattern)))


def make_data(path, n_rows: int, n_numeric: int, n_angles: int = 3, seed: int = 0) -> dict:
    """Write a synthetic regression table (``make_regression`` plus angle columns); return its config part."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=n_rows, n_features=n_numeric, n_informative=min(n_numeric, 20),
                           noise=10.0, random_state=seed)
    rng = np.random.default_rng(seed)
    cols = {f"x{j:04d}": X[:, j] for j in range(n_numeric)}
    del X
    for a in range(n_angles):
        angle = rng.uniform(0.0, 360.0, n_rows)
        cols[f"angle{a}"] = angle
        y = y + 20.0 * np.sin(np.deg2rad(angle)) * (a + 1)
    cols["target"] = y
    df = pd.DataFrame(cols)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)
    return {"data": {"path": str(Path(path).name), "target": "target"},
            "features": {"angles": {f"angle{a}": "degrees" for a in range(n_angles)}}}


def write_config(workdir: Path, config: dict, name: str = "config.yaml") -> Path:
    import yaml

    path = Path(workdir) / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, configfile: str = "config.yaml", check: bool = True,
              rss: bool = False, cache: str = "off") -> tuple[subprocess.CompletedProcess, float]:
    """Run the real workflow in ``workdir``; return the process and its wall seconds. ``cache``: the folder of the
    cache between runs (RFE_CACHE), off unless a benchmark measures it."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir),
           "--configfile", str(Path(workdir) / configfile), *args]
    env = bench_env()
    env["RFE_CACHE"] = str(cache)
    if rss:
        rss_dir = Path(workdir) / "rss"
        rss_dir.mkdir(exist_ok=True)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(RSS_HOOK), env.get("PYTHONPATH")) if p)
        env["RFE_BENCH_RSS_DIR"] = str(rss_dir)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    return proc, wall


def snapshot() -> Path:
    """Copy the workflow and rfe_lib to ``bench/out/snapshot-<pid>/`` and run the workflow from there from now on."""
    import shutil

    global SNAKEFILE
    dest = OUT / f"snapshot-{os.getpid()}"  # one per suite process: suites may run side by side
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for part in SNAPSHOT_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / part)
    SNAKEFILE = dest / "Snakefile"
    os.environ["RFE_BENCH_SNAKEFILE"] = str(SNAKEFILE)  # for the suite's subprocesses
    return dest


def bench_env() -> dict:
    env = dict(os.environ)
    env["RFE_CACHE"] = "off"  # benchmarks measure computing, unless one measures the cache (bench/cache.py)
    env["PATH"] = os.pathsep.join((str(NO_SLURM), env.get("PATH", "")))
    return env


def slurm_probe_seconds() -> float | None:
    """Wall seconds of ``scontrol show config`` here (what the SLURM plugin runs at import), None without SLURM."""
    import shutil

    if shutil.which("scontrol") is None:
        return None
    t0 = time.perf_counter()
    subprocess.run(["scontrol", "show", "config"], capture_output=True, timeout=30)
    return round(time.perf_counter() - t0, 2)


def job_peaks(workdir: Path, script: str) -> list[dict]:
    """Peak-RSS records (``maxrss_mb``, ``seconds``) of the processes that ran ``workflow/scripts/<script>``."""
    out = []
    for f in sorted((Path(workdir) / "rss").glob("*.json")):
        rec = json.loads(f.read_text())
        if rec["argv0"].endswith(f".{script}") or rec["argv0"].endswith(f"/{script}"):
            out.append(rec)
    return out


def clear_peaks(workdir: Path) -> None:
    for f in (Path(workdir) / "rss").glob("*.json"):
        f.unlink()


def benchmark_tsv(path) -> dict:
    """The one row of a Snakemake ``benchmark:`` file."""
    import csv

    with open(path) as fh:
        return next(csv.DictReader(fh, delimiter="\t"))


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict:
    """Machine, versions, date and current load, for the header of a results table."""
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 2**20
    except OSError:
        pass
    versions = {p: version(p) for p in ("snakemake", "pandas", "pyarrow", "scikit-learn", "numpy")}
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "cpu": cpu, "cores": os.cpu_count(),
            "memory_gib": round(mem, 1) if mem else None, "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions, "uptime": uptime()}


def save(name: str, mode: str, record) -> Path:
    path = OUT / mode / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=str))
    return path


def load(name: str, mode: str):
    path = OUT / mode / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None
