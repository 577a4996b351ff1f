"""The Snakemake profiles (profiles/default, profiles/slurm) name only rules and groups that the workflow has.

A profile that names a rule the workflow no longer has is silently ignored by Snakemake (``set-resources`` of an
unknown rule is no error), so a renamed rule would lose its site settings without a word. The rule names come from
the workflow itself (``snakemake --list-rules``), for a run whose figures come in two variants (``figures`` and
``figures_<n>``: round 2 has fewer features than ``plots.top_features``).
"""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import REPO, make_workdir, snakemake

pytestmark = pytest.mark.slow  # one Snakemake start-up

PROFILES = sorted((REPO / "profiles").glob("*/config.yaml"))
# A figure rule as the profiles write it, in their comments too: figures, figures_summary, figures_<n>.
FIGURE_RULE = re.compile(r"\bfigures(?:_(?:\w+|<\w+>))?\b")


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> set[str]:
    workdir = tmp_path_factory.mktemp("profiles")
    make_workdir(workdir, {"plots": {"top_features": 4}})
    proc = snakemake(workdir, "--list-rules")
    names = set(re.findall(r"^(\w+)$", proc.stdout, re.M))
    assert {"all", "hpo_shard", "figures", "figures_summary"} <= names, proc.stdout
    return names


def _exists(name: str, rules: set[str]) -> bool:
    """``name``, or a pattern with ``<n>`` placeholders (``figures_<n>``), is a rule of ``rules``."""
    pattern = re.sub(r"<\w+>", r"\\d+", name)
    return any(re.fullmatch(pattern, rule) for rule in rules)


def test_profiles_are_found():
    assert {p.parent.name for p in PROFILES} == {"default", "slurm"}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.parent.name)
def test_every_rule_a_profile_sets_exists(profile, rules):
    config = yaml.safe_load(profile.read_text())
    named = {name for key in ("set-resources", "set-threads") for name in (config.get(key) or {})}
    missing = sorted(name for name in named if not _exists(name, rules))
    assert not missing, f"{profile} sets resources of rules the workflow does not have: {missing}"


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.parent.name)
def test_every_figure_rule_a_profile_mentions_exists(profile, rules):
    """Comments included: the figure rules are named from the figure registry, and their names changed before."""
    mentioned = set(FIGURE_RULE.findall(profile.read_text()))
    missing = sorted(name for name in mentioned if not _exists(name, rules))
    assert not missing, f"{profile} names figure rules the workflow does not have: {missing}"

