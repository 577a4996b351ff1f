"""Crash and resume with every budget on (issues 12 and 13): the kill and resume of tests/test_resume.py, at the points
that only budgeted runs have: a halving rung's shard, a permutation importance shard and early stopping's decision,
a checkpoint taken in the main Snakemake process. (A module of its own so that it runs beside the others.)"""

from __future__ import annotations

import pytest

from _reliability import (ANY, assert_same_artifacts, files_under, hook_env, kill_mid_write, planned_jobs, run,
                          stale_temporaries, start)
from conftest import budgets_run, budgets_workdir, layout

pytestmark = pytest.mark.slow


BUDGET_KILL_POINTS = [
    ("a halving rung", ANY.hpo_shard(0, 1, 1)),
    ("permutation importance", ANY.importance_shard(0, 0)),
    ("early stopping's decision (a checkpoint)", ANY.round_file(1, "decision")),
]


def test_a_run_with_every_budget_killed_and_resumed_gives_the_uninterrupted_result(tmp_path, tmp_path_factory):
    """Halving rungs, carry, permutation then LOFO, correlated groups and early stopping (conftest.BUDGETS_RUN):
    killed while a rung's shard, a permutation shard and an elimination checkpoint write, resumed as documented. The
    uninterrupted run is the session's shared budgets run (conftest.budgets_run)."""
    reference, _ = budgets_run(tmp_path_factory)
    workdir = tmp_path / "work"
    budgets_workdir(workdir)
    paths = layout(workdir)
    run_dir = paths.root
    for stage, (what, pattern) in enumerate(BUDGET_KILL_POINTS):
        if stage:
            run(workdir, "--unlock")
        env, (marker,) = hook_env(tmp_path, pause=[pattern])
        proc = start(workdir, "-j", "2", env=env, out=tmp_path / f"budget{stage}.out")
        kill_mid_write(workdir, proc, marker, what)
    run(workdir, "--unlock")
    run(workdir, "-j", "2")

    assert_same_artifacts(layout(reference).root, run_dir)
    assert stale_temporaries(run_dir) == []
    assert files_under(run_dir) == files_under(layout(reference).root)
    assert paths.hpo_shard(0, 1, 0).parent.is_dir() and paths.file("correlated").is_file()
    assert planned_jobs(workdir) == []
