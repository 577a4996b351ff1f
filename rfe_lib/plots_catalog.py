"""Which figures a run makes, what they are called and what each one reads; no matplotlib here.

The workflow calls this module when it is parsed (to list every PNG of every round), and the plot jobs
call it to decode a figure's name. One name per PNG: ``results/<run>/plots/round_<r>/<name>.png`` and
``results/<run>/plots/summary/<name>.png``.
"""

from __future__ import annotations

import json
import re

# Per round: the errors of the round's model on held-out rows.
ERROR_PLOTS = ("pred_vs_actual", "residuals_vs_pred", "residual_hist", "abs_error_cdf")
LOFO_PLOT = "lofo_importance"
TOP_PREFIX = "residuals_top"     # residuals_top1, residuals_top2, ...: against the round's k-th feature
PARAM_PREFIX = "hpo_param_"      # hpo_param_<name>: CV loss against one grid parameter
HPO_PLOTS = ("hpo_heatmap", "hpo_ranked")
# Across rounds.
SUMMARY_PLOTS = ("loss_vs_features", "elimination_order")

TITLES = {
    "pred_vs_actual": "predicted vs actual",
    "residuals_vs_pred": "residuals vs predicted",
    "residual_hist": "residual histogram",
    "abs_error_cdf": "cumulative |error|",
    LOFO_PLOT: "LOFO importance",
    "hpo_heatmap": "HPO heat map",
    "hpo_ranked": "HPO configurations ranked",
    "loss_vs_features": "loss vs number of features",
    "elimination_order": "elimination order",
}

# What each family of figures reads (keys of the plot rule's inputs).
NEEDS = {
    "errors": ("predictions", "metrics"),
    "top": ("predictions", "importance", "table", "feature_map"),
    "lofo": ("importance",),
    "hpo": ("hpo",),
}


def _grids(grid) -> list[dict]:
    return [grid] if isinstance(grid, dict) else list(grid)


def grid_values(grid) -> dict[str, list]:
    """Every parameter of a grid spec (dict or list of dicts) and its distinct values, in first-seen order."""
    values: dict[str, list] = {}
    for g in _grids(grid):
        for name in sorted(g):
            seen = values.setdefault(name, [])
            keys = {json.dumps(v, sort_keys=True, default=str) for v in seen}
            for v in g[name] if isinstance(g[name], list) else [g[name]]:
                key = json.dumps(v, sort_keys=True, default=str)
                if key not in keys:
                    keys.add(key)
                    seen.append(v)
    return values


def varying_params(grid) -> list[str]:
    """Grid parameters that take at least two values (a parameter with one value has nothing to compare)."""
    return sorted(name for name, vals in grid_values(grid).items() if len(vals) >= 2)


def round_plots(n_features: int, top_features: int, grid) -> list[str]:
    """Names of the figures of a round with ``n_features`` features."""
    names = list(ERROR_PLOTS)
    names += [f"{TOP_PREFIX}{k}" for k in range(1, min(top_features, n_features) + 1)]
    names.append(LOFO_PLOT)
    params = varying_params(grid)
    names += [f"{PARAM_PREFIX}{p}" for p in params]
    if len(params) >= 2:
        names.append("hpo_heatmap")
    names.append("hpo_ranked")
    return names


def round_plot_pattern(grid) -> str:
    """A regular expression matching exactly the names :func:`round_plots` can produce (a wildcard constraint)."""
    params = "|".join(re.escape(p) for p in varying_params(grid)) or "(?!)"
    fixed = "|".join(re.escape(n) for n in (*ERROR_PLOTS, LOFO_PLOT, *HPO_PLOTS))
    return f"(?:{fixed}|{TOP_PREFIX}[1-9][0-9]*|{PARAM_PREFIX}(?:{params}))"


def summary_plot_pattern() -> str:
    return "(?:" + "|".join(SUMMARY_PLOTS) + ")"


def family(name: str) -> tuple[str, object]:
    """``(family, argument)`` of a round figure: ``("errors", "residual_hist")``, ``("top", 2)``,
    ``("lofo", None)``, ``("param", "learning_rate")``, ``("hpo", "hpo_heatmap")``."""
    if name in ERROR_PLOTS:
        return "errors", name
    if name == LOFO_PLOT:
        return "lofo", None
    if name in HPO_PLOTS:
        return "hpo", name
    m = re.fullmatch(rf"{TOP_PREFIX}([1-9][0-9]*)", name)
    if m:
        return "top", int(m.group(1))
    if name.startswith(PARAM_PREFIX) and len(name) > len(PARAM_PREFIX):
        return "param", name[len(PARAM_PREFIX):]
    raise ValueError(f"unknown round figure {name!r}")


def needs(name: str) -> tuple[str, ...]:
    """Keys of the inputs that the round figure ``name`` reads."""
    fam, _ = family(name)
    return NEEDS["hpo" if fam in ("param", "hpo") else fam]


def title(name: str) -> str:
    """A short human name of a figure (a label in the report)."""
    fam, arg = family(name) if name not in SUMMARY_PLOTS else ("summary", None)
    if fam == "top":
        return f"residuals vs top feature {arg}"
    if fam == "param":
        return f"HPO: CV loss vs {arg}"
    return TITLES[name]


def subcategory(name: str) -> str:
    """The report's subcategory of a round figure."""
    fam, _ = family(name)
    return {"errors": "Errors", "top": "Residuals vs top features", "lofo": "LOFO importance",
            "param": "Hyperparameters", "hpo": "Hyperparameters"}[fam]
