"""Determinism (issue 6): the same data, config and seed give identical artifacts, whatever ``-j``, the shard
counts and the order the jobs run in.

Two full runs of the same config: the shared baseline (``-j 2``, one HPO and one importance shard per round) and
one with ``-j 1``, three HPO shards, two importance shards, and round 0's figures prioritised (``--prioritize``),
which makes that run start its jobs in another order. The test does not take the order on trust: it reads the
order in which each run started its jobs from the run's own output and checks that it differs where it must. On one
core (a third run, for its order only, shared with tests/test_scheduling.py) the workflow starts round 1's search
before round 0's figures (the chain has the higher priority); the other run starts the prioritised figures of round 0
before round 1.

Every artifact is compared: Parquet tables by value, order and dtype; figures and CSV tables byte for byte; models
by what they predict; the workbook sheet by sheet. Not compared, because they measure time: the ``fit_seconds``
columns, the ``logs/`` and ``benchmarks/`` folders, and the started/finished/duration rows of the workbook's
Provenance sheet. The shard files themselves differ in number, so a round's shards are compared as one table (and
that table must equal the merged ``hpo/results.parquet``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import _reliability
from _reliability import REL, artifacts, assert_same_artifacts, baseline, new_workdir, run, started_jobs
from conftest import TARGET, layout, matching

pytestmark = pytest.mark.slow

PRIORITISED = TARGET.plot("pred_vs_actual", 0)  # drawn by round 0's figure job


@pytest.fixture(scope="module")
def other_settings(tmp_path_factory) -> tuple[Path, str]:
    workdir = new_workdir(tmp_path_factory.mktemp("determinism"), {"hpo": {"shards": 3}, "importance": {"shards": 2}})
    proc = run(workdir, "-j", "1", "--prioritize", PRIORITISED)
    return workdir, proc.stdout + proc.stderr


def _first(order, rule, r="000"):
    """Where the first job of ``rule`` for round ``r`` started in ``order``."""
    return next(i for i, (name, wc) in enumerate(order) if name == rule and f"r={r}" in wc)


@pytest.fixture(scope="module")
def serial_baseline(tmp_path_factory) -> str:
    """The baseline's configuration run on one core, as the workflow orders it (shared with tests/test_scheduling.py:
    _reliability.serial_baseline)."""
    return _reliability.serial_baseline(tmp_path_factory)


def test_the_two_runs_started_their_jobs_in_different_orders(serial_baseline, other_settings):
    base = started_jobs(serial_baseline)
    other = started_jobs(other_settings[1])
    for order in (base, other):
        assert sum(rule == "train_model" for rule, _ in order) == 2, order  # both runs ran every job
    # on one core the workflow runs the chain first (round 1's search before round 0's figures); the other run, told
    # to prioritise a figure of round 0, draws round 0's figures before it starts round 1
    assert _first(base, "hpo_shard", "001") < _first(base, "figures", "000"), base
    assert _first(other, "figures", "000") < _first(other, "hpo_shard", "001"), other
    # the jobs both runs have (not the shards, cut differently), in the order each started them
    common = lambda order: [job for job in order if job[0] not in ("hpo_shard", "importance_shard")]  # noqa: E731
    assert common(base) != common(other) and sorted(common(base)) == sorted(common(other))


def test_identical_artifacts_whatever_jobs_shards_and_order(tmp_path_factory, other_settings):
    reference, other = baseline(tmp_path_factory), other_settings[0]
    assert len(matching(layout(other).hpo_shard(0, 0, "*"))) == 3
    assert len(matching(layout(reference).hpo_shard(0, 0, "*"))) == 1
    assert_same_artifacts(layout(reference).root, layout(other).root, shard_union=True)


def test_same_selected_features(tmp_path_factory, other_settings):
    a = pd.read_parquet(layout(baseline(tmp_path_factory)).file("selected"))
    b = pd.read_parquet(layout(other_settings[0]).file("selected"))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert len(a) >= 1


def test_shards_together_are_the_merged_results(other_settings):
    arts = artifacts(layout(other_settings[0]).root, shard_union=True)
    for r in (0, 1):
        merged = arts[str(REL.round_file(r, "results"))]
        pd.testing.assert_frame_equal(arts[str(REL.hpo_shard(r, 0, "*"))], merged, check_exact=True)
