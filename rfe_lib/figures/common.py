"""What the figures share: titles, marker sizes, axis helpers, and the views of a round's tables they draw from.

A round's figures take their tables as mappings of column name -> numpy array (:mod:`rfe_lib.columns`) and need
numpy, pyarrow and matplotlib only: a round's figure job never imports pandas, scikit-learn or the modelling modules
(a test checks it).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import FuncFormatter

from ..columns import Columns, is_missing_value, n_rows, take
from ..vocab import HELD_OUT, config_order, importance_order, succeeded
from .style import Target, fmt, metric_name

MAX_ROWS = 60  # features drawn in one per-feature chart (importance, elimination order); the tables hold them all


def target_of(options: dict) -> Target:
    """The target's name, unit and angle unit, as a figure job's options give them."""
    return Target(options["target"], options["unit"], options["angle"])


def round_title(what: str, r: int | None) -> str:
    return what if r is None else f"{what} — round {int(r)}"


def marker_style(n: int) -> dict:
    """Smaller, lighter markers for more points, so dense regions stay readable."""
    size = float(np.clip(40.0 / math.sqrt(max(n, 1) / 300.0), 3.0, 36.0))
    alpha = float(np.clip(0.9 / math.sqrt(max(n, 1) / 200.0), 0.15, 0.8))
    return {"s": size, "alpha": alpha, "linewidths": 0}


def in_sets(pred: Columns, sets) -> np.ndarray:
    """Which rows of the predictions belong to one of ``sets`` (names of the ``set`` column)."""
    return np.isin(pred["set"], list(sets))


def held_out(pred: Columns) -> dict[str, np.ndarray]:
    return take(pred, in_sets(pred, HELD_OUT))


def shown_errors(part: Columns, target: Target) -> np.ndarray:
    return target.to_shown(part["error"])


def shown_pred(part: Columns, target: Target) -> np.ndarray:
    """Predictions as drawn: for an angle target, on the turn nearest the actual value (actual + wrapped error)."""
    if target.angle:
        return target.to_shown(part["y_true"]) + shown_errors(part, target)
    return np.asarray(part["y_pred"], dtype=float)


def error_limit(errors: np.ndarray, tolerances, target: Target) -> float:
    """Half-width of an error axis: the 99.5th percentile of |error|, wide enough for every tolerance (at most
    half a turn for an angle target, whose errors are wrapped)."""
    finite = np.abs(errors[np.isfinite(errors)])
    p = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    tol = max([target.scalar(t) for t in tolerances], default=0.0)
    limit = max(p, 1.15 * tol, 1e-12)
    return min(limit, 180.0) if target.angle else limit


def symlog_if_skewed(ax, values, axis: str = "x") -> bool:
    """Use a symmetric-log axis when one value dwarfs the others (e.g. one feature carries the model), so the
    small ones stay readable; return whether it did."""
    mags = np.sort(np.abs(np.asarray(values, dtype=float)[np.isfinite(values)]))
    if mags.size < 3 or mags[-1] <= 0:
        return False
    typical = float(np.median(mags))
    if typical <= 0 or mags[-1] < 25.0 * typical:
        return False
    linthresh = 10.0 ** math.floor(math.log10(float(np.percentile(mags, 75))))
    (ax.set_xscale if axis == "x" else ax.set_yscale)("symlog", linthresh=linthresh, linscale=0.6)
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = lambda v: v * 1.6 if abs(v) > linthresh else math.copysign(linthresh, v) * 1.3  # noqa: E731
    (ax.set_xlim if axis == "x" else ax.set_ylim)(pad(lo) if lo < 0 else 0.0, pad(hi) if hi > 0 else linthresh)
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(FuncFormatter(lambda v, _: fmt(v)))
    return True


def value_labels(ax, positions, labels, color="#333333") -> None:
    """Text labels at the right edge of a horizontal chart (a second y axis, so the layout makes room)."""
    twin = ax.twinx()
    twin.set_ylim(ax.get_ylim())
    twin.set_yticks(list(positions), labels=list(labels))
    twin.tick_params(axis="y", length=0, labelsize=9, labelcolor=color)
    twin.grid(False)
    for side in ("top", "right", "bottom", "left"):
        twin.spines[side].set_visible(False)


def category_positions(values: np.ndarray) -> tuple[list, list[str], np.ndarray]:
    """Distinct values of a parameter column in a sensible order, their tick labels, and each row's position."""
    def key(v):
        if is_missing_value(v):
            return (0, 0.0, "")
        if isinstance(v, (bool, np.bool_)):
            return (1, float(v), "")
        if isinstance(v, (int, float, np.integer, np.floating)):
            return (2, float(v), "")
        return (3, 0.0, str(v))

    norm = [None if is_missing_value(v) else v for v in np.asarray(values, dtype=object).tolist()]  # Python values
    distinct = sorted({key(v): v for v in norm}.items())
    order = [v for _, v in distinct]
    index = {k: i for i, (k, _) in enumerate(distinct)}
    pos = np.array([index[key(v)] for v in norm], dtype=float)

    def label(v):
        if v is None:
            return "(not set)"
        if isinstance(v, (float, np.floating)):
            return f"{float(v):g}"
        return str(v)

    return order, [label(v) for v in order], pos


def last_rung(results: Columns) -> dict[str, np.ndarray]:
    """The rows of the search's last rung (all of them for a search of one rung): the configurations scored with
    the full resource, whose losses compare."""
    if "rung" not in results or not n_rows(results):
        return dict(results)
    return take(results, results["rung"] == np.max(results["rung"]))


def ok_configs(results: Columns) -> dict[str, np.ndarray]:
    """The last rung's configurations that did not fail, best first (lowest mean CV loss; ties: lowest config id)."""
    results = last_rung(results)
    ok = take(results, succeeded(results))
    return take(ok, config_order(ok["config_id"], ok["mean"]))


def failed_note(results: Columns, ok: Columns) -> str:
    failed = n_rows(last_rung(results)) - n_rows(ok)
    return f"{failed} failed configuration{'s' if failed != 1 else ''} not shown (see the HPO logs)" if failed else ""


def titles(ax, title: str, subtitle: str = "") -> None:
    """A bold title and, below it, a small grey line of context."""
    ax.set_title(title, pad=18 if subtitle else 6)
    if subtitle:
        ax.annotate(subtitle, xy=(0.0, 1.0), xycoords="axes fraction", xytext=(0, 4), textcoords="offset points",
                    fontsize=9, color="#555555", va="bottom")


def nan_as_zero(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.where(np.isnan(values), 0.0, values)


def by_importance(importance: Columns) -> dict[str, np.ndarray]:
    """The rows of a LOFO importance table, most important first (ties: by feature name)."""
    return take(importance, importance_order(importance["feature"], importance["importance_mean"]))



def loss_label(metric: str, target: Target, prefix: str = "CV") -> str:
    return f"{prefix} {metric_name(metric)} [{target.loss_unit(metric)}]"
