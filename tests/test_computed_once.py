"""Facts computed once (issue 17): a Snakemake invocation validates the config once and builds each search strategy
once; round 0's features come from one function, so the plan's schedule and the engineer_features job agree."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pandas as pd
import pytest
import yaml

from conftest import EXAMPLE, REPO, SMALL_CONFIG, SNAKEFILE, TARGET, base_env, deep_update, layout, small_frame, snakemake


def counted_dry_run(workdir, config) -> tuple[dict, str]:
    """``snakemake -n`` of ``config`` in ``workdir``, with tests/_count_builds.py's counters; (counts, its stderr)."""
    counts = workdir / "counts.json"
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "_count_builds.py"), "-s", str(SNAKEFILE),
                           "-d", str(workdir), "--configfile", str(config), "-n", "-j", "2"],
                          capture_output=True, text=True, timeout=600, env=base_env(RFE_COUNTS=str(counts)))
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(counts.read_text()), proc.stderr


def test_a_dry_run_validates_the_config_once_and_builds_each_search_strategy_once(tmp_path):
    """config/round.yaml, as a user runs it: the first dry run makes the plan (which builds the run's strategy to
    check it), the second reads it from the plan cache. The budget presets' strategies (grid+carry, halving+carry,
    ...) are built only for a presets table that is shown (an exhaustive estimate over an hour, or a time box:
    tests/test_budget_presets.py): not for the example, whose search takes seconds."""
    config = yaml.safe_load((REPO / "config" / "round.yaml").read_text())
    config["data"]["path"] = str(EXAMPLE)
    path = tmp_path / "round.yaml"
    path.write_text(yaml.safe_dump(config))
    for attempt in ("plan made", "plan cached"):
        counts, log = counted_dry_run(tmp_path, path)
        assert "RFE plan for run 'example'" in log
        assert counts["validations"] == 1, (attempt, counts["validations"])
        builds = Counter(counts["builds"])
        assert builds and max(builds.values()) == 1, (attempt, [b for b, n in builds.items() if n > 1])
        run = [json.loads(b) for b in builds if json.loads(b)["name"] == "grid" and json.loads(b)["carry_top"] is None]
        assert len(run) == 1 and run[0]["seed"] == 42  # the run's own strategy is among them
        assert [json.loads(b)["name"] for b in builds] == ["grid"]  # the run's own (and the exhaustive preset's)


# ------------------------------------------------------------------------------------ round 0's features

ROUND_ZERO = {"data": {"features": ["hour", "temp", "atemp", "hum", "workingday", "weathersit", "const"]},
              "features": {"derived": {"temp_x_hum": {"op": "product", "columns": ["temp", "hum"]}},
                           "correlated": {"threshold": 0.9, "action": "group"}}}


def test_the_plan_schedules_the_features_the_engineer_features_job_writes(tmp_path, monkeypatch):
    """A constant column (dropped by validation), a derived feature and a group of correlated features (temp and
    atemp): the job's round-0 features and feature map are the plan's, and the plan's schedule starts from them."""
    from rfe_lib.plan import make_plan
    from rfe_lib.settings import Settings

    small_frame().assign(const=3.0).to_parquet(tmp_path / "data.parquet", index=False)
    config = deep_update(SMALL_CONFIG, ROUND_ZERO)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "-j", "1", TARGET.round_file(0, "features"))
    run = layout(tmp_path)
    features = pd.read_parquet(run.round_file(0, "features"))["feature"].tolist()
    fmap = pd.read_parquet(run.file("feature_map"))
    monkeypatch.chdir(tmp_path)
    plan = make_plan(Settings.from_config(config, written=True))
    assert plan.features == features and plan.n_columns == len(fmap) and plan.schedule[0] == len(features)
    # what the case is meant to exercise: the constant column dropped, temp and atemp one feature, the derived one kept
    assert "const" not in features and "temp_x_hum" in features
    assert [f for f in features if "temp" in f and f != "temp_x_hum"] == ["atemp (+1)"], features
    assert len(features) == 6 and len(fmap) == 8  # hour (2 columns), the group (2), hum, workingday, weathersit, derived
