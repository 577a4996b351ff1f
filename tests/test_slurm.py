"""The real workflow on a real single-node SLURM cluster (tests/slurm/cluster.sh), through profiles/slurm.

Needs root and Debian's SLURM packages (tests/slurm/install.sh; CI installs them). Without them the
tests are skipped, unless RFE_REQUIRE_SLURM=1 or RFE_NO_SKIPS=1 (both set by .ci/run), which turn the
skip into a failure so that CI cannot pass without running them. The cluster uses fixed ports
(6817-6819, 33061) and /etc/slurm/*.conf, so a lock serialises concurrent pytest sessions on one machine.

The first test runs the default target (every round, every figure job bundled by the profile's job
group, the workbook, the report's texts) with ``auto`` shard counts, through profiles/slurm as shipped
plus ``--retries 1``, with one job made to fail once: the retry must succeed with twice the memory, and
the results must equal a local run's, file for file. The second does the same with every budget of issues
12 and 13 switched on (early stopping's checkpoints leave the figure jobs out of any group). The third
runs a job that fails, through the profile as a site would edit it. The fourth runs a repeated run (rfe.repeats: 2)
through the profile as shipped and compares it with a local run.

    pytest -m slurm          # only these (about 10 minutes on 2 cores)
    pytest -m "not slurm"    # everything else
"""

from __future__ import annotations

import collections
import errno
import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from _reliability import ANY, assert_same_artifacts, hook_env
from conftest import (REPO, SNAKEFILE, TARGET, budgets_run, budgets_workdir, deep_update, layout, make_workdir,
                      matching, planned_rules, skip_or_fail)

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

CLUSTER_SH = REPO / "tests" / "slurm" / "cluster.sh"
PROFILE = REPO / "profiles" / "slurm"
LOCK = Path(tempfile.gettempdir()) / "rfe-slurm-test.lock"
PORTS = (6817, 6818, 6819, 33061)  # slurmctld, slurmd, slurmdbd, mariadb (cluster.sh)

# Every budget: conftest's budgets run (BUDGETS_RUN), in 2 rounds (5 -> 4 features, temp and atemp counted as one):
# 12 configurations searched in 3 halving rungs of 2 shards each in round 0, the top 3 carried to round 1; permutation
# importance in round 0, LOFO in round 1; every figure, the workbook and the report's texts. Its local reference is
# the session's shared budgets run (conftest.budgets_run).
SCHEDULE = (5, 4)
# The default target as profiles/slurm bundles it (figure jobs in groups), and the failure test: 2 rounds (4 -> 3
# features), 3 configurations, 2 folds, `auto` shards (one per CPU of the planning machine, at most one per
# configuration or feature).
TINY = {
    "data": {"features": ["hour", "temp", "hum", "workingday"]},
    "split": {"folds": 2},
    "hpo": {"grid": {"learning_rate": [0.1, 0.2, 0.3], "max_leaf_nodes": [15]}, "shards": "auto"},
    "rfe": {"step": 1, "min_features": 3},
    "importance": {"shards": "auto"},
}
N_CONFIGS, TINY_SCHEDULE = 3, (4, 3)
ROWS = 1000
# The failure test needs only the summary.
TARGETS = (TARGET.file("rounds"), TARGET.file("selected"))
RUN_TIMEOUT = 900
# A second partition, created on the running test cluster, and cluster.sh's account.
SITE_PARTITION, SITE_ACCOUNT = "work", "rfe"
FAIL_ONCE = ANY.round_file(0, "predictions")  # train_model of round 0 fails on its first attempt

# "Job <snakemake id> has been submitted ...": a rule's log folder is rule_<rule>, a group job's group_<group>
SUBMITTED = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")


def _local_rules(ran=()) -> set[str]:
    """The Snakefile's ``localrules:``, the rules that declare ``localrule: True`` (repeats_summary, final_summary) and
    the per-round eliminate_<r> (eliminate_repeat_<i>_<r> with repeats) among ``ran``: jobs that never go to SLURM."""
    block = re.search(r"^localrules:\n((?:[ \t]+\w+,?[ \t]*\n)+)", SNAKEFILE.read_text(), re.M)
    assert block, "no localrules: block in the Snakefile"
    declared = set()  # rule blocks of the rule files that say `localrule: True`
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for name, body in re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)+?)(?=^\S)", smk.read_text() + "\n.", re.M):
            if re.search(r"^[ \t]+localrule: True", body, re.M):
                declared.add(name)
    per_round = {r for r in ran if re.fullmatch(r"eliminate_(?:repeat_\d+_)?\d+", r)}  # a loop's rules, by name
    return set(re.findall(r"\w+", block.group(1))) | declared | per_round


def is_figures(rule: str) -> bool:
    """A figure rule: ``figures`` (a round's), its variants (``figures_12``) and ``figures_summary``."""
    return rule == "figures" or rule.startswith("figures_")


def _skip_or_fail(reason: str):
    skip_or_fail(reason, "RFE_REQUIRE_SLURM")


def _env() -> dict:
    # SLURM jobs inherit the submitting environment (sbatch --export=ALL) and start Snakemake again:
    # this interpreter's bin folder (the venv) goes first on PATH.
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "PYTHONHASHSEED": "0", "PATH": os.pathsep.join([bindir, os.environ.get("PATH", "")]),
            "RFE_CACHE": "off"}  # every job computes (no cache between runs: rfe_lib/jobcache.py)


def run(cmd, timeout=120, check=True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=kw.pop("env", _env()), **kw)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: float = RUN_TIMEOUT, env=None):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir),
           "--configfile", str(workdir / "config.yaml"), *args]
    try:
        return run(cmd, timeout=timeout, check=check, env=env or _env())
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"")[-3000:] + (exc.stderr or b"")[-5000:]
        pytest.fail(f"snakemake {' '.join(args)} did not finish in {timeout} s:\n"
                    f"{out.decode(errors='replace') if isinstance(out, bytes) else out}")


# The plugin first asks SLURM for its jobs' states 40 s after a submission, then 10 s later each time nothing changed
# (up to 3 min): right for a shared cluster's controller, and most of these tests' time on a one-node cluster whose
# jobs take seconds. The tests ask from 2 s on; a site's runs keep the plugin's pace.
STATUS_CHECKS = ("--slurm-init-seconds-before-status-checks", "2")


def slurm_snakemake(workdir: Path, *args: str, profile: Path = PROFILE, check: bool = True, env=None):
    """The profile as shipped unless told; -j only because the test node has 2 CPUs."""
    return snakemake(workdir, "--profile", str(profile), "-j", "4", *STATUS_CHECKS, *args, check=check, env=env)


def site_profile(folder: Path) -> Path:
    """profiles/slurm as a site would adapt it: only the partition and the account changed."""
    text = (PROFILE / "config.yaml").read_text()
    assert text.count('slurm_partition: "debug"') >= 4 and text.count('# slurm_account: "my_project"') == 1
    text = text.replace('slurm_partition: "debug"', f'slurm_partition: "{SITE_PARTITION}"')
    text = text.replace('# slurm_account: "my_project"', f'slurm_account: "{SITE_ACCOUNT}"')
    folder.mkdir()
    (folder / "config.yaml").write_text(text)
    return folder


def submissions(output: str) -> dict[str, str]:
    """``{SLURM job id: rule}`` of every job the executor submitted (the rule is in its log path); a group job
    is ``group:<group>``."""
    out = {}
    for _, slurm_id, log in SUBMITTED.findall(output):
        part = next(p for p in Path(log).parts if p.startswith(("rule_", "group_")))
        out[slurm_id] = part[len("rule_"):] if part.startswith("rule_") else f"group:{part[len('group_'):]}"
    return out


def own_output(output: str) -> str:
    """Snakemake's output without the logs of failed jobs that it shows (``show-failed-logs``): a failed SLURM
    job's log holds the inner Snakemake's own "rule x:" and "localrule x:" lines."""
    return re.sub(r"^Logfile [^\n]*:\n={80}\n.*?^={80}$", "", output, flags=re.S | re.M)


def started(output: str) -> collections.Counter:
    """How many jobs of each rule Snakemake started (a group job's members are indented under it)."""
    return collections.Counter(re.findall(r"^[ \t]*rule (\w+):$", own_output(output), re.M))


def run_id(output: str) -> str:
    """The SLURM job name the plugin gives every job of one Snakemake run."""
    m = re.search(r"SLURM run ID: (\S+)", output)
    assert m, output[-3000:]
    return m.group(1)


def sacct(*args: str) -> list[dict]:
    fields = ["JobID", "JobName", "State", "ExitCode", "Partition", "Account", "ReqMem"]
    proc = run(["sacct", "-n", "-X", "-P", "-o", ",".join(fields), *args], timeout=60)
    return [dict(zip(fields, line.split("|"))) for line in proc.stdout.splitlines() if line]


def squeue_ids(name: str) -> list[str]:
    return run(["squeue", "-h", "-n", name, "-o", "%i"], timeout=60).stdout.split()


# ---------------------------------------------------------------- the cluster
def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def slurm_cluster():
    """A fresh single-node cluster (partition ``debug``) for this module; always stopped afterwards."""
    missing = [b for b in ("sbatch", "sacct", "slurmctld", "slurmd", "slurmdbd", "munged", "mariadbd")
               if shutil.which(b) is None]
    if missing:
        _skip_or_fail(f"SLURM is not installed ({', '.join(missing)} not found): run tests/slurm/install.sh as root")
    if os.geteuid() != 0:
        _skip_or_fail("the test cluster (tests/slurm/cluster.sh) must be started as root")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        _skip_or_fail("snakemake-executor-plugin-slurm is not installed: pip install -e '.[slurm]'")

    lock = open(LOCK, "w")
    deadline = time.monotonic() + 1200
    while True:  # another pytest session on this machine may be using the ports and /etc/slurm
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail(f"{LOCK} stayed locked for 20 minutes (another SLURM test session?)")
            time.sleep(2)
    busy = [p for p in PORTS if _port_in_use(p)]
    if busy:
        lock.close()
        pytest.fail(f"ports {busy} are in use: another SLURM cluster runs on this machine "
                    "(tests/slurm/cluster.sh status / stop with its RFE_SLURM_STATE)")

    # Not under pytest's tmp_path: the daemons' users (munge, mysql) must be able to enter it.
    state = Path(tempfile.mkdtemp(prefix="rfe-slurm-test-"))
    state.chmod(0o755)
    env = {**_env(), "RFE_SLURM_STATE": str(state)}
    pids: list[int] = []
    # This module is the suite's longest path, and its jobs wait on one another through the scheduler: its
    # processes (this test process, its local reference runs, the daemons it starts and so the jobs they run) go
    # first on the CPUs, the other test processes take what is left. Restored afterwards; not possible unprivileged.
    raised = _raise_priority(5)
    try:
        run(["bash", str(CLUSTER_SH), "start"], timeout=400, env=env)
        pids = [int(p.read_text()) for p in (state / "pids").glob("*.pid")]
        assert len(pids) == 5, f"expected 5 daemon PIDs in {state / 'pids'}, got {pids}"
        run(["scontrol", "create", f"PartitionName={SITE_PARTITION}", "Nodes=ALL", "MaxTime=INFINITE",
             "State=UP"], timeout=60)
        yield state
    finally:
        stop = run(["bash", str(CLUSTER_SH), "stop"], timeout=300, env=env, check=False)
        left = [pid for pid in pids if _alive(pid)]
        if stop.returncode == 0 and not left:
            shutil.rmtree(state, ignore_errors=True)
        else:
            shutil.rmtree(state / "mysql", ignore_errors=True)  # keep the logs for a look
        lock.close()
        os.nice(raised)  # back to where this test process was
        assert stop.returncode == 0, f"cluster.sh stop failed:\n{stop.stdout}\n{stop.stderr}"
        assert not left, f"daemons still alive after cluster.sh stop: {left} (logs in {state}/log)"


def _raise_priority(steps: int) -> int:
    """Lower this process's niceness by ``steps`` (root only); the steps taken, to give back with ``os.nice``."""
    try:
        os.nice(-steps)
        return steps
    except OSError:
        return 0


# ---------------------------------------------------------------- the tests
def _mb(req_mem: str) -> float:
    """sacct's ReqMem ("1234M", "2G", older SLURM "1234Mn") in MB."""
    m = re.fullmatch(r"([\d.]+)([KMGT])[nc]?", req_mem)
    assert m, req_mem
    return float(m.group(1)) * {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 ** 2}[m.group(2)]


def assert_accounted_with_one_retry(output: str, jobs: dict[str, str], start: str):
    """sacct knows exactly ``jobs`` (``{SLURM job id: rule}``, :func:`submissions`) under this run's job name since
    ``start``, all in partition ``debug`` and COMPLETED with exit code 0 but the first attempt of round 0's
    train_model (made to fail once, FAIL_ONCE), whose retry asked for twice its memory (the rules' mem_mb x attempt);
    and none of them is left in the queue."""
    name = run_id(output)
    rows = {r["JobID"]: r for r in sacct("-j", ",".join(jobs))}
    assert set(rows) == set(jobs), rows
    failed = [j for j, r in rows.items() if r["State"] != "COMPLETED"]
    assert len(failed) == 1 and jobs[failed[0]] == "train_model", rows
    assert rows[failed[0]]["State"] == "FAILED" and rows[failed[0]]["ExitCode"] != "0:0"
    # the retry: the later train_model job of the same wildcards (the SLURM log's folder names them); another
    # round's train_model may be submitted between the failure and the retry
    folder = {sid: str(Path(log).parent) for _, sid, log in SUBMITTED.findall(output)}
    retry = min((j for j in jobs if jobs[j] == "train_model" and int(j) > int(failed[0])
                 and folder[j] == folder[failed[0]]), key=int)
    assert _mb(rows[retry]["ReqMem"]) == pytest.approx(2 * _mb(rows[failed[0]]["ReqMem"]), rel=0.01), rows
    for j, r in rows.items():
        assert (r["JobName"], r["Partition"]) == (name, "debug"), r
        assert j in failed or (r["State"], r["ExitCode"]) == ("COMPLETED", "0:0"), r
    assert {r["JobID"] for r in sacct(f"--name={name}", "-S", start)} == set(jobs)
    assert squeue_ids(name) == []


def test_default_target_through_slurm_matches_a_local_run(slurm_cluster, tmp_path):
    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    for d in (on_slurm, local):
        make_workdir(d, TINY, n_rows=ROWS)
    planned = planned_rules(local)  # the default target's jobs, as a dry run lists them
    figure_jobs = sum(n for rule, n in planned.items() if is_figures(rule))
    assert figure_jobs == len(TINY_SCHEDULE) + 1 and planned["workbook"] == 1 and planned["report_texts"] == 1
    expected = {rule: n for rule, n in planned.items() if rule not in _local_rules(planned)}
    expected["train_model"] += 1  # its first attempt fails once; the profile's retry runs it again
    env, _ = hook_env(tmp_path / "hook", fail_once=[FAIL_ONCE], base=_env())

    # The local reference run overlaps with the SLURM run (which mostly waits for the scheduler).
    start = time.strftime("%Y-%m-%dT%H:%M:%S")
    with ThreadPoolExecutor(1) as pool:
        reference = pool.submit(snakemake, local, "-j", "1")
        proc = slurm_snakemake(on_slurm, "--retries", "1", env=env)
        reference.result()
    output = proc.stdout + proc.stderr

    # Every planned job ran: each non-local one ("rule x:", not "localrule x:") through sbatch, and none of the
    # Snakefile's localrules; the figure jobs in bundles of two (the profile's group-components).
    ran = started(output)
    ran_locally = set(re.findall(r"^localrule (\w+):$", own_output(output), re.M))
    assert dict(ran) == expected, output[-4000:]
    never_submitted = _local_rules(ran_locally | set(ran))
    assert ran_locally and ran_locally <= never_submitted and not set(ran) & never_submitted
    jobs = submissions(output)
    bundles = [j for j, rule in jobs.items() if rule.startswith("group:figures")]  # group_figures_<rules>
    assert len(bundles) == -(-figure_jobs // 2), output[-4000:]
    singles = collections.Counter(rule for rule in jobs.values() if not rule.startswith("group:"))
    assert singles == {rule: n for rule, n in ran.items() if not is_figures(rule)}, output[-4000:]
    assert "injected failure (once)" in output and "Trying to restart job" in output, output[-4000:]

    assert_accounted_with_one_retry(output, jobs, start)

    # `auto`: one shard per CPU of the planning machine, at most one per configuration or feature and at least 10 fits
    # per shard (README), and the cluster jobs cut the work the same way (the merges check every item is there once).
    cpus, folds = os.cpu_count(), TINY["split"]["folds"]

    def auto(items):
        return max(1, min(cpus, items, items * folds // 10))

    for r, n_features in enumerate(TINY_SCHEDULE):
        assert len(matching(layout(on_slurm).hpo_shard(r, 0, "*"))) == auto(N_CONFIGS)
        assert len(matching(layout(on_slurm).importance_shard(r, "*"))) == auto(n_features)

    # The progress display (profiles/slurm selects --logger rfe; not a terminal here: plain lines) followed the
    # cluster's jobs to the planned fits, recomputed from the config: each round searches N_CONFIGS configurations
    # on each fold, refits each feature on each fold (LOFO), and fits the round's model once (its retry counts once).
    lines = re.findall(r"^rfe progress: round (\S+) of 2 \| fits (\d+)/(\d+) \(\d+%\) \| jobs (\d+)/(\d+)",
                       proc.stderr, re.M)
    planned = sum(N_CONFIGS * folds + n * folds + 1 for n in TINY_SCHEDULE)
    assert lines and lines[-1][:3] == ("001", str(planned), str(planned)), proc.stderr[-3000:]
    assert lines[-1][3] == lines[-1][4]  # every job done

    # The results equal the local run's, file for file: tables, figures, models, the workbook, the report's
    # texts (timing columns, logs and benchmarks aside).
    assert_same_artifacts(layout(local).root, layout(on_slurm).root)
    assert len(list(layout(on_slurm).root.rglob("*.png"))) > 20 and layout(on_slurm).file("workbook").is_file()


def test_every_budget_through_slurm_with_a_retry_matches_a_local_run(slurm_cluster, tmp_path, tmp_path_factory):
    """The default target (every round, every figure job, the workbook, the report's texts) with every budget at
    once: halving rungs, the carried search, permutation then LOFO importance, correlated groups and early stopping,
    whose decisions are checkpoints taken in the main Snakemake process. Through profiles/slurm as shipped plus
    ``--retries 1``, with round 0's train_model made to fail once."""
    on_slurm = tmp_path / "slurm"
    budgets_workdir(on_slurm)
    env, _ = hook_env(tmp_path / "hook", fail_once=[FAIL_ONCE], base=_env())

    # The local reference run (the session's shared budgets run, unless another test made it already) overlaps with
    # the SLURM run (which mostly waits for the scheduler).
    start = time.strftime("%Y-%m-%dT%H:%M:%S")
    with ThreadPoolExecutor(1) as pool:
        reference = pool.submit(budgets_run, tmp_path_factory)
        proc = slurm_snakemake(on_slurm, "--retries", "1", env=env)
        local, reference_output = reference.result()
    output = proc.stdout + proc.stderr
    paths = layout(on_slurm)
    run_dir = paths.root

    # The local run's jobs (its output lists each as "[local]rule x:" or "[local]checkpoint x:") are the jobs to do:
    # each went through sbatch on SLURM but the Snakefile's localrules and the elimination checkpoints, which never did.
    job_lines = r"^[ \t]*(?:local)?(?:rule|checkpoint) (\w+):$"
    done = collections.Counter(re.findall(job_lines, reference_output, re.M))
    figure_jobs = sum(n for rule, n in done.items() if is_figures(rule))
    assert figure_jobs == len(SCHEDULE) + 1 and done["workbook"] == 1 and done["report_texts"] == 1, done
    assert done["hpo_rung"] >= 2 and done["importance_shard"] >= 2 and done["eliminate_000"] == 1, done
    expected = {rule: n for rule, n in done.items() if rule not in _local_rules(done)}
    expected["train_model"] += 1  # its first attempt fails once; the profile's retry runs it again
    ran = started(output)
    ran_locally = set(re.findall(r"^local(?:rule|checkpoint) (\w+):$", own_output(output), re.M))
    assert dict(ran) == expected, output[-4000:]
    never_submitted = _local_rules(ran_locally | set(ran))
    assert ran_locally and ran_locally <= never_submitted and not set(ran) & never_submitted
    assert any(re.fullmatch(r"eliminate_\d+", rule) for rule in ran_locally), ran_locally
    # Every job went on its own: with early stopping the figure jobs are in no job group, so the profile's
    # group-components bundles none of them (workflow/rules/common.smk, FIGURE_JOB_GROUP, says why).
    jobs = submissions(output)
    assert not [rule for rule in jobs.values() if rule.startswith("group:")], output[-4000:]
    assert collections.Counter(jobs.values()) == ran, output[-4000:]
    assert "injected failure (once)" in output and "Trying to restart job" in output, output[-4000:]

    assert_accounted_with_one_retry(output, jobs, start)

    # Round 0 searched in rungs, each rung's shards files of their own; round 1 searched the carried top 3.
    assert len(matching(paths.hpo_shard(0, 1, "*"))) == 2
    import pandas as pd

    assert pd.read_parquet(paths.round_file(1, "results"))["config_id"].nunique() == 3
    assert paths.file("correlated").is_file() and paths.round_file(0, "decision").is_file()
    # The results equal the local run's, file for file: tables, figures, models, the workbook, the report's
    # texts (timing columns, logs and benchmarks aside).
    assert_same_artifacts(layout(local).root, run_dir)
    assert len(list(run_dir.rglob("*.png"))) > 20 and paths.file("workbook").is_file()


def test_repeats_through_slurm_match_a_local_run(slurm_cluster, tmp_path):
    """rfe.repeats: 2 (two eliminations on their own rows, then the final model of the consensus set) through
    profiles/slurm as shipped: every job that is not local goes through sbatch, the repeats' jobs side by side, and
    the results equal a local run's, file for file."""
    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    for d in (on_slurm, local):
        make_workdir(d, deep_update(TINY, {"rfe": {"repeats": 2}}), n_rows=ROWS)
    with ThreadPoolExecutor(1) as pool:
        reference = pool.submit(snakemake, local, "-j", "1")
        proc = slurm_snakemake(on_slurm, env=_env())
        reference = reference.result()
    output = proc.stdout + proc.stderr
    job_lines = r"^[ \t]*(?:local)?(?:rule|checkpoint) (\w+):$"
    done = collections.Counter(re.findall(job_lines, reference.stdout + reference.stderr, re.M))
    assert done["split_data"] == 3 and done["engineer_features"] == 2 and done["train_model"] == 2 * 2 + 1, done
    expected = {rule: n for rule, n in done.items() if rule not in _local_rules(done)}
    assert started(output) == expected, output[-4000:]
    assert collections.Counter(submissions(output).values()) == expected, output[-4000:]
    paths = layout(on_slurm)
    assert paths.file("final_summary").is_file() and paths.final().round_file(0, "model").is_file()
    assert_same_artifacts(layout(local).root, paths.root)


def test_failing_slurm_job_is_reported_and_the_run_stops(slurm_cluster, tmp_path):
    """Also: the profile with only the partition and the account changed, as a site would edit it."""
    make_workdir(tmp_path, TINY, n_rows=ROWS)
    paths = layout(tmp_path)
    # Prepare the data locally, then damage the engineered table as a half-copied file on a shared file system
    # would be: it is not redone (it is newer than its inputs), the HPO shards read it and fail.
    snakemake(tmp_path, "-j", "2", TARGET.round_file(0, "features"))
    paths.file("table").write_bytes(b"PAR1 truncated")

    t0 = time.monotonic()
    proc = slurm_snakemake(tmp_path, *TARGETS, profile=site_profile(tmp_path / "profile"), check=False)
    elapsed = time.monotonic() - t0
    output = proc.stdout + proc.stderr

    assert proc.returncode != 0, output[-4000:]
    assert elapsed < 300, f"the failing run took {elapsed:.0f} s"
    jobs = submissions(output)
    # The table was not redone; only round 0's HPO shards were submitted, nothing after them.
    assert jobs and set(jobs.values()) == {"hpo_shard"}, jobs
    assert set(re.findall(r"^rule (\w+):$", output, re.M)) == {"hpo_shard"}, output[-4000:]
    for slurm_id in jobs:
        assert f"SLURM-job '{slurm_id}' failed" in output, output[-4000:]
    assert "Error in rule hpo_shard" in output
    for r in sacct("-j", ",".join(jobs)):
        assert r["State"] == "FAILED" and r["ExitCode"] != "0:0", r
        assert (r["Partition"], r["Account"]) == (SITE_PARTITION, SITE_ACCOUNT), r
    assert squeue_ids(run_id(output)) == []
    # The failed jobs left no outputs behind, and their logs say why.
    assert not matching(paths.hpo_shard(0, 0, "*"))
    assert not paths.file("rounds").parent.exists()
    log = paths.log("hpo_shard_00", 0).read_text()
    assert "job failed" in log or "ERROR" in log, log
