"""Shared fixtures: a small real dataset (a slice of the bundled example), configs, and Snakemake runs.

Workflow tests run the real Snakefile in a subprocess (``python -m snakemake``) in a temporary working
directory, exactly as a user would, and read the real artifacts back.
"""

from __future__ import annotations

import copy
import glob
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rfe_lib.layout import RESULTS, Layout

# In-process fits (unit tests, the reference recomputations) use one OpenMP thread, as every job of a run does
# (Snakemake sets OMP_NUM_THREADS to a job's threads). On two cores shared with a run's jobs, OpenMP's waiting threads
# made a one-second HistGradientBoosting test take 20-40 s. Results do not depend on it. (Set before scikit-learn
# loads OpenMP, which reads it once.)
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
EXAMPLE = REPO / "data" / "example" / "bikeshare.parquet"

# 2,000 rows, 5 features (hour is cyclic: two columns), 4 configurations, 3 folds, 3 rounds (5 -> 4 -> 3).
SMALL_CONFIG = {
    "run_name": "t",
    "data": {"path": "data.parquet", "target": "bikers",
             "features": ["hour", "temp", "hum", "workingday", "weathersit"]},
    "features": {"cyclic": {"hour": 24}},
    "split": {"test_fraction": 0.15, "val_fraction": 0.15, "stratify_bins": 5, "folds": 3, "seed": 7},
    "model": {"estimator": "sklearn.ensemble.HistGradientBoostingRegressor", "params": {"max_iter": 30}},
    "hpo": {"grid": {"learning_rate": [0.1, 0.2], "max_leaf_nodes": [7, 15]}, "shards": 1},
    "rfe": {"step": 1, "min_features": 3},
    "importance": {"shards": 1},
    "evaluation": {"tolerances": [10, 25, 50]},
}


# Every budget at once (issues 12 and 13), 3 rounds (5 -> 4 -> 3 features): successive halving (3 rungs in round 0:
# 12 -> 4 -> 2 configurations, each rung sharded) with the ranking carried to later rounds, permutation importance
# while more than 4 features remain (round 0) and LOFO after, temp and atemp grouped as one feature (|Spearman| > 0.9
# on training rows), and early stopping, whose decisions are checkpoints taken in the main Snakemake process.
BUDGETS = {
    "data": {"features": ["hour", "temp", "atemp", "hum", "workingday", "weathersit"]},
    "features": {"correlated": {"threshold": 0.9, "action": "group"}},
    "hpo": {"grid": {"learning_rate": [0.05, 0.1, 0.2, 0.3], "max_leaf_nodes": [7, 15, 31]}, "search": "halving",
            "carry": {"top": 3}, "shards": 2},
    "rfe": {"step": 1, "min_features": 3, "importance": "auto", "lofo_below": 4, "shuffles": 2,
            "stop": {"patience": 2, "tolerance": 1.0}},
    "importance": {"shards": 2},
    "plots": {"top_features": 0},
}


# The budgets run that tests share (budgets_run): every budget of BUDGETS, in 2 rounds (5 -> 4 features, temp and atemp
# counted as one) on 1,000 rows: 12 configurations searched in 3 halving rungs of 2 shards each in round 0, the top 3
# carried to round 1; permutation importance in round 0, LOFO in round 1; early stopping's decision after each round.
BUDGETS_RUN, BUDGETS_ROWS = {**BUDGETS, "rfe": {**BUDGETS["rfe"], "min_features": 4}}, 1000


def settings_of(overrides: dict | None = None):
    """The settings of ``SMALL_CONFIG`` with ``overrides`` (defaults from the schema, as a run gets them)."""
    from rfe_lib.settings import Settings

    return Settings.from_config(deep_update(SMALL_CONFIG, overrides or {}))


def model_spec(estimator: str, **fields):
    """A :class:`rfe_lib.models.ModelSpec` for ``estimator``: the schema's defaults (no fixed parameters, no
    imputation or scaling, seed 42), with ``fields`` replaced."""
    import dataclasses

    spec = settings_of({"model": {"estimator": estimator}}).model_spec()
    return dataclasses.replace(spec, **{"params": {}, **fields})


def data_spec(**fields):
    """A :class:`rfe_lib.data.DataSpec`: every column a feature, nothing encoded or derived, with ``fields``."""
    import dataclasses

    neutral = dict(features=None, drop=(), id_column=None, cyclic={}, angles={}, derived={})
    return dataclasses.replace(settings_of().data_spec(), **{**neutral, **fields})


# An angle target: CSV input, an angle feature, a derived feature, median imputation, a fractional step.
ANGLE_CONFIG = {
    "run_name": "t",
    "data": {"path": "data.csv", "target": "direction", "features": None},
    "features": {"cyclic": {}, "angles": {"wind_dir": "degrees"}, "impute": "median",
                 "derived": {"x1x2": {"op": "product", "columns": ["x1", "x2"]}}},
    "model": {"estimator": "sklearn.ensemble.HistGradientBoostingRegressor", "params": {"max_iter": 40}},
    "hpo": {"grid": {"learning_rate": [0.1, 0.3]}},
    "rfe": {"step": 0.5, "min_features": 3},
    "evaluation": {"tolerances": [5, 20]},
    "target_angle": "degrees",
}


def angle_frame(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    """A direction in [0, 360) driven by two features and a wind direction, with missing values in x2."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    wind = rng.uniform(0, 360, n)
    direction = np.degrees(np.arctan2(x1, x2)) + 15 * np.sin(np.radians(wind)) + rng.normal(scale=5, size=n)
    df = pd.DataFrame({"x1": x1, "x2": x2, "wind_dir": wind, "noise": rng.normal(size=n),
                       "direction": np.mod(direction, 360)})
    df.loc[rng.choice(n, 40, replace=False), "x2"] = np.nan
    return df


def small_frame(n_rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A reproducible random slice of the bundled example (rows kept in file order)."""
    df = pd.read_parquet(EXAMPLE)
    return df.sample(n=n_rows, random_state=seed).sort_index().reset_index(drop=True)


def deep_update(base: dict, overrides: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_update(out[k], v)
        else:
            out[k] = v
    return out


def write_config(workdir: Path, overrides: dict | None = None, name: str = "config.yaml") -> Path:
    cfg = deep_update(SMALL_CONFIG, overrides or {})
    path = Path(workdir) / name
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def make_workdir(workdir: Path, overrides: dict | None = None, n_rows: int = 2000, frame=None) -> Path:
    """A working directory with ``data.parquet`` and ``config.yaml``; returns the config path."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (frame if frame is not None else small_frame(n_rows)).to_parquet(workdir / "data.parquet", index=False)
    return write_config(workdir, overrides)


def base_env(**extra) -> dict:
    """The environment of a test run: reproducible hashing, no cache between runs, and no waiting on an absent SLURM
    controller.

    Snakemake imports every installed executor plugin when it starts; the SLURM plugin then runs
    ``scontrol show config`` (10 s timeout), which waits about 9 s when the SLURM client is installed but no
    controller runs (as in CI outside the SLURM test). Local runs do not use SLURM, so a stub ``scontrol`` that
    fails at once goes first on PATH.
    """
    import tempfile

    stubs = Path(tempfile.gettempdir()) / f"rfe-test-stubs-{os.getuid()}"
    if not (stubs / "scontrol").exists():
        stubs.mkdir(exist_ok=True)
        tmp = stubs / f"scontrol.{os.getpid()}"
        tmp.write_text("#!/bin/sh\nexit 1\n")
        tmp.chmod(0o755)
        os.replace(tmp, stubs / "scontrol")
    # RFE_CACHE=off: no cache between runs (rfe_lib/jobcache.py), so every test run computes what it checks; the cache's
    # own tests (tests/test_cache.py) pass a folder of their own.
    return {**os.environ, "PYTHONHASHSEED": "0", "PATH": f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}",
            "RFE_CACHE": "off", **extra}


def snakemake(workdir: Path, *args: str, configfile: str = "config.yaml", check: bool = True,
              timeout: float = 900, **popen) -> subprocess.CompletedProcess:
    """Run the real workflow in ``workdir``; on failure with ``check``, fail the test showing the output."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir),
           "--configfile", str(Path(workdir) / configfile), *args]
    popen.setdefault("env", base_env())
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **popen)
    if check and proc.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


def planned_rules(workdir: Path, *args: str, configfile: str = "config.yaml") -> dict:
    """``{rule: job count}`` that ``snakemake -n`` plans (empty when nothing is to be done)."""
    proc = snakemake(workdir, "-n", "--quiet", "rules", *args, configfile=configfile)
    counts = {}
    lines = (proc.stdout + "\n" + proc.stderr).splitlines()
    in_table = False
    for line in lines:
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
            continue
        if in_table:
            if len(parts) == 2 and parts[1].isdigit():
                if parts[0] != "total":
                    counts[parts[0]] = int(parts[1])
            elif parts and not set(line.replace(" ", "")) <= {"-"}:
                in_table = False
    return counts


def layout(workdir: Path, run_name: str = "t") -> Layout:
    """The artifact paths (``Path``s) of run ``run_name`` in working directory ``workdir``."""
    return Layout.of(run_name, Path(workdir) / RESULTS)


def run_dir(workdir: Path, run_name: str = "t") -> Path:
    """The folder of run ``run_name`` in ``workdir`` (``results/<run_name>``)."""
    return layout(workdir, run_name).root


def artifact(run: Layout, key: str, r=None) -> pd.DataFrame:
    """A Parquet artifact of ``run`` by its layout key: of the whole run (``RUN_FILES``), or of round ``r``
    (``ROUND_FILES``)."""
    return pd.read_parquet(run.file(key) if r is None else run.round_file(r, key))


def training_rows(run: Layout, r: int):
    """``X, y, fold`` of round ``r``'s training rows, read from a finished run's artifacts (its table, feature map,
    split and round features): the matrix every CV fit of the round sees, in feature-map column order."""
    table = pd.read_parquet(run.file("table"))
    fmap = pd.read_parquet(run.file("feature_map"))
    features = set(pd.read_parquet(run.round_file(r, "features"))["feature"])
    columns = [c for f, c in zip(fmap["feature"], fmap["column"]) if f in features]
    split = pd.read_parquet(run.file("split"))
    train = split[split["set"] == "train"]
    X = table[columns].to_numpy(dtype=float)[train["row"].to_numpy()]
    return X, train["y"].to_numpy(dtype=float), train["fold"].to_numpy()


def matching(pattern) -> list[Path]:
    """The existing paths that match ``pattern``, a layout path with ``*`` for a number
    (``layout(w).hpo_shard(0, 0, "*")``), sorted."""
    return sorted(Path(p) for p in glob.glob(str(pattern)))


# The artifact paths of run "t" relative to a working directory, as strings: Snakemake's targets.
TARGET = Layout.of(SMALL_CONFIG["run_name"])


# No quiet skips in CI: RFE_NO_SKIPS=1 (set by .ci/run) makes every skip a failure (tests/_no_skips.py).
from _no_skips import pytest_make_collect_report, pytest_runtest_makereport, skip_or_fail  # noqa: E402,F401


def session_root(tmp_path_factory) -> Path:
    """The session's temporary folder, one for all of pytest-xdist's worker processes (each has a subfolder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_run(tmp_path_factory, name: str, make) -> tuple[Path, str]:
    """A run made once per test session and shared by every test process (pytest-xdist's workers) that asks for it:
    the first to ask makes it while the others wait on a file lock. ``make(workdir)`` fills the empty working
    directory ``workdir`` and runs the workflow there, returning the run's output (kept beside it, in
    ``<name>.log``). Returns the working directory and that output. Its users only read it or copy it (dry runs,
    ``--report`` and ``--lint`` take no lock and write no artifact)."""
    import fcntl
    import shutil

    root = session_root(tmp_path_factory)
    workdir, done, log = root / name, root / f"{name}.done", root / f"{name}.log"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(workdir, ignore_errors=True)  # a failed attempt's leftovers
            workdir.mkdir()
            log.write_text(make(workdir))
            done.touch()
    return workdir, log.read_text()


def _small_run(workdir: Path) -> str:
    make_workdir(workdir)
    proc = snakemake(workdir, "-j", "2")
    return proc.stdout + proc.stderr


def budgets_workdir(workdir: Path) -> Path:
    """A working directory for the budgets run (BUDGETS_RUN on BUDGETS_ROWS rows); returns the config path."""
    return make_workdir(workdir, BUDGETS_RUN, n_rows=BUDGETS_ROWS)


def _budgets_run(workdir: Path) -> str:
    budgets_workdir(workdir)
    proc = snakemake(workdir, "-j", "2")
    return proc.stdout + proc.stderr


def budgets_run(tmp_path_factory) -> tuple[Path, str]:
    """The budgets run, uninterrupted, and its output: made once per session (:func:`shared_run`), the reference of
    the crash-and-resume test with every budget (tests/test_resume_budgets.py) and of the SLURM run with every budget
    (tests/test_slurm.py)."""
    return shared_run(tmp_path_factory, "budgets_run", _budgets_run)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """One complete small run (3 rounds), shared by the tests that only read its artifacts: made once per session,
    by the first of the test processes to need it (:func:`shared_run`)."""
    return shared_run(tmp_path_factory, "small_run", _small_run)[0]


# ---------------------------------------------------------------- parallel test processes (pytest-xdist)
# `pytest` runs the tests in one process per CPU plus one (pyproject: -n auto --dist loadfile, in collection order;
# pytest_xdist_auto_num_workers): most of the suite waits on Snakemake subprocesses and the SLURM test on the scheduler.
# Each module runs whole in one process, so that its module-scoped runs are made once. Session-scoped runs (small_run)
# are made once per process that needs them; _reliability.baseline() once for all of them (a file lock).
# (Not --dist loadgroup: pytest-xdist 3.8 cannot rename the tests of a group under pytest 9.2, so it ignores groups.)
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one test process per CPU, and one more for the SLURM module, which spends most of its 8 minutes
    waiting for the scheduler (about 100 of its 500 seconds on a CPU): with one process per CPU, the cores idled
    while it waited (the whole suite used 1.3 of 2 cores)."""
    return (os.cpu_count() or 1) + 1


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # the SLURM module first: the longest, and it mostly waits
    items.sort(key=lambda item: item.get_closest_marker("slurm") is None)
