"""Determinism (issue 6): the same data, config and seed give identical artifacts, whatever ``-j``, the shard
counts and the order the jobs run in.

Two full runs of the same config: the shared baseline (``-j 2``, one HPO and one importance shard per round) and
one with ``-j 1``, three HPO shards, two importance shards, and round 0's error figures prioritised
(``--prioritize``), which makes that run start its jobs in another order. The test does not take the order on
trust: it reads the order in which each run started its jobs from the run's own output and checks that it differs
where it must. In the baseline, round 0's importance shard starts before round 0's error figures (it is ready at
the same time as the final model the figures wait for, and has the higher priority); in the other run, the
prioritised figures and the model and metrics they need start before any importance shard of round 0.

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

from _reliability import RUN, artifacts, assert_same_artifacts, baseline, baseline_log, new_workdir, run, \
    started_jobs

pytestmark = pytest.mark.slow

PRIORITISED = "results/t/plots/round_000/pred_vs_actual.png"  # drawn by round 0's figures_errors job


@pytest.fixture(scope="module")
def other_settings(tmp_path_factory) -> tuple[Path, str]:
    workdir = new_workdir(tmp_path_factory.mktemp("determinism"), {"hpo": {"shards": 3}, "importance": {"shards": 2}})
    proc = run(workdir, "-j", "1", "--prioritize", PRIORITISED)
    return workdir, proc.stdout + proc.stderr


def _first(order, rule, r="000"):
    """Where the first job of ``rule`` for round ``r`` started in ``order``."""
    return next(i for i, (name, wc) in enumerate(order) if name == rule and f"r={r}" in wc)


def test_the_two_runs_started_their_jobs_in_different_orders(tmp_path_factory, other_settings):
    base = started_jobs(baseline_log(tmp_path_factory))
    other = started_jobs(other_settings[1])
    for order in (base, other):
        assert sum(rule == "hpo_merge" for rule, _ in order) == 2, order  # both runs ran every job
    assert _first(base, "importance_shard") < _first(base, "figures_errors"), base
    assert _first(other, "figures_errors") < _first(other, "importance_shard"), other
    assert _first(other, "evaluate") < _first(other, "importance_shard"), other
    # the jobs both runs have (not the shards, cut differently), in the order each started them
    common = lambda order: [job for job in order if job[0] not in ("hpo_shard", "importance_shard")]  # noqa: E731
    assert common(base) != common(other) and sorted(common(base)) == sorted(common(other))


def test_identical_artifacts_whatever_jobs_shards_and_order(tmp_path_factory, other_settings):
    reference, other = baseline(tmp_path_factory), other_settings[0]
    assert len(list((other / RUN / "round_000" / "hpo").glob("shard_*.parquet"))) == 3
    assert len(list((reference / RUN / "round_000" / "hpo").glob("shard_*.parquet"))) == 1
    assert_same_artifacts(reference / RUN, other / RUN, shard_union=True)


def test_same_selected_features(tmp_path_factory, other_settings):
    a = pd.read_parquet(baseline(tmp_path_factory) / RUN / "summary" / "selected.parquet")
    b = pd.read_parquet(other_settings[0] / RUN / "summary" / "selected.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert len(a) >= 1


def test_shards_together_are_the_merged_results(other_settings):
    arts = artifacts(other_settings[0] / RUN, shard_union=True)
    for r in ("round_000", "round_001"):
        merged = arts[f"{r}/hpo/results.parquet"]
        pd.testing.assert_frame_equal(arts[f"{r}/hpo/shard_*.parquet"], merged, check_exact=True)
