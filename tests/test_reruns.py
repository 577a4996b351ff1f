"""Exact reruns (issue 6): after a change, ``snakemake -n`` plans the jobs that the change concerns, and only those.

Every test starts from a copy of one finished run (modification times and Snakemake's records kept) and asserts
on the jobs that the dry run plans, with their reasons. Changes: none, a figure setting, the grid, the data file's
content, and the code of an rfe_lib module (in a copy of the workflow, whose rfe_lib is the one imported).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TARGET, layout, small_frame
from _reliability import CORE_RULES, base_env, baseline, copy_workdir, planned_jobs, rule_counts, rule_name, run
from rfe_lib.fingerprint import module_closure, script_modules

pytestmark = pytest.mark.slow

N_ROUNDS = 2  # the reliability config: 5 -> 4 features
def is_figure_rule(rule: str) -> bool:
    return rule == "figures" or rule.startswith("figures_")


# Jobs that record the whole configuration (the workbook's Config sheet), so any setting reruns them.
RECORDS_CONFIG = {"workbook"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A copy of the finished baseline run; tests only dry-run it, each with its own config file."""
    return copy_workdir(baseline(tmp_path_factory), tmp_path_factory.mktemp("reruns") / "work")


def variant(workdir: Path, name: str, edit) -> str:
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    edit(cfg)
    (workdir / name).write_text(yaml.safe_dump(cfg, sort_keys=False))
    return name


def downstream_only(jobs, changed_rules) -> None:
    """Every planned job is either one of ``changed_rules`` or reruns because an input is being remade."""
    for j in jobs:
        if j.rule not in changed_rules and j.rule != "all":
            assert j.reason.startswith("Input files updated by another job"), j


def test_no_op_rerun_does_nothing(finished):
    assert planned_jobs(finished) == []


def test_plot_setting_reruns_only_plots(finished):
    jobs = planned_jobs(finished, configfile=variant(finished, "dpi.yaml", lambda c: c["plots"].update(dpi=120)))
    counts = rule_counts(jobs)
    assert not set(counts) & CORE_RULES, counts
    assert {rule for rule in counts if not is_figure_rule(rule)} <= RECORDS_CONFIG, counts
    # every figure job: one per round, and the one across rounds
    jobs = {png.parent.name for png in layout(finished).plots_dir.rglob("*.png")}
    assert sum(n for rule, n in counts.items() if is_figure_rule(rule)) == len(jobs) > 0


def test_grid_change_reruns_hpo_and_what_follows_not_validation_or_split(finished):
    def edit(c):
        c["hpo"]["grid"]["learning_rate"] = [0.1, 0.3]

    jobs = planned_jobs(finished, configfile=variant(finished, "grid.yaml", edit))
    counts = rule_counts(jobs)
    core = {rule: n for rule, n in counts.items() if rule in CORE_RULES}
    per_round = ("hpo_shard", "train_model", "importance_shard", "eliminate")
    assert core == {**{rule: N_ROUNDS for rule in per_round}, "summarize": 1}
    params_changed = {rule_name(j.rule) for j in jobs if j.reason.startswith("Params have changed")}
    searched = {"hpo_shard", "train_model", "importance_shard", "eliminate"}  # every job that reads the search
    assert "hpo_shard" in params_changed and params_changed <= searched | RECORDS_CONFIG
    downstream_only(jobs, searched | RECORDS_CONFIG)


def test_data_change_reruns_everything(finished, tmp_path):
    workdir = copy_workdir(finished, tmp_path / "work")
    small_frame(2000, seed=1).to_parquet(workdir / "data.parquet", index=False)  # same path, new content
    jobs = planned_jobs(workdir)
    counts = rule_counts(jobs)
    everything = rule_counts(planned_jobs(workdir, "--forceall"))
    assert counts == everything
    assert {"validate_data", "split_data", "engineer_features"} <= set(counts)
    assert next(j for j in jobs if j.rule == "validate_data").reason.startswith(
        ("Updated input files", "Input files updated", "Set of input files has changed"))


def test_touching_the_data_file_without_changing_it_reruns_nothing(finished, tmp_path):
    workdir = copy_workdir(finished, tmp_path / "work")
    (workdir / "data.parquet").touch()
    assert planned_jobs(workdir) == []


# ------------------------------------------------------------------------------------------- code changes

def test_every_rule_fingerprints_exactly_the_code_its_script_runs():
    """Each rule with a ``script:`` passes ``code=`` covering exactly the rfe_lib modules that script imports."""
    problems = []
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule )", smk.read_text())[1:]:
            rule = re.match(r"rule (\w+):", block).group(1)
            script = re.search(r'script:\s*\n\s*"\.\./scripts/(\w+\.py)"', block)
            if not script:
                continue
            wanted = script_modules(REPO / "workflow" / "scripts" / script.group(1))
            code = re.search(r"code=(\w+)\(([^)]*)\)", block)
            if not code:
                problems.append(f"{rule}: no code= fingerprint in params")
                continue
            args = re.findall(r'"(\w+)"', code.group(2))
            covered = (script_modules(REPO / "workflow" / "scripts" / f"{args[0]}.py") if code.group(1) == "script_code"
                       else module_closure(*args))
            if covered != wanted:
                problems.append(f"{smk.name}: rule {rule}: code= covers {covered}, its script runs {wanted}; "
                                f'use code=script_code("{script.group(1)[:-3]}")')
    assert problems == [], "\n".join(problems)


def test_script_modules_follow_imports():
    # train_model uses search.base.best_params: editing it must rerun it (and its package's __init__ runs too)
    assert {"search", "search.base"} <= set(script_modules(REPO / "workflow" / "scripts" / "train_model.py"))
    assert {"importance", "importance.lofo", "importance.base"} <= set(
        script_modules(REPO / "workflow" / "scripts" / "importance_shard.py"))
    assert {"io", "job", "elimination", "importance.base"} <= set(
        script_modules(REPO / "workflow" / "scripts" / "eliminate.py"))
    assert not {"models", "cv", "training"} & set(script_modules(REPO / "workflow" / "scripts" / "split_data.py"))
    # a figure job runs no modelling code: editing it redraws nothing
    assert not {"models", "cv", "search", "importance", "settings"} & set(
        script_modules(REPO / "workflow" / "scripts" / "figures.py"))


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory) -> Path:
    """The workflow copied elsewhere (modification times kept), so its rfe_lib can be edited."""
    repo = tmp_path_factory.mktemp("workflow_copy")
    for name in ("Snakefile", "workflow", "rfe_lib", "profiles", "config", "envs"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, repo / name)
    return repo


IMPORT_MARK = '''
import os as _os  # appended by test_reruns: records which rfe_lib a job imports
if _os.environ.get("RFE_TEST_IMPORT_MARK"):
    with open(_os.environ["RFE_TEST_IMPORT_MARK"], "a") as _fh:
        _fh.write(__file__ + "\\n")
'''


def test_editing_rfe_lib_reruns_the_jobs_whose_code_changed_and_only_those(finished, workflow_copy, tmp_path):
    workdir = copy_workdir(finished, tmp_path / "work")
    snakefile = workflow_copy / "Snakefile"
    assert planned_jobs(workdir, snakefile=snakefile) == [], "the copied workflow should see the run as up to date"

    # A module that no job runs (the parse-time plan): nothing to redo.
    with open(workflow_copy / "rfe_lib" / "plan" / "__init__.py", "a") as fh:
        fh.write("\n# an edit that changes no job\n")
    assert planned_jobs(workdir, snakefile=snakefile) == []

    # LOFO's module: the importance jobs and what depends on them (not round 0's search or model).
    with open(workflow_copy / "rfe_lib" / "importance" / "lofo.py", "a") as fh:
        fh.write(IMPORT_MARK)
    jobs = planned_jobs(workdir, snakefile=snakefile)
    counts = rule_counts(jobs)
    core = {rule: n for rule, n in counts.items() if rule in CORE_RULES}
    assert core == {"importance_shard": N_ROUNDS, "eliminate": N_ROUNDS, "hpo_shard": N_ROUNDS - 1,
                    "train_model": N_ROUNDS - 1, "summarize": 1}
    changed = {(j.rule, j.wildcards) for j in jobs if j.reason.startswith("Params have changed")}
    assert ("importance_shard", "r=000, s=00") in changed
    assert {rule_name(rule) for rule, _ in changed} <= {"importance_shard", "eliminate"}
    downstream_only(jobs, {"importance_shard"} | {f"eliminate_{r:03d}" for r in range(N_ROUNDS)})

    # The jobs import the copy's rfe_lib (not the installed one): run one and look.
    mark = tmp_path / "imported.txt"
    env = base_env(RFE_TEST_IMPORT_MARK=str(mark))
    run(workdir, "-j", "1", TARGET.importance_shard(0, 0), snakefile=snakefile, env=env)
    imported = set(mark.read_text().split())
    assert imported == {str(workflow_copy / "rfe_lib" / "importance" / "lofo.py")}
