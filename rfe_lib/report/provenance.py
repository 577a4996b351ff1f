"""Where a run's results came from: the input's checksum, the workflow's commit, the run's start and end, the
platform and the versions of the packages."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd

from ..layout import Layout

PACKAGES = ("snakemake", "rfe-pipeline", "numpy", "pandas", "pyarrow", "scikit-learn", "joblib", "matplotlib",
            "openpyxl", "pyyaml", "jinja2")


def sha256_of(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def git_commit(directory) -> str | None:
    """``git rev-parse HEAD`` of ``directory`` (with ``+ uncommitted changes`` if the tree is dirty); None
    when it is not a git checkout or git is missing."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head} + uncommitted changes" if dirty else head


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Installed versions (without importing the packages), or a note when one is not installed here."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed in this job's environment"
    return out


def run_start(run_dir) -> float | None:
    """When the run started, as a timestamp: the earliest modification time of its log and benchmark files
    and of ``data/validation.parquet`` (written by the first job). A log is rewritten when its job reruns, so
    after a partial rerun this is the start of the oldest work still in the results."""
    layout = Layout(Path(run_dir))
    candidates = [layout.file("validation")]
    for folder in (layout.logs_dir, layout.benchmarks_dir):
        if folder.is_dir():
            candidates += [p for p in folder.rglob("*") if p.is_file()]
    times = [p.stat().st_mtime for p in candidates if p.exists()]
    return min(times) if times else None


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return _dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def provenance_table(*, run_dir, data_path, workflow_dir, end: float | None = None) -> pd.DataFrame:
    """``item``, ``value``, ``note`` rows: input checksum, code version, times, platform, package versions."""
    import time

    end = time.time() if end is None else end
    start = run_start(run_dir)
    duration = ""
    if start is not None:
        seconds = int(round(end - start))
        duration = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    rows = [
        ("input file", str(data_path), "data.path of the configuration"),
        ("input sha256", sha256_of(data_path), "checksum of the input file's bytes"),
        ("input bytes", str(os.path.getsize(data_path)), ""),
        ("workflow commit", git_commit(workflow_dir) or "not a git checkout",
         "git rev-parse HEAD of the workflow directory"),
        ("started", _iso(start), "earliest log/benchmark file of the run, or data/validation.parquet"),
        ("finished", _iso(end), "when this workbook was written (the last step of the run)"),
        ("duration", duration, "finished - started (h:mm:ss)"),
        ("platform", platform.platform(), ""),
        ("python executable", sys.executable, "the environment of the workbook job"),
    ]
    rows += [(f"version: {name}", v, "") for name, v in package_versions().items()]
    return pd.DataFrame(rows, columns=["item", "value", "note"])
