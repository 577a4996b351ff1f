"""Crash and resume (issue 6): kill -9 at several points, resume as the README says, get the uninterrupted result.

The tests run the real workflow in a subprocess and SIGKILL its whole process group (Snakemake and its jobs) while
a chosen job is writing: a fault-injection hook (tests/_reliability.py) holds that job just before it renames its
whole temporary file into place, the worst moment for a kill. The resume is exactly what the README's "If a run is
interrupted" section documents:

    snakemake --unlock --configfile <config>
    snakemake -j <N> --configfile <config>

One run goes through every point, to keep the suite short: a second run started beside it is refused, then it is
killed during the importance jobs, resumed and killed during HPO, resumed and killed during plotting, and resumed to the end. After
each kill: every file present is whole, the killed job's target is absent, the lock is left. At the end: the
artifacts equal those of an uninterrupted run (timing columns aside), no job that had finished was redone, no
temporary or undeclared file is left, and a further run has nothing to do.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from _reliability import (ANY, REL, RUN, TIMING_COLUMNS, TMP_MARK, assert_same_artifacts, assert_whole, baseline,
                          declared_files, files_under, hook_env, incomplete_marks, kill_mid_write, new_workdir,
                          planned_jobs, release, run, stale_temporaries, start, wait_for)
from conftest import layout
from rfe_lib.layout import RESULTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The uninterrupted run of the same config."""
    return baseline(tmp_path_factory)


def mtimes(run_dir: Path) -> dict[str, int]:
    return {rel: (run_dir / rel).stat().st_mtime_ns for rel in files_under(run_dir)
            if not rel.startswith(f"{REL.logs_dir}/") and TMP_MARK not in rel}


KILL_POINTS = [
    # (what is running, the file whose writer is held and killed)
    ("importance", ANY.importance_shard(0, 0)),
    ("HPO", ANY.hpo_shard(1, 0, 0)),
    ("plotting", ANY.plot("*", 1)),
]


def test_killed_during_importance_hpo_and_plotting_then_resumed_gives_the_uninterrupted_result(reference, tmp_path):
    workdir = new_workdir(tmp_path)
    run_dir = layout(workdir).root
    kept = []  # per kill: (files present after it, outputs Snakemake marked incomplete)

    for stage, (what, pattern) in enumerate(KILL_POINTS):
        if stage == 0:
            # The first run is held while writing its first HPO shard; a second run in the same folder is refused.
            env, (held, marker) = hook_env(tmp_path, pause=[ANY.hpo_shard(0, 0, 0), pattern])
            proc = start(workdir, "-j", "2", env=env, out=tmp_path / f"run{stage}.out")
            first = wait_for(held, proc)
            before = mtimes(run_dir)
            second = run(workdir, "-j", "2", check=False)
            assert second.returncode != 0
            assert "LockException" in second.stderr and "Directory cannot be locked" in second.stderr
            assert "Traceback" not in second.stderr
            # nothing of the first run was touched, not even the file it is writing; it then carries on
            assert mtimes(run_dir) == before and (workdir / first["tmp"]).is_file()
            release(held)
        else:
            # The documented resume: --unlock, then the same command (here with the next kill point armed).
            run(workdir, "--unlock")
            env, (marker,) = hook_env(tmp_path, pause=[pattern])
            proc = start(workdir, "-j", "2", env=env, out=tmp_path / f"run{stage}.out")
        # Killed mid-write; what the kill left: whole files or none, the killed job's temporary, a stale lock.
        kill_mid_write(workdir, proc, marker, what)
        assert stale_temporaries(run_dir), what
        assert any((workdir / ".snakemake" / "locks").iterdir()), "SIGKILL leaves Snakemake's lock behind"
        kept.append((mtimes(run_dir), incomplete_marks(workdir)))

        if what == "HPO":
            # Without --unlock the run command refuses to start (the lock might be a live run's) and changes nothing.
            refused = run(workdir, "-j", "2", check=False)
            assert refused.returncode != 0
            assert "LockException" in refused.stderr and "--unlock" in refused.stderr
            assert mtimes(run_dir) == kept[-1][0]
            # A temporary that no job will write again (say, of a shard count since lowered) is removed when the
            # next run starts, not only when its own target is rewritten.
            shard = layout(workdir).hpo_shard(0, 0, 7)
            shard.with_name(f".{shard.name}{TMP_MARK}999999").write_bytes(b"partial")

    run(workdir, "--unlock")
    run(workdir, "-j", "2")

    assert_same_artifacts(layout(reference).root, run_dir)
    assert stale_temporaries(run_dir) == []
    assert files_under(run_dir) == files_under(layout(reference).root)
    # Finished jobs were not redone: every file present after a kill and not being written then is untouched.
    final = mtimes(run_dir)
    for (what, _), (after_kill, running) in zip(KILL_POINTS, kept):
        redone = sorted(rel for rel, t in after_kill.items() if str(RUN / rel) not in running and final[rel] != t)
        assert redone == [], f"the resume after the kill during {what} rewrote finished outputs: {redone}"
    assert planned_jobs(workdir) == []


def test_a_run_writes_only_what_its_rules_declare(reference):
    """No rule creates files or folders it does not declare (outputs, logs, benchmarks); no temporaries remain."""
    declared = {str(Path(p).relative_to(RUN)) for p in declared_files(reference) if p.startswith(str(RUN))}
    present = files_under(layout(reference).root)
    assert present - declared == set(), f"undeclared files: {sorted(present - declared)}"
    assert declared - present == set(), f"declared but missing: {sorted(declared - present)}"
    root = layout(reference).root
    folders = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()}
    parents = {str(parent) for f in declared for parent in Path(f).parents if str(parent) != "."}
    assert folders <= parents, f"undeclared folders: {sorted(folders - parents)}"
    outside = {p.name for p in reference.iterdir()} - {"config.yaml", "data.parquet", RESULTS, ".snakemake"}
    assert outside == set(), f"files written beside the results: {sorted(outside)}"


def test_a_failing_job_removes_its_outputs_and_keeps_the_rest(reference, tmp_path):
    """train_model writes the search results and model.joblib, then fails writing predictions: Snakemake removes every
    output of that job."""
    workdir = new_workdir(tmp_path)
    paths = layout(workdir)
    run_dir = paths.root
    env, _ = hook_env(tmp_path, fail=[ANY.round_file(0, "predictions")])
    failed = run(workdir, "-j", "2", env=env, check=False)
    assert failed.returncode != 0
    assert "injected failure while writing" in paths.log("train_model", 0).read_text()

    assert not paths.round_file(0, "model").exists() and not paths.round_file(0, "predictions").exists()
    assert not paths.round_file(0, "best").exists()  # written before the failure, removed
    assert stale_temporaries(run_dir) == []
    # Every other file is whole and identical to the uninterrupted run's.
    assert_whole(run_dir)
    ref = layout(reference).root
    kept = {rel for rel in files_under(run_dir) if not rel.startswith((f"{REL.logs_dir}/", f"{REL.benchmarks_dir}/"))}
    assert {str(REL.file("validation")), str(REL.file("split")), str(REL.hpo_shard(0, 0, 0))} <= kept
    for rel in kept:
        if rel.endswith(".parquet"):
            a, b = pd.read_parquet(ref / rel), pd.read_parquet(run_dir / rel)
            drop = [c for c in TIMING_COLUMNS if c in a.columns]
            pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop), check_exact=True, obj=rel)
        else:
            assert (ref / rel).read_bytes() == (run_dir / rel).read_bytes(), rel

    # A failure leaves no lock: the same command simply runs again, redoing the failed job and what depends on it,
    # not the validation, the split, the features, nor round 0's HPO.
    planned = {(j.rule, j.wildcards) for j in planned_jobs(workdir)}
    assert ("train_model", "r=000") in planned
    assert not {r for r, _ in planned} & {"validate_data", "split_data", "engineer_features"}
    assert not {(r, w) for r, w in planned if r in ("hpo_shard", "importance_shard") and "r=000" in w}
