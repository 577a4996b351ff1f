"""Helpers for the reliability tests (issue 6): background runs, SIGKILL, fault injection, artifact comparison.

The tests run the real workflow in a subprocess. To kill a job at an exact point, or make one fail, they put a
``sitecustomize.py`` on the ``PYTHONPATH`` of that run only (:func:`hook_env`): it wraps ``rfe_lib.io.atomic_path``
(through which every artifact, figure and workbook is written) so that a job matching a glob pattern pauses just
before the rename, with its whole temporary file written and the target still absent (the worst moment for a
kill), or raises there. Nothing in the pipeline knows about it.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd
import pytest
import yaml

from conftest import SNAKEFILE, TARGET, base_env, layout, make_workdir, shared_run
from rfe_lib.layout import Layout

# The reliability runs: the conftest slice (2,000 rows, 5 features, 4 configurations, 3 folds), two rounds
# (5 -> 4 features) and no per-feature residual figures, so a whole run (with figures and workbook) stays short.
RELIABLE = {"rfe": {"min_features": 4}, "plots": {"top_features": 0}}
RUN = Path(TARGET.root)  # the run's folder, relative to its working directory
# Paths relative to the run's folder: the names under which :func:`artifacts` holds them.
REL = Layout(PurePosixPath("."))
# Any run's paths as glob patterns, for the hooks' pause and fail targets (``ANY.hpo_shard(0, 0, 0)``).
ANY = Layout("*")

# Columns that measure time, not results: they legitimately differ between runs and are not compared.
TIMING_COLUMNS = ("fit_seconds",)
# Rows of the workbook's Provenance sheet that are clock readings.
TIMING_ITEMS = ("started", "finished", "duration")
# Folders of run records, not results: logs carry timestamps and durations, benchmarks measure time.
NOT_COMPARED = (str(REL.logs_dir), str(REL.benchmarks_dir))
TMP_MARK = ".rfe-tmp-"

# Rules of the core pipeline (validation to summary): none of them may rerun for a figure setting.
# (``eliminate`` stands for the per-round rules eliminate_000, eliminate_001, ...: see rule_name)
CORE_RULES = {"validate_data", "split_data", "engineer_features", "hpo_shard", "train_model", "importance_shard",
              "eliminate", "summarize"}

HOOK = '''
import os
_spec = os.environ.get("RFE_TEST_HOOK")
if _spec:
    import contextlib, fnmatch, json, time
    from pathlib import Path

    import rfe_lib.io as _io

    _spec = json.loads(_spec)
    _orig = _io.atomic_path

    def _matching(key, target):
        return [i for i, pat in enumerate(_spec.get(key, ())) if fnmatch.fnmatch(str(target), pat)]

    @contextlib.contextmanager
    def atomic_path(target):
        with _orig(target) as tmp:
            yield tmp
            # The temporary is whole; the rename into place has not happened yet.
            for i in _matching("pause", target):
                marker = Path(_spec["markers"]) / f"pause-{i}.json"
                release = marker.with_suffix(".release")
                if release.exists():
                    continue
                marker.with_suffix(".tmp").write_text(json.dumps({"pid": os.getpid(), "target": str(target),
                                                                  "tmp": str(tmp)}))
                os.replace(marker.with_suffix(".tmp"), marker)
                deadline = time.monotonic() + 600
                while not release.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
            if _matching("fail", target):
                raise RuntimeError(f"injected failure while writing {target}")
            for i in _matching("fail_once", target):
                failed = Path(_spec["markers"]) / f"failed-once-{i}"
                if not failed.exists():
                    failed.touch()
                    raise RuntimeError(f"injected failure (once) while writing {target}")

    _io.atomic_path = atomic_path
'''


def hook_env(tmp_dir: Path, pause=(), fail=(), fail_once=(), base: dict | None = None) -> tuple[dict, list[Path]]:
    """Environment for a run whose jobs pause (or fail) when they finish writing a target matching a pattern.
    A ``fail_once`` pattern fails the first job that matches it, and no other (a retry then succeeds). ``base``
    is the environment to extend (default: :func:`conftest.base_env`).

    Returns the environment and, for each pause pattern, the marker file that the first job to match it writes
    (JSON: pid, target, tmp). That job stays paused until :func:`release` (or until it is killed); once released, a
    pattern pauses no more jobs.
    """
    tmp_dir = Path(tmp_dir)
    hook = tmp_dir / "hook"
    hook.mkdir(parents=True, exist_ok=True)
    (hook / "sitecustomize.py").write_text(HOOK)
    markers = tmp_dir / f"markers-{len(list(tmp_dir.glob('markers-*')))}"
    markers.mkdir()
    spec = {"pause": list(pause), "fail": list(fail), "fail_once": list(fail_once), "markers": str(markers)}
    # The hook imports rfe_lib.io when Python starts, before the Snakefile puts its own folder on sys.path: put the
    # tree under test first, so that the run uses its rfe_lib and not another one installed in the environment.
    path = (str(hook), str(Path(SNAKEFILE).parent), os.environ.get("PYTHONPATH"))
    extra = {"RFE_TEST_HOOK": json.dumps(spec), "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    env = base_env(**extra) if base is None else {**base, **extra}
    return env, [markers / f"pause-{i}.json" for i in range(len(pause))]


def release(marker: Path) -> None:
    Path(marker).with_suffix(".release").touch()


def command(workdir: Path, *args: str, configfile: str = "config.yaml", snakefile: Path = SNAKEFILE) -> list[str]:
    """The documented command line, run on ``workdir`` (``-s``/``-d`` only say where, as ``cd`` would)."""
    return [sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir),
            "--configfile", str(Path(workdir) / configfile), *args]


def run(workdir: Path, *args: str, env=None, check=True, timeout=900, **kw) -> subprocess.CompletedProcess:
    env = env or base_env()
    proc = subprocess.run(command(workdir, *args, **kw), capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                    f"{proc.stderr[-6000:]}")
    return proc


def start(workdir: Path, *args: str, env=None, out: Path) -> subprocess.Popen:
    """Start a run in the background in its own process group (so the whole group can be killed)."""
    fh = open(out, "w")
    proc = subprocess.Popen(command(workdir, *args), env=env or base_env(), stdout=fh, stderr=subprocess.STDOUT,
                            start_new_session=True)
    proc.log_path = out
    fh.close()
    return proc


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 600) -> dict:
    """Wait until a paused job writes ``path``; fail if the run ends first."""
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended ({proc.returncode}) before reaching the pause point:\n"
                        f"{Path(proc.log_path).read_text()[-6000:]}")
        if time.monotonic() > deadline:
            kill_group(proc)
            pytest.fail("the run did not reach the pause point in time")
        time.sleep(0.05)
    return json.loads(Path(path).read_text())


def _group_members(pgid: int) -> list[int]:
    import psutil

    members = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(p.pid)
        except (ProcessLookupError, PermissionError):
            continue
    return members


def kill_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGKILL Snakemake and every job it started (its whole process group); wait until they are all gone."""
    pgid = proc.pid  # start_new_session: the run leads its own group
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while _group_members(pgid):
        if time.monotonic() > deadline:
            pytest.fail(f"processes of the killed run survive: {_group_members(pgid)}")
        time.sleep(0.05)


def copy_workdir(src: Path, dst: Path) -> Path:
    """A copy of a finished run's folder, with modification times and Snakemake's records kept."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


def files_under(root: Path) -> set[str]:
    root = Path(root)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()


def stale_temporaries(root: Path) -> list[str]:
    return sorted(f for f in files_under(root) if TMP_MARK in Path(f).name)


def incomplete_marks(workdir: Path) -> set[str]:
    """Outputs that Snakemake marked incomplete (jobs that were running when the run died)."""
    d = Path(workdir) / ".snakemake" / "incomplete"
    out = set()
    for f in d.rglob("*") if d.is_dir() else ():
        if f.is_file():  # named by the path's urlsafe base64; long names are split into "@"-prefixed folders
            b64 = "".join(part.lstrip("@") for part in f.relative_to(d).parts)
            out.add(base64.urlsafe_b64decode(b64).decode())
    return out


# --------------------------------------------------------------------------------------- parse-time checks

SCHEMA_PATH = Path(SNAKEFILE).parent / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())


def parse_time_checks(config: dict):
    """What the workflow does with a config when it is parsed (workflow/rules/common.smk), before any job:
    ``Settings.from_config`` of the config as written (its one validation: plain-words schema checks, defaults, the
    cross-key rules), then ``make_plan``. Returns the plan or raises the RFEError whose message the user sees."""
    import copy

    from rfe_lib.plan import make_plan
    from rfe_lib.settings import Settings

    return make_plan(Settings.from_config(copy.deepcopy(config), written=True))


# --------------------------------------------------------------------------------------- dry runs

@dataclass(frozen=True)
class PlannedJob:
    rule: str
    wildcards: str
    reason: str


def planned_jobs(workdir: Path, *args: str, configfile: str = "config.yaml", snakefile: Path = SNAKEFILE,
                 env=None) -> list[PlannedJob]:
    """Every job that ``snakemake -n`` plans, with its wildcards and Snakemake's reason."""
    proc = run(workdir, "-n", *args, configfile=configfile, snakefile=snakefile, env=env)
    text = proc.stdout + "\n" + proc.stderr
    jobs = []
    # a job's block; jobs of a group (the figure jobs: a dry run shows groups) are indented under "Group job"
    for block in re.split(r"\n(?=[ \t]*\[[^\]]+\]\n[ \t]*(?:local)?rule \w+:)", text):
        m = re.search(r"^[ \t]*(?:local)?rule (\w+):", block, re.M)
        if not m:
            continue
        wc = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        reason = re.search(r"^\s+reason: (.*)$", block, re.M)
        jobs.append(PlannedJob(m.group(1), wc.group(1) if wc else "", reason.group(1) if reason else ""))
    if not jobs:
        assert "Nothing to be done" in text, text[-3000:]
    return jobs


def rule_name(rule: str) -> str:
    """A rule's name, the per-round elimination rules (``eliminate_003``) counted as one, ``eliminate``."""
    return "eliminate" if re.fullmatch(r"eliminate_\d+", rule) else rule


def rule_counts(jobs) -> dict[str, int]:
    counts = {}
    for j in jobs:
        if j.rule != "all":
            counts[rule_name(j.rule)] = counts.get(rule_name(j.rule), 0) + 1
    return counts


def declared_files(workdir: Path, configfile: str = "config.yaml") -> set[str]:
    """Every output, log and benchmark that the workflow's jobs declare (``snakemake -n --forceall``)."""
    proc = run(workdir, "-n", "--forceall", configfile=configfile)
    files = set()
    for m in re.finditer(r"^\s+(?:output|log|benchmark): (.*)$", proc.stdout + proc.stderr, re.M):
        files.update(p.strip() for p in m.group(1).split(","))
    return files


# --------------------------------------------------------------------------------------- artifacts

def _comparable(path: Path, shard_union: bool, run_dir: Path):
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        df = pd.read_parquet(path)
        return df.drop(columns=[c for c in TIMING_COLUMNS if c in df.columns])
    if suffix == ".xlsx":
        sheets = pd.read_excel(path, sheet_name=None)
        out = {}
        for name, df in sheets.items():
            df = df.drop(columns=[c for c in df.columns if str(c).endswith("seconds")])
            if "item" in df.columns:  # the Provenance sheet records when the run started and ended
                df = df[~df["item"].isin(TIMING_ITEMS)].reset_index(drop=True)
            if shard_union and "key" in df.columns:  # the Config sheet records the shard counts that differ
                df = df[~df["key"].astype(str).str.fullmatch(r"(hpo|importance|lofo)\.shards")].reset_index(drop=True)
            out[name] = df
        return out
    if suffix == ".joblib":
        from rfe_lib.model_file import load_model

        return load_model(path, run_dir)
    return path.read_bytes()


# A round's shard files, compared as one table (shard_union): the search's first rung, importance, and importance
# under its old folder name ("lofo", for tests/compare_trees.py's old trees). Each takes the round and the shard.
SHARDS = (lambda r, s: REL.hpo_shard(r, 0, s), REL.importance_shard,
          lambda r, s: PurePosixPath(str(REL.importance_shard(r, s)).replace("importance/", "lofo/")))


def _shard_group(rel: str) -> str | None:
    """The name under which shard file ``rel`` is compared with its round's other shards
    (``round_000/hpo/shard_*.parquet``), or None if ``rel`` is no such shard."""
    for shard in SHARDS:
        pattern = re.escape(str(shard("{r}", "{s}")))
        pattern = pattern.replace(re.escape("{r}"), r"(\d+)").replace(re.escape("{s}"), r"\d+")
        m = re.fullmatch(pattern, rel)
        if m:
            return str(shard(m.group(1), "*"))
    return None


def artifacts(run_dir: Path, shard_union: bool = False) -> dict:
    """Every artifact of a run in comparable form (timing columns, logs and benchmarks left out).

    With ``shard_union``, a round's HPO or importance shard files are compared as one table (their rows sorted), since
    runs with different shard counts cut the same rows into different files.
    """
    run_dir = Path(run_dir)
    out, shards = {}, {}
    for rel in sorted(files_under(run_dir)):
        if set(rel.split("/")[:2]) & set(NOT_COMPARED):  # the run's, or a repeat's (repeat_<i>/logs/...)
            continue
        group = _shard_group(rel) if shard_union else None
        if group:
            shards.setdefault(group, []).append(_comparable(run_dir / rel, shard_union, run_dir))
            continue
        out[rel] = _comparable(run_dir / rel, shard_union, run_dir)
    for group, parts in shards.items():
        df = pd.concat(parts, ignore_index=True)
        key = "config_id" if "config_id" in df.columns else "feature"
        out[group] = df.sort_values(key, kind="mergesort").reset_index(drop=True)
    return out


def _model_predictions(model_file: Path, run_dir: Path):
    """Predictions of a saved model on its run's own table (models are compared by what they predict)."""
    from rfe_lib.layout import Layout
    from rfe_lib.model_file import load_model
    from rfe_lib.training import load_columns

    saved = load_model(model_file, run_dir)
    table = Layout(Path(model_file).parents[2]).file("table")  # the run's, or a repeat's
    if not table.is_file():  # the final model of a repeated run: the first repeat's table
        table = Layout(Path(run_dir)).repeat(0).file("table")
    X = load_columns(table, saved["columns"])
    return saved["model"].predict(X)


def assert_same_artifacts(run_a: Path, run_b: Path, shard_union: bool = False) -> None:
    """Both runs have the same artifacts with the same content (values, order, dtypes), timing aside."""
    import numpy as np

    a, b = artifacts(run_a, shard_union), artifacts(run_b, shard_union)
    assert sorted(a) == sorted(b), f"different artifacts: only in first {sorted(set(a) - set(b))}, " \
                                   f"only in second {sorted(set(b) - set(a))}"
    for rel in a:
        x, y = a[rel], b[rel]
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True, obj=rel)
        elif isinstance(x, dict) and rel.endswith(".xlsx"):
            assert list(x) == list(y), rel
            for sheet in x:
                pd.testing.assert_frame_equal(x[sheet], y[sheet], check_exact=True, obj=f"{rel}[{sheet}]")
        elif rel.endswith(".joblib"):
            assert x["columns"] == y["columns"] and x["features"] == y["features"] and x["params"] == y["params"], rel
            np.testing.assert_array_equal(_model_predictions(Path(run_a) / rel, Path(run_a)),
                                          _model_predictions(Path(run_b) / rel, Path(run_b)), err_msg=rel)
        else:
            assert x == y, f"{rel} differs"


def assert_whole(run_dir: Path) -> None:
    """Every artifact present is complete: Parquet files read, figures end with PNG's IEND chunk."""
    for rel in files_under(run_dir):
        path = run_dir / rel
        if path.suffix == ".parquet":
            pd.read_parquet(path)
        elif path.suffix == ".png":
            data = path.read_bytes()
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82"), rel


def kill_mid_write(workdir: Path, proc, marker: Path, what: str) -> dict:
    """Wait until the run's job held by ``marker``'s pause pattern is writing, SIGKILL the run, and check what the kill
    left: whole files or none, and the killed job's target absent and marked incomplete. Returns the marker's JSON."""
    paused = wait_for(marker, proc)
    # The job is mid-write: its whole temporary sits beside the target; the target does not exist yet.
    assert (workdir / paused["tmp"]).is_file() and not (workdir / paused["target"]).exists(), what
    kill_group(proc)
    assert_whole(layout(workdir).root)
    assert not (workdir / paused["target"]).exists(), what
    assert paused["target"] in incomplete_marks(workdir), what
    return paused


# --------------------------------------------------------------------------------------- shared runs

def _baseline(workdir: Path, *args: str) -> str:
    """Make the reliability config's run in ``workdir``; its log (Snakemake's stderr, where it reports each job)."""
    make_workdir(workdir, RELIABLE)
    return run(workdir, *args).stderr


def baseline(tmp_path_factory) -> Path:
    """One uninterrupted run of the reliability config (``-j 2``), shared by every module that needs it: made once
    per test session, by the first process to ask for it while the others wait (its users only read or copy it)."""
    return shared_run(tmp_path_factory, "reliable_baseline", lambda w: _baseline(w, "-j", "2"))[0]


def serial_baseline(tmp_path_factory) -> str:
    """The output of the baseline's configuration run on one core (``-j 1``), as the workflow orders its jobs (the
    output of the baseline, at ``-j 2``, cannot show an order: jobs that become ready together start together).
    Made once per session and shared, like :func:`baseline`, by the determinism and the scheduling tests."""
    return shared_run(tmp_path_factory, "reliable_serial", lambda w: _baseline(w, "-j", "1"))[1]


def started_jobs(log: str) -> list[tuple[str, str]]:
    """``(rule, wildcards)`` of every job in the order Snakemake started it, from a run's output (the ``rule x:``
    block Snakemake prints as it starts a job, and the block's ``wildcards:`` line)."""
    jobs = []
    for block in re.split(r"\n(?=\[[^\]]+\]\n(?:local)?rule \w+:)", log):
        m = re.search(r"^(?:local)?rule (\w+):$", block, re.M)
        if m:
            wc = re.search(r"^\s+wildcards: (.*)$", block, re.M)
            jobs.append((m.group(1), wc.group(1) if wc else ""))
    return jobs


def new_workdir(tmp_path: Path, overrides: dict | None = None, name: str = "work") -> Path:
    workdir = Path(tmp_path) / name
    from conftest import deep_update

    make_workdir(workdir, deep_update(RELIABLE, overrides or {}))
    return workdir


def matching(files, pattern: str) -> list[str]:
    return sorted(f for f in files if fnmatch.fnmatch(f, pattern))
