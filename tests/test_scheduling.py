"""Scheduling (issue 4): the jobs that lead to the next round go before figures.

Rounds run one after another, so a figure started while the next round's jobs are ready delays the whole
run; started when the chain leaves a core idle, it costs nothing. The workflow gives the chain
(HPO shards, importance shards, the elimination that writes the next round's features) the highest priority, the round's final
model and metrics the next, and figures none. With one core, that order is visible in the order jobs start: the
test reads it from the output of a whole run at ``-j 1`` (two rounds, every figure; _reliability.serial_baseline,
made once per session and shared with tests/test_determinism.py).
"""

from __future__ import annotations

import re

import pytest

from _reliability import serial_baseline, started_jobs

pytestmark = pytest.mark.slow  # a real run

CHAIN = {"hpo_shard", "importance_shard", "eliminate_000", "eliminate_001"}


def started_rules(log: str) -> list[str]:
    """Rule names in the order Snakemake started their jobs (its ``rule x:`` / ``localrule x:`` lines)."""
    return re.findall(r"^(?:local)?rule (\w+):$", log, flags=re.MULTILINE)


def test_next_rounds_chain_runs_before_earlier_figures(tmp_path_factory):
    log = serial_baseline(tmp_path_factory)
    order = started_rules(log)

    assert [wc for rule, wc in started_jobs(log) if rule == "figures"] == ["r=000", "r=001"], order
    assert order.count("eliminate_000") == 1 and order.count("eliminate_001") == 1, order
    first_figure = order.index("figures")
    last_chain = max(i for i, rule in enumerate(order) if rule in CHAIN)
    # Round 0's figures were ready once its model was evaluated, long before round 1 ended: they waited.
    assert last_chain < first_figure, order
    # The final model and metrics go before figures too (the figures need them), but after the chain.
    assert max(i for i, rule in enumerate(order) if rule == "train_model") < first_figure
    assert order.index("train_model") > order.index("importance_shard"), order
