"""The settings object: one place for the configuration contract (defaults from the schema only, enumerations
defined once in code, cross-key rules in one method)."""

from __future__ import annotations

import copy
import re

import pytest

from conftest import REPO, SMALL_CONFIG, deep_update
from rfe_lib import RFEError
from rfe_lib.schema import load_schema
from rfe_lib.settings import ENUMERATIONS, Settings

MINIMAL = {"data": {"path": "d.parquet", "target": "y"}, "hpo": {"grid": {"alpha": [1.0]}}}


def _schema_enums(node, path=()):
    """``{dotted key: enum values}`` of every ``enum`` in the schema (``*`` for any name)."""
    found = {}
    if isinstance(node, dict):
        if "enum" in node:
            found[".".join(path)] = tuple(node["enum"])
        for key, sub in node.get("properties", {}).items():
            found.update(_schema_enums(sub, (*path, key)))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            found.update(_schema_enums(extra, (*path, "*")))
        for key in ("oneOf", "anyOf"):
            for sub in node.get(key, []):
                found.update(_schema_enums(sub, path))
    return found


def _schema_defaults(node, path=()):
    """``{dotted key: default}`` of every leaf key with a default."""
    found = {}
    for key, sub in node.get("properties", {}).items():
        if sub.get("type") == "object" and "properties" in sub:
            found.update(_schema_defaults(sub, (*path, key)))
        elif "default" in sub:
            found[".".join((*path, key))] = sub["default"]
    return found


def _get(config, dotted):
    for key in dotted.split("."):
        config = config[key]
    return config


def test_the_schema_lists_exactly_the_enumerations_of_the_code():
    assert _schema_enums(load_schema()) == ENUMERATIONS


def test_every_default_comes_from_the_schema():
    settings = Settings.from_config(MINIMAL)
    resolved = settings.to_config()
    defaults = _schema_defaults(load_schema())
    assert defaults  # the walk found them
    for key, value in defaults.items():
        assert _get(resolved, key) == value, key
    assert settings.split.seed == 42 and settings.model_spec().seed == 42  # no other fallback (it once was 0)


# Parameters of rfe_lib that share a schema key's name but are not that setting, so may keep a default:
# (module, qualified function name, parameter) -> why.
NOT_A_SETTING = {
    ("rfe_lib.elimination", "eliminate_round", "search"): "a search strategy object, not hpo.search's name",
    ("rfe_lib.figures.residuals", "residuals_vs_feature", "importance"): "a feature's (mean, std), not rfe.importance",
    ("rfe_lib.figures.style", "sample", "seed"): "the fixed seed of a scatter plot's point sample, not split.seed",
    ("rfe_lib.models", "build_model", "params"): "one grid configuration, not model.params",
    ("rfe_lib.search.base", "Rung.__init__", "params"): "a rung's grid configurations, not model.params",
    ("rfe_lib.models", "ModelSpec.__init__", "threads"): "None: the estimator's own default until a job gives it "
                                                          "its threads (with_threads), not hpo/importance.threads",
    ("rfe_lib.plan.presets", "Machine.__init__", "wave_seconds"): "a local machine has no scheduling latency; the "
                                                                 "cluster's comes from budget.wave_seconds",
    # make_split is the splitting function itself, which the tests call one method at a time; jobs and the plan call
    # run_split, which passes every split.* key from the settings, so these defaults are never a run's.
    ("rfe_lib.split", "make_split", "method"): "a direct call's stratified split; runs pass split.method",
    ("rfe_lib.split", "make_split", "gap"): "a direct call's time split; runs pass split.gap",
    ("rfe_lib.split", "make_split", "time_folds"): "a direct call's time split; runs pass split.time_folds",
    ("rfe_lib.split", "make_split", "time_column"): "the time column's name in the artifact; runs pass theirs",
}


def _functions(module):
    """``(qualified name, function)`` of every function and method defined in ``module`` itself."""
    import inspect

    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield name, inspect.unwrap(obj)
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                member = getattr(member, "__func__", member)
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", inspect.unwrap(member)


def test_no_function_parameter_restates_a_schema_default():
    """A parameter named like a schema key (``metric``, ``dpi``, ``seed``, ``ranked_configs``, ...) takes its value
    from the settings: it has no default of its own that could disagree with the schema (as ``metric="rmse"`` in
    the figure functions and ``dpi=110`` in ``save`` once did). ``None`` is allowed where the schema's default is
    ``None`` too (the key is off)."""
    import importlib
    import inspect

    defaults = _schema_defaults(load_schema())
    by_name = {}
    for key, value in defaults.items():
        by_name.setdefault(key.rpartition(".")[2], []).append((key, value))
    assert {"metric", "dpi", "seed", "ranked_configs", "allowed_modules"} <= set(by_name)
    offenders, exempt = [], set()
    for path in sorted((REPO / "rfe_lib").rglob("*.py")):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for qualname, fn in _functions(importlib.import_module(name)):
            for p in inspect.signature(fn).parameters.values():
                if p.name not in by_name or p.default is inspect.Parameter.empty:
                    continue
                if (name, qualname, p.name) in NOT_A_SETTING:
                    exempt.add((name, qualname, p.name))
                    continue
                if p.default is None and all(v is None for _, v in by_name[p.name]):
                    continue
                offenders.append(f"{name}.{qualname}({p.name}={p.default!r}): schema {by_name[p.name]}")
    assert offenders == []
    assert exempt == set(NOT_A_SETTING)  # the walk reached every module, and every exemption is still needed


def test_no_module_reads_the_config_dict_but_the_settings():
    """Only rfe_lib/settings.py and rfe_lib/schema.py see the raw configuration: no ``config[...]`` or
    ``.get(key, default)`` fallbacks elsewhere that could disagree with the schema."""
    offenders = []
    for path in (REPO / "rfe_lib").rglob("*.py"):
        if path.name in ("settings.py", "schema.py"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bconfig(\[|\.get\()", line):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    for path in (REPO / "workflow").rglob("*.smk"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bconfig\[", line):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == []


def test_sections_round_trip_through_job_params():
    settings = Settings.from_config(deep_update(SMALL_CONFIG, {}))
    for section in (settings.data, settings.split, settings.hpo, settings.rfe, settings.plots):
        params = section.to_dict()
        assert type(section).from_dict(params) == section
        assert repr(params) == repr(copy.deepcopy(params))  # plain built-in values: Snakemake sees their changes
    assert Settings.from_config(settings.to_config()) == settings


def test_plan_key_ignores_presentation_settings_only():
    base = Settings.from_config(SMALL_CONFIG)
    for change in ({"plots": {"dpi": 150}}, {"excel": {"top_configs": 3}}, {"evaluation": {"tolerances": [1, 2]}},
                   {"run_name": "u"}, {"rfe": {"select": "one_se"}}):  # a second experiment reuses the plan
        assert Settings.from_config(deep_update(SMALL_CONFIG, change)).plan_key() == base.plan_key()
    assert base.to_config()["rfe"]["select"] == "best"  # the key leaves the settings themselves alone
    for change in ({"split": {"seed": 1}}, {"rfe": {"step": 2}}, {"hpo": {"max_configs": 3}},
                   {"rfe": {"importance": "permutation"}}):
        assert Settings.from_config(deep_update(SMALL_CONFIG, change)).plan_key() != base.plan_key()


@pytest.mark.parametrize("change, message", [
    ({"split": {"test_fraction": 0.5, "val_fraction": 0.4}}, "they must leave at least 10% of the rows for training"),
    ({"evaluation": {"tolerances": [5, 5]}}, "evaluation.tolerances has duplicates"),
])
def test_cross_key_rules_are_checked_when_the_settings_are_built(change, message):
    with pytest.raises(RFEError, match=re.escape(message)):
        Settings.from_config(deep_update(SMALL_CONFIG, change))


def test_the_settings_are_frozen():
    settings = Settings.from_config(SMALL_CONFIG)
    with pytest.raises(AttributeError):
        settings.split.seed = 1
