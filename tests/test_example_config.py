"""The bundled example's configuration is what the README's first screen says (issue 22): its rounds, features per round,
configurations, folds and boosting iterations, recomputed from config/round.yaml and the example's data (plain pandas,
the schedule rule written out here), and the heavier example it points to exists and is heavier."""

from __future__ import annotations

import itertools
import re

import pandas as pd
import yaml

from conftest import REPO


def _config(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


def _schedule(cfg) -> list[int]:
    """Features per round: all of them, then ``step`` fewer each round down to ``min_features`` (never below)."""
    columns = pd.read_parquet(REPO / cfg["data"]["path"]).columns
    n = len([c for c in columns if c != cfg["data"]["target"] and c not in cfg["data"]["drop"]])
    rounds = [n]
    while rounds[-1] > cfg["rfe"]["min_features"]:
        rounds.append(max(rounds[-1] - cfg["rfe"]["step"], cfg["rfe"]["min_features"]))
    return rounds


def _facts(cfg) -> dict:
    grid = cfg["hpo"]["grid"]
    return {"rounds": len(_schedule(cfg)), "schedule": _schedule(cfg),
            "configs": len(list(itertools.product(*grid.values()))), "folds": cfg["split"]["folds"],
            "iterations": cfg["model"]["params"]["max_iter"]}


def test_readme_states_the_example_config():
    readme = (REPO / "README.md").read_text()
    first_screen = readme[: readme.index("## Contents")]
    example, full = _facts(_config("round.yaml")), _facts(_config("example_full.yaml"))
    said = re.search(r"`config/round.yaml`: (\d+) rounds, ([\d >-]+) features, (\d+) configurations, (\d+) folds, (\d+)\s+"
                     r"boosting iterations", first_screen)
    assert said, "README's first screen must state the example's rounds, features, configurations, folds, iterations"
    assert int(said[1]) == example["rounds"]
    assert [int(x) for x in said[2].split("->")] == example["schedule"]
    assert (int(said[3]), int(said[4]), int(said[5])) == (example["configs"], example["folds"], example["iterations"])
    heavy = re.search(r"`config/example_full.yaml` is the heavier one \((\d+) rounds, (\d+)\s+configurations, (\d+) folds, "
                      r"(\d+) iterations", first_screen)
    assert heavy and (int(heavy[1]), int(heavy[2]), int(heavy[3]), int(heavy[4])) == \
        (full["rounds"], full["configs"], full["folds"], full["iterations"])
    assert re.search(r"took \d+ s", first_screen), "the measured time of the example"


def test_example_plan_matches_the_workflow_schedule():
    """The schedule written out above is the workflow's (rfe_lib.schedule), for both examples."""
    from rfe_lib.schedule import round_schedule

    for name in ("round.yaml", "example_full.yaml"):
        cfg = _config(name)
        n = _schedule(cfg)[0]
        assert round_schedule(n, cfg["rfe"]["step"], cfg["rfe"]["min_features"]) == _schedule(cfg)
