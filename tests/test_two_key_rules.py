"""Every rule that involves two keys is in ``Settings.check`` (issue 17): the search's (hpo.random against the grid and
hpo.max_configs; hpo.halving against the estimator, the grid and the data) and the plan's (features with missing
values against the estimator and features.impute; features.correlated against rfe.min_features). Each is refused by
``Settings.check`` itself, given the facts the plan learns from the data, and at parse time with nothing written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_CONFIG, deep_update, settings_of, small_frame, snakemake, write_config
from _reliability import parse_time_checks
from rfe_lib import RFEError
from rfe_lib.layout import RESULTS

RIDGE = {"estimator": "sklearn.linear_model.Ridge", "params": {}}
CORRELATED = {"data": {"features": ["hour", "temp", "atemp", "hum", "workingday", "weathersit"]},
              "features": {"correlated": {"threshold": 0.9, "action": "prune"}}, "rfe": {"min_features": 5}}

# name -> (overrides, the facts the plan passes to Settings.check, the message, a table with missing values)
RULES = {
    "random larger than the grid": ({"hpo": {"search": "random", "random": {"n_candidates": 5}}}, {},
                                    "hpo.random.n_candidates (5) is larger than the grid (4 configurations)", False),
    "random above max_configs": ({"hpo": {"search": "random", "random": {"n_candidates": 3}, "max_configs": 2}}, {},
                                 "hpo.random.n_candidates (3) is above hpo.max_configs (2)", False),
    "halving below its first rung": ({"hpo": {"search": "halving", "halving": {"resource": "n_samples",
                                                                              "min_resources": 100000}}},
                                     {"min_fit_rows": 699},  # the smallest fold's fitting rows of the test's table
                                     "hpo.halving.min_resources (100000) is larger than the full resource, 699 rows "
                                     "(the fitting rows of the smallest fold)",
                                     False),
    "halving resource searched": ({"hpo": {"search": "halving", "halving": {"resource": "learning_rate"}}},
                                  {"min_fit_rows": 900}, "hpo.halving.resource 'learning_rate' is also searched by "
                                  "hpo.grid", False),
    "halving resource unknown": ({"hpo": {"search": "halving", "halving": {"resource": "n_trees"}}},
                                 {"min_fit_rows": 900}, "HistGradientBoostingRegressor has no parameter 'n_trees'",
                                 False),
    "halving resource not an integer": ({"hpo": {"search": "halving", "halving": {"resource": "max_depth"}}},
                                        {"min_fit_rows": 900}, "hpo.halving.resource 'max_depth' must be a positive "
                                        "integer parameter of HistGradientBoostingRegressor, but its value is None",
                                        False),
    "missing values the estimator refuses": ({"model": RIDGE, "hpo": {"grid": {"alpha": [1.0, 10.0]}}},
                                             {"with_nan": ("temp",)}, "features temp have missing values and Ridge "
                                             "cannot handle them; set features.impute: median", True),
    "correlated leaves too few": (CORRELATED, {"n_features": 5, "features_before": 6},
                                  "features.correlated (prune at threshold 0.9) leaves 5 of 6 features, not more than "
                                  "rfe.min_features (5)", False),
}


def config_of(overrides: dict) -> dict:
    config = deep_update(SMALL_CONFIG, overrides)
    if "grid" in overrides.get("hpo", {}):  # replace the grid, not merge into it
        config["hpo"]["grid"] = overrides["hpo"]["grid"]
    return config


@pytest.mark.parametrize("name", list(RULES))
def test_settings_check_refuses_it_given_the_plans_facts(name):
    overrides, facts, message, _ = RULES[name]
    good = settings_of({"hpo": {"grid": SMALL_CONFIG["hpo"]["grid"]}})
    config = config_of(overrides)
    # the bad keys put into accepted settings, without the check Settings.from_config makes
    bad = dataclasses.replace(good, **{section: type(getattr(good, section)).from_dict(
        {**getattr(good, section).to_dict(), **config[section]}) for section in overrides})
    with pytest.raises(RFEError) as info:
        bad.check(**facts)
    assert message in str(info.value)
    if facts:  # a rule about the data: not refused before the plan has read it
        bad.check()


@pytest.mark.parametrize("name", list(RULES))
def test_refused_at_parse_time_with_nothing_written(name, tmp_path, monkeypatch):
    """As the workflow parses its config (common.smk: Settings.from_config, make_plan), on real data."""
    overrides, _, message, with_nan = RULES[name]
    frame = small_frame(1500)
    if with_nan:
        frame.loc[np.arange(0, 1500, 50), "temp"] = np.nan
    frame.to_parquet(tmp_path / "data.parquet", index=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RFEError) as info:
        parse_time_checks(config_of(overrides))
    assert message in str(info.value)
    assert [p.name for p in Path(tmp_path).iterdir()] == ["data.parquet"]


@pytest.mark.slow
def test_a_plan_rule_is_refused_by_the_real_command_with_nothing_written(tmp_path):
    """The rule that moved from the plan into Settings.check, through the real CLI (the search's rules are run by
    tests/test_search.py::test_bad_search_settings_are_refused_when_the_workflow_is_parsed)."""
    overrides, _, message, _ = RULES["missing values the estimator refuses"]
    frame = small_frame(600)
    frame.loc[np.arange(0, 600, 50), "temp"] = np.nan
    frame.to_parquet(tmp_path / "data.parquet", index=False)
    write_config(tmp_path, overrides)
    config = (tmp_path / "config.yaml")
    import yaml

    config.write_text(yaml.safe_dump(config_of(overrides)))
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / RESULTS).exists()
    plan_cache = tmp_path / ".snakemake" / "rfe-plan"
    assert not plan_cache.exists() or not any(plan_cache.iterdir())
