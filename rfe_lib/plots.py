"""Every figure of a run: pure functions from tables to a matplotlib ``Figure``.

Per round: predicted vs actual, residuals vs predicted, the residual histogram with tolerance bands,
the cumulative distribution of |error|, residuals against the round's top features, LOFO importance,
and the hyperparameter search (CV loss per parameter, a heat map of the two most influential
parameters, the configurations ranked). Across rounds: loss and metrics against the number of
features, and the elimination order.

A round's figures take their tables as mappings of column name -> numpy array (:mod:`rfe_lib.columns`) and
need numpy, pyarrow and matplotlib only: a round's plot job (a dozen per round) never imports pandas,
scikit-learn or the modelling modules (a test checks it). The two figures across rounds take pandas
DataFrames (:mod:`rfe_lib.report` builds the elimination order); pandas is imported for them only.
:func:`round_figure` and :func:`summary_figure` read a job's Parquet inputs and pick the figure by name
(see :mod:`rfe_lib.plots_catalog`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from . import plots_catalog as catalog
from .columns import Columns, is_missing, is_missing_value, n_rows, read_columns, take
from .style import (ACCENT, BAD, BEST, INK, MUTED, SET_COLORS, SET_NAMES, TOLERANCE_ALPHA, TOLERANCE_COLOR, Target,
                    figure, fmt, message_figure, metric_name, percent, sample, styled)

if TYPE_CHECKING:
    import pandas as pd

HELD_OUT = ("val", "test")
MAX_ROWS = 60  # features drawn in one per-feature chart (LOFO, elimination order); the tables hold them all


# ----------------------------------------------------------------------------------------------- helpers

def _round_title(what: str, r: int | None) -> str:
    return what if r is None else f"{what} — round {int(r)}"


def _marker_style(n: int) -> dict:
    """Smaller, lighter markers for more points, so dense regions stay readable."""
    size = float(np.clip(40.0 / math.sqrt(max(n, 1) / 300.0), 3.0, 36.0))
    alpha = float(np.clip(0.9 / math.sqrt(max(n, 1) / 200.0), 0.15, 0.8))
    return {"s": size, "alpha": alpha, "linewidths": 0}


def _in_sets(pred: Columns, sets) -> np.ndarray:
    """Which rows of the predictions belong to one of ``sets`` (names of the ``set`` column)."""
    return np.isin(pred["set"], list(sets))


def _held_out(pred: Columns) -> dict[str, np.ndarray]:
    return take(pred, _in_sets(pred, HELD_OUT))


def _shown_errors(part: Columns, target: Target) -> np.ndarray:
    return target.to_shown(part["error"])


def _shown_pred(part: Columns, target: Target) -> np.ndarray:
    """Predictions as drawn: for an angle target, on the turn nearest the actual value (actual + wrapped error)."""
    if target.angle:
        return target.to_shown(part["y_true"]) + _shown_errors(part, target)
    return np.asarray(part["y_pred"], dtype=float)


def _error_limit(errors: np.ndarray, tolerances, target: Target) -> float:
    """Half-width of an error axis: the 99.5th percentile of |error|, wide enough for every tolerance (at most
    half a turn for an angle target, whose errors are wrapped)."""
    finite = np.abs(errors[np.isfinite(errors)])
    p = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    tol = max([target.scalar(t) for t in tolerances], default=0.0)
    limit = max(p, 1.15 * tol, 1e-12)
    return min(limit, 180.0) if target.angle else limit


def _symlog_if_skewed(ax, values, axis: str = "x") -> bool:
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


def _value_labels(ax, positions, labels, color="#333333") -> None:
    """Text labels at the right edge of a horizontal chart (a second y axis, so the layout makes room)."""
    twin = ax.twinx()
    twin.set_ylim(ax.get_ylim())
    twin.set_yticks(list(positions), labels=list(labels))
    twin.tick_params(axis="y", length=0, labelsize=9, labelcolor=color)
    twin.grid(False)
    for side in ("top", "right", "bottom", "left"):
        twin.spines[side].set_visible(False)


def _category_positions(values: np.ndarray) -> tuple[list, list[str], np.ndarray]:
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


def _ok_configs(results: Columns) -> dict[str, np.ndarray]:
    """The configurations that did not fail, best first (lowest mean CV loss; ties: lowest config id)."""
    ok = take(results, is_missing(results["error"]) & ~is_missing(results["mean"])) if "error" in results else results
    return take(ok, np.lexsort((ok["config_id"], ok["mean"])))  # stable: the last key sorts first


def _failed_note(results: Columns, ok: Columns) -> str:
    failed = n_rows(results) - n_rows(ok)
    return f"{failed} failed configuration{'s' if failed != 1 else ''} not shown (see the HPO logs)" if failed else ""


def _titles(ax, title: str, subtitle: str = "") -> None:
    """A bold title and, below it, a small grey line of context."""
    ax.set_title(title, pad=18 if subtitle else 6)
    if subtitle:
        ax.annotate(subtitle, xy=(0.0, 1.0), xycoords="axes fraction", xytext=(0, 4), textcoords="offset points",
                    fontsize=9, color="#555555", va="bottom")


def _nan_as_zero(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.where(np.isnan(values), 0.0, values)


def _fold_columns(table: Columns) -> list[str]:
    return sorted((c for c in table if c.startswith("fold_")), key=lambda c: int(c.split("_")[1]))


def _by_importance(importance: Columns) -> dict[str, np.ndarray]:
    """The rows of a LOFO importance table, most important first (ties: by feature name)."""
    order = np.lexsort((importance["feature"], -np.asarray(importance["importance_mean"], dtype=float)))
    return take(importance, order)


# --------------------------------------------------------------------------------------- per-round: errors

def _metrics_of(metrics: Columns, s: str) -> dict | None:
    """The metrics row of the set ``s`` as a dict, or None if there is none."""
    rows = np.flatnonzero(metrics["set"] == s)
    return {name: values[rows[0]] for name, values in metrics.items()} if rows.size else None


@styled
def predicted_vs_actual(pred: Columns, metrics: Columns, target: Target, round_: int | None = None):
    """Validation and test predictions against the truth, with the identity line; the metrics in the legend.

    ``pred`` and ``metrics`` map column names to arrays (a round's ``predictions.parquet`` and ``metrics.parquet``).
    """
    fig, axes = figure(1, 2, width=10.5, height=5.2, sharex=True, sharey=True)
    held = _held_out(pred)
    truth = target.to_shown(held["y_true"])
    shown = _shown_pred(held, target)
    both = np.concatenate([truth, shown])
    both = both[np.isfinite(both)]
    lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    pad = 0.03 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    for ax, s in zip(axes, HELD_OUT):
        part = take(held, held["set"] == s)
        drawn = take(part, sample(n_rows(part)))
        n_part, n_drawn = n_rows(part), n_rows(drawn)
        handles = [ax.scatter(target.to_shown(drawn["y_true"]), _shown_pred(drawn, target), color=SET_COLORS[s],
                              label=f"{SET_NAMES[s]} rows" + (f" ({n_drawn:,} of {n_part:,} shown)"
                                                              if n_drawn < n_part else ""),
                              **_marker_style(n_drawn))]
        handles += ax.plot([lo, hi], [lo, hi], color=INK, linestyle="--", linewidth=1.1, label="identity (perfect)")
        m = _metrics_of(metrics, s)
        if m is not None:
            text = (f"RMSE {fmt(target.scalar(m['rmse']))}   MAE {fmt(target.scalar(m['mae']))}\n"
                    f"R² {m['r2']:.3f}   bias {fmt(target.scalar(m['bias']))}   n = {int(m['n']):,}")
            handles.append(Line2D([], [], linestyle="none", label=text))
        ax.legend(handles=handles, loc="upper left", handlelength=1.6)
        ax.set_title(SET_NAMES[s].capitalize())
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(target.label(f"actual {target.name}"))
    axes[0].set_ylabel(target.label(f"predicted {target.name}"))
    fig.suptitle(_round_title("Predicted vs actual", round_))
    return fig


@styled
def residuals_vs_predicted(pred: Columns, tolerances, target: Target, round_: int | None = None):
    """Held-out errors against the prediction, with a running median (bias) and the tolerance lines."""
    fig, ax = figure()
    held = _held_out(pred)
    for s in HELD_OUT:
        part = take(held, held["set"] == s)
        part = take(part, sample(n_rows(part)))
        ax.scatter(_shown_pred(part, target), _shown_errors(part, target), color=SET_COLORS[s],
                   label=SET_NAMES[s], **_marker_style(n_rows(part)))
    x, err = _shown_pred(held, target), _shown_errors(held, target)
    ok = np.isfinite(x) & np.isfinite(err)
    x, err = x[ok], err[ok]
    if x.size >= 20:
        edges = np.unique(np.quantile(x, np.linspace(0, 1, 21)))
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
        centers, medians = [], []
        for b in range(len(edges) - 1):
            sel = idx == b
            if sel.sum() >= 5:
                centers.append(float(np.median(x[sel])))
                medians.append(float(np.median(err[sel])))
        ax.plot(centers, medians, color=INK, linewidth=2, label="running median (val + test)")
    ax.axhline(0, color=INK, linewidth=1)
    for i, t in enumerate(sorted(tolerances)):
        t = target.scalar(t)
        alpha = 0.9 - 0.2 * min(i, 3)
        ax.axhline(t, color=TOLERANCE_COLOR, linestyle="--", linewidth=1, alpha=alpha)
        ax.axhline(-t, color=TOLERANCE_COLOR, linestyle="--", linewidth=1, alpha=alpha)
        ax.annotate(f"±{fmt(t)}", xy=(1.0, t), xycoords=("axes fraction", "data"), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8.5, color=TOLERANCE_COLOR)
    limit = _error_limit(err, tolerances, target)
    ax.set_ylim(-limit * 1.05, limit * 1.05)
    ax.set_xlabel(target.label(f"predicted {target.name}"))
    ax.set_ylabel(target.error_label())
    ax.legend(loc="upper left", markerscale=1.5)
    ax.set_title(_round_title("Residuals vs predicted", round_))
    return fig


@styled
def residual_histogram(pred: Columns, tolerances, target: Target, round_: int | None = None):
    """Distribution of held-out errors (share of each set's rows) over the shaded tolerance bands."""
    fig, ax = figure()
    errs = {s: _shown_errors(take(pred, pred["set"] == s), target) for s in HELD_OUT}
    allerr = np.concatenate(list(errs.values()))
    limit = _error_limit(allerr, tolerances, target)
    for i, t in enumerate(sorted(tolerances, reverse=True)):
        t = target.scalar(t)
        depth = len(tolerances) - 1 - i
        ax.axvspan(-t, t, color=TOLERANCE_COLOR, alpha=TOLERANCE_ALPHA[min(depth, len(TOLERANCE_ALPHA) - 1)],
                   linewidth=0)
        ax.annotate(f"±{fmt(t)}", xy=(t, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8.5, color=TOLERANCE_COLOR)
    bins = np.linspace(-limit, limit, 61)
    for s, e in errs.items():
        e = e[np.isfinite(e)]
        if not e.size:
            continue
        outside = int(np.sum(np.abs(e) > limit))
        label = f"{SET_NAMES[s]} (n = {e.size:,}" + (f"; {outside} beyond the axis)" if outside else ")")
        ax.hist(e, bins=bins, weights=np.full(e.size, 100.0 / e.size), histtype="step",
                linewidth=1.8, color=SET_COLORS[s], label=label)
    ax.axvline(0, color=INK, linewidth=1)
    ax.set_xlim(-limit, limit)
    ax.set_xlabel(target.error_label())
    ax.set_ylabel("share of the set's rows [%]")
    handles, labels = ax.get_legend_handles_labels()
    handles = [Line2D([], [], color=h.get_edgecolor(), linewidth=1.8) for h in handles]
    handles.append(Patch(color=TOLERANCE_COLOR, alpha=0.25, label="tolerance bands"))
    ax.legend(handles=handles, labels=[*labels, "tolerance bands (±tol)"], loc="upper right")
    ax.set_title(_round_title("Residual histogram", round_), pad=16)
    return fig


@styled
def abs_error_cdf(pred: Columns, tolerances, target: Target, round_: int | None = None):
    """Share of rows with |error| at most x, per set; the tolerance lines with the share within each."""
    fig, ax = figure()
    tols = sorted(target.scalar(t) for t in tolerances)
    all_abs = np.abs(_shown_errors(pred, target))
    all_abs = all_abs[np.isfinite(all_abs)]
    right = max(float(np.percentile(all_abs, 99)) if all_abs.size else 1.0, 1.25 * max(tols, default=0.0))
    if target.angle:
        right = min(right, 180.0)
    for t in tols:
        ax.axvline(t, color=TOLERANCE_COLOR, linestyle="--", linewidth=1)
        ax.annotate(f"{fmt(t)}", xy=(t, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8.5, color=TOLERANCE_COLOR)
    for s in ("train", "val", "test"):
        e = np.sort(np.abs(_shown_errors(take(pred, pred["set"] == s), target)))
        e = e[np.isfinite(e)]
        if not e.size:
            continue
        share = np.arange(1, e.size + 1) / e.size * 100.0
        within = [float(np.mean(e <= t)) for t in tols]
        label = f"{SET_NAMES[s]}: " + "   ".join(f"≤{fmt(t)}: {percent(w)}" for t, w in zip(tols, within))
        dashed = s == "train"
        ax.step(e, share, where="post", color=SET_COLORS[s], linewidth=1.3 if dashed else 1.9,
                linestyle=":" if dashed else "-", label=label)
        if not dashed:
            ax.scatter(tols, [100 * w for w in within], color=SET_COLORS[s], s=28, zorder=3,
                       edgecolors="white", linewidths=0.8)
    ax.set_xlim(0, right)
    ax.set_ylim(0, 101)
    ax.set_xlabel(target.error_label("|error|"))
    ax.set_ylabel("rows with |error| ≤ x [%]")
    ax.legend(loc="lower right", title="share of rows within each tolerance", title_fontsize=9.5)
    ax.set_title(_round_title("Cumulative distribution of |error|", round_), pad=16)
    return fig


def feature_values(table: Columns, kind: str, feature: str, period: float | None = None) -> np.ndarray:
    """A feature's values for plotting: the column itself, or, for a sin/cos-encoded feature, its value
    recovered from the two columns (modulo its period; angles in degrees). ``table`` maps column names to
    arrays."""
    if kind in ("cyclic", "angle"):
        s = np.asarray(table[f"{feature}_sin"], dtype=float)
        c = np.asarray(table[f"{feature}_cos"], dtype=float)
        turn = np.mod(np.arctan2(s, c), 2 * math.pi) / (2 * math.pi)  # fraction of a turn, in [0, 1)
        full = float(period) if kind == "cyclic" else 360.0
        values = np.round(turn * full, 9)
        return np.where(values >= full, 0.0, values)
    return np.asarray(table[feature], dtype=float)


def feature_axis_label(feature: str, kind: str, period: float | None = None) -> str:
    if kind == "cyclic":
        return f"{feature} (cyclic, period {period:g})"
    if kind == "angle":
        return f"{feature} [°]"
    if kind == "derived":
        return f"{feature} (derived)"
    return feature


@styled
def residuals_vs_feature(pred: Columns, values: np.ndarray, feature: str, target: Target, *,
                         rank: int | None = None, importance: tuple[float, float] | None = None, metric: str = "rmse",
                         x_label: str | None = None, round_: int | None = None, max_categories: int = 25):
    """Held-out errors against one feature's values (``values`` aligned with ``pred``): box plots per value
    for a feature with few distinct values, else points with a running median and interquartile band."""
    fig, ax = figure()
    held_mask = _in_sets(pred, HELD_OUT)
    x_all = np.asarray(values, dtype=float)[held_mask]
    held = take(pred, held_mask)
    err = _shown_errors(held, target)
    ok = np.isfinite(x_all) & np.isfinite(err)
    missing = int((~np.isfinite(x_all)).sum())
    x, e, sets = x_all[ok], err[ok], held["set"][ok]
    distinct = np.unique(x)
    if distinct.size <= max_categories:
        groups = [e[x == v] for v in distinct]
        parts = ax.boxplot(groups, positions=np.arange(distinct.size), widths=0.6, patch_artist=True,
                           showfliers=True, flierprops={"marker": ".", "markersize": 3, "alpha": 0.3,
                                                        "markeredgecolor": "none", "markerfacecolor": "#666666"},
                           medianprops={"color": INK, "linewidth": 1.6})
        for box in parts["boxes"]:
            box.set_facecolor("#CFE3F2")
            box.set_edgecolor("#4A7FA8")
        counts = distinct.size <= 12  # row counts under the ticks, while there is room
        ax.set_xticks(np.arange(distinct.size),
                      labels=[f"{v:g}\nn={g.size:,}" if counts else f"{v:g}" for v, g in zip(distinct, groups)])
        ax.grid(axis="x", visible=False)
        legend = [Patch(facecolor="#CFE3F2", edgecolor="#4A7FA8", label="val + test rows: quartiles, median")]
    else:
        for s in HELD_OUT:
            sel = sets == s
            idx = np.flatnonzero(sel)
            if idx.size > 20_000:
                idx = np.sort(np.random.default_rng(0).choice(idx, 20_000, replace=False))
            ax.scatter(x[idx], e[idx], color=SET_COLORS[s], label=SET_NAMES[s], **_marker_style(idx.size))
        edges = np.unique(np.quantile(x, np.linspace(0, 1, 21)))
        if edges.size >= 3:
            idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
            stats = [(float(np.median(x[idx == b])), *np.percentile(e[idx == b], [25, 50, 75]))
                     for b in range(len(edges) - 1) if (idx == b).sum() >= 5]
            if stats:
                cx, q1, med, q3 = map(np.array, zip(*stats))
                ax.fill_between(cx, q1, q3, color=INK, alpha=0.12, linewidth=0, label="interquartile range")
                ax.plot(cx, med, color=INK, linewidth=2, label="running median")
        legend = None
        limit = _error_limit(e, [], target)
        ax.set_ylim(-limit * 1.05, limit * 1.05)
    ax.axhline(0, color=INK, linewidth=1, zorder=1)
    ax.set_xlabel(x_label or feature)
    ax.set_ylabel(target.error_label())
    if legend:
        ax.legend(handles=legend, loc="upper right")
    else:
        ax.legend(loc="upper right", markerscale=1.5)
    head = f"Residuals vs {feature}" if rank is None else f"Residuals vs {feature} (top feature {rank})"
    notes = ["validation and test rows"]
    if importance is not None:
        notes.insert(0, f"LOFO importance {fmt(importance[0])} ± {fmt(importance[1])} (Δ CV {metric_name(metric)})")
    if missing:
        notes.append(f"{missing:,} rows with a missing value not shown")
    _titles(ax, _round_title(head, round_), "; ".join(notes))
    return fig


# ------------------------------------------------------------------------------------ per-round: LOFO, HPO

@styled
def lofo_importance(importance: Columns, target: Target, metric: str = "rmse", n_eliminated: int = 0,
                    round_: int | None = None):
    """Each feature's LOFO importance: the mean over folds (± std) and every fold's value, most important on top;
    the features that leave after this round in red. ``importance`` maps the columns of a round's
    ``importance.parquet`` to arrays."""
    imp = _by_importance(importance)
    total = n_rows(imp)
    gone = set(imp["feature"][total - n_eliminated:].tolist()) if n_eliminated else set()
    if total > MAX_ROWS:  # the most important, and the least (those about to leave)
        head, tail = MAX_ROWS - MAX_ROWS // 3, MAX_ROWS // 3
        imp = take(imp, np.concatenate([np.arange(head), np.arange(total - tail, total)]))
    n = n_rows(imp)
    fig, ax = figure(height=max(3.2, 1.6 + 0.36 * n))
    pos = np.arange(n)[::-1]
    folds = _fold_columns(imp)
    colors = [BAD if f in gone else ACCENT for f in imp["feature"]]
    rng = np.random.default_rng(0)
    for k, col in enumerate(folds):
        ax.scatter(imp[col], pos + rng.uniform(-0.18, 0.18, n), s=14, color="#777777", alpha=0.55,
                   label="one CV fold" if k == 0 else None, zorder=2)
    ax.errorbar(imp["importance_mean"], pos, xerr=_nan_as_zero(imp["importance_std"]), fmt="none",
                ecolor="#333333", elinewidth=1.2, capsize=3, zorder=3)
    ax.scatter(imp["importance_mean"], pos, marker="D", s=46, color=colors, edgecolors="white", linewidths=0.8,
               zorder=4)
    ax.axvline(0, color=INK, linewidth=1)
    ax.set_yticks(pos, labels=imp["feature"])
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", visible=False)
    values = np.concatenate([np.asarray(imp[c], dtype=float) for c in ("importance_mean", *folds)])
    log = _symlog_if_skewed(ax, values, "x")
    unit = target.loss_unit(metric)
    xlabel = f"LOFO importance: CV {metric_name(metric)} without the feature − with all [{unit}]"
    ax.set_xlabel(xlabel + ("\n(symmetric log scale)" if log else ""))
    _value_labels(ax, pos, [f"{fmt(m)} ± {fmt(s)}" for m, s in zip(imp["importance_mean"], imp["importance_std"])])
    handles = [Line2D([], [], marker="D", linestyle="none", color=ACCENT, markeredgecolor="white",
                      label="mean ± std, kept"),
               Line2D([], [], marker="o", linestyle="none", color="#777777", alpha=0.6, markersize=4,
                      label="one CV fold")]
    if gone:
        handles.insert(1, Line2D([], [], marker="D", linestyle="none", color=BAD, markeredgecolor="white",
                                 label="mean ± std, eliminated after this round"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    hidden = total - n
    if hidden:
        ax.axhline(pos[MAX_ROWS - MAX_ROWS // 3 - 1] - 0.5, color="#999999", linestyle=":", linewidth=1.2)
    _titles(ax, _round_title("LOFO importance", round_),
            f"{hidden} features of middling importance not shown (all are in the LOFO sheet of report.xlsx)"
            if hidden else "")
    return fig


def _loss_label(metric: str, target: Target, prefix: str = "CV") -> str:
    return f"{prefix} {metric_name(metric)} [{target.loss_unit(metric)}]"


@styled
def hpo_parameter(results: Columns, param: str, target: Target, metric: str = "rmse",
                  round_: int | None = None):
    """CV loss of every configuration against one parameter's values; the best configuration starred.
    ``results`` maps the columns of a round's ``hpo/results.parquet`` to arrays."""
    fig, ax = figure()
    ok = _ok_configs(results)
    col = f"param_{param}"
    n = n_rows(ok)
    if n == 0 or col not in ok:
        return message_figure(_round_title(f"HPO: CV loss vs {param}", round_), "no successful configuration")
    order, labels, pos = _category_positions(ok[col])
    crowded = n > 8 * len(order)  # many configurations share a value: spread them to show the density
    jitter = np.random.default_rng(0).uniform(-0.16, 0.16, n) if crowded else np.zeros(n)
    y = np.asarray(ok["mean"], dtype=float)
    ax.scatter(pos + jitter, y, color="#0072B2", label="one configuration (mean over folds)",
               **_marker_style(n))
    values = np.unique(pos)
    ax.plot(values, [y[pos == v].min() for v in values], color=INK, linestyle="--", linewidth=1.1,
            label="best with this value")
    b = 0  # ok is sorted: the first row is the best
    ax.scatter([pos[b] + jitter[b]], [y[b]], marker="*", s=260, color=BEST, edgecolors=INK, linewidths=0.8, zorder=5,
               label=f"best: config {int(ok['config_id'][b])} ({fmt(y[b], 4)})")
    ax.set_xticks(np.arange(len(order)), labels=labels, rotation=30 if max(map(len, labels)) > 8 else 0)
    ax.set_xlim(-0.6, len(order) - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel(param)
    ax.set_ylabel(_loss_label(metric, target))
    ax.legend(loc="best")
    _titles(ax, _round_title(f"HPO: CV loss vs {param}", round_), _failed_note(results, ok))
    return fig


def parameter_influence(results: Columns) -> dict[str, float]:
    """Influence of each varying parameter: the range of the mean CV loss over its values (its main effect),
    largest first (ties: in the order of the columns)."""
    ok = _ok_configs(results)
    loss = np.asarray(ok["mean"], dtype=float)
    out = {}
    for col in (c for c in ok if c.startswith("param_")):
        keys = np.array(["(not set)" if is_missing_value(v) else repr(v)
                         for v in np.asarray(ok[col], dtype=object).tolist()], dtype=object)
        distinct = set(keys.tolist())
        if len(distinct) < 2:
            continue
        means = [float(np.mean(loss[keys == k])) for k in distinct]
        out[col[len("param_"):]] = max(means) - min(means)
    return dict(sorted(out.items(), key=lambda item: item[1], reverse=True))  # stable, like a mergesort


@styled
def hpo_heatmap(results: Columns, target: Target, metric: str = "rmse", round_: int | None = None,
                max_annotated: int = 150):
    """Best CV loss for each pair of values of the two most influential parameters (best over the others)."""
    influence = parameter_influence(results)
    title = _round_title("HPO: the two most influential parameters", round_)
    if len(influence) < 2:
        return message_figure(title, "fewer than two parameters vary among the successful configurations")
    p1, p2 = list(influence)[:2]
    ok = _ok_configs(results)
    rows, row_labels, rpos = _category_positions(ok[f"param_{p1}"])
    cols, col_labels, cpos = _category_positions(ok[f"param_{p2}"])
    grid = np.full((len(rows), len(cols)), np.nan)
    for r, c, v in zip(rpos.astype(int), cpos.astype(int), np.asarray(ok["mean"], dtype=float)):
        if not v >= grid[r, c]:  # keeps the minimum; NaN compares False
            grid[r, c] = v
    width = min(12.0, max(6.5, 2.8 + 0.75 * len(cols)))
    height = min(9.0, max(4.2, 1.9 + 0.5 * len(rows)))
    fig, ax = figure(width=width, height=height)
    ax.set_facecolor("#EEEEEE")
    im = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", origin="lower")
    ax.grid(False)
    ax.set_xticks(np.arange(len(cols)), labels=col_labels, rotation=30 if max(map(len, col_labels)) > 6 else 0)
    ax.set_yticks(np.arange(len(rows)), labels=row_labels)
    ax.set_xlabel(f"{p2}  (influence {fmt(influence[p2])})")
    ax.set_ylabel(f"{p1}  (influence {fmt(influence[p1])})")
    if grid.size <= max_annotated:
        finite = grid[np.isfinite(grid)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (i, j), v in np.ndenumerate(grid):
            text = "n/a" if not np.isfinite(v) else fmt(v, 4)
            color = "#555555" if not np.isfinite(v) else ("white" if v > mid else "#111111")
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color=color)
    bi, bj = np.unravel_index(np.nanargmin(grid), grid.shape)
    ax.add_patch(Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, edgecolor=BEST, linewidth=3))
    bar = fig.colorbar(im, ax=ax, shrink=0.9)
    bar.set_label("best " + _loss_label(metric, target))
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)
    return fig


@styled
def hpo_ranked(results: Columns, target: Target, metric: str = "rmse", round_: int | None = None,
               max_configs: int = 40):
    """The configurations ranked by mean CV loss (best first), with ± std and every fold's loss."""
    ok = _ok_configs(results)
    title = _round_title("HPO: configurations ranked by CV loss", round_)
    if n_rows(ok) == 0:
        return message_figure(title, "no successful configuration")
    shown = take(ok, slice(0, max_configs))
    k = n_rows(shown)
    fig, ax = figure(width=max(7.0, min(12.0, 4.0 + 0.22 * k)))
    x = np.arange(1, k + 1)
    folds = _fold_columns(shown)
    rng = np.random.default_rng(0)
    for j, col in enumerate(folds):
        ax.scatter(x + rng.uniform(-0.15, 0.15, k), shown[col], s=12, color="#777777", alpha=0.5, zorder=2,
                   label="one CV fold" if j == 0 else None)
    ax.errorbar(x, shown["mean"], yerr=_nan_as_zero(shown["std"]), fmt="o", color="#0072B2", ecolor="#0072B2",
                elinewidth=1.3, capsize=3, markersize=6, zorder=3, label="mean ± std over folds")
    ax.scatter([1], [shown["mean"][0]], marker="*", s=280, color=BEST, edgecolors=INK, linewidths=0.8,
               zorder=5, label=f"best: config {int(shown['config_id'][0])} ({fmt(shown['mean'][0], 4)})")
    ax.set_xticks(x, labels=[str(int(c)) for c in shown["config_id"]], rotation=90 if k > 12 else 0,
                  fontsize=8.5 if k > 20 else 9.5)
    ax.set_xlim(0.3, k + 0.7)
    ax.grid(axis="x", visible=False)
    more = f"; the best {k} of {n_rows(ok):,} shown" if n_rows(ok) > k else ""
    ax.set_xlabel(f"configuration id, ranked by mean CV loss (best on the left{more})")
    ax.set_ylabel(_loss_label(metric, target))
    ax.legend(loc="upper left")
    _titles(ax, title, _failed_note(results, ok))
    return fig


# -------------------------------------------------------------------------------------------- across rounds

@styled
def loss_vs_features(rounds: pd.DataFrame, selected_round: int, target: Target, metric: str = "rmse"):
    """CV loss (mean ± std over folds) and validation/test metrics against the number of features."""
    fig, (ax, ax2) = figure(2, 1, width=8.5, height=7.2, sharex=True, height_ratios=[3, 2])
    rs = rounds.sort_values("n_features")
    n = rs["n_features"].to_numpy()
    cv, sd = rs["cv_mean"].to_numpy(dtype=float), rs["cv_std"].to_numpy(dtype=float)
    ax.fill_between(n, cv - sd, cv + sd, color="#555555", alpha=0.15, linewidth=0, label="CV ± std over folds")
    ax.plot(n, cv, color="#333333", marker="o", markersize=5, label=f"CV {metric_name(metric)} (mean over folds)")

    def held_out(s, m):
        if f"{s}_{m}" in rs:
            return rs[f"{s}_{m}"].to_numpy(dtype=float)
        if m == "mse" and f"{s}_rmse" in rs:
            return rs[f"{s}_rmse"].to_numpy(dtype=float) ** 2
        return None

    for s in HELD_OUT:
        v = held_out(s, metric)
        if v is not None:
            ax.plot(n, v, color=SET_COLORS[s], marker="s", markersize=4.5,
                    label=f"{SET_NAMES[s]} {metric_name(metric)}")
        if f"{s}_r2" in rs:
            ax2.plot(n, rs[f"{s}_r2"], color=SET_COLORS[s], marker="s", markersize=4.5, label=f"{SET_NAMES[s]} R²")
    sel = rounds.set_index("round").loc[selected_round]
    for a in (ax, ax2):
        a.axvline(sel["n_features"], color=ACCENT, linewidth=2, alpha=0.8, zorder=1)
    ax.scatter([sel["n_features"]], [sel["cv_mean"]], marker="*", s=300, color=ACCENT, edgecolors=INK,
               linewidths=0.8, zorder=5, label=f"selected: round {selected_round} ({int(sel['n_features'])} features)")
    ax.set_ylabel(_loss_label(metric, target, prefix="loss:"))
    ax.legend(loc="upper right")
    ax2.set_ylabel("R² (held-out)")
    ax2.set_xlabel("number of features")
    ax2.legend(loc="lower right")
    if len(n) <= 30:
        ax2.set_xticks(n)
        top = ax.secondary_xaxis("top")
        top.set_xticks(n, labels=[str(int(r)) for r in rs["round"]])
        top.tick_params(labelsize=8.5, colors="#666666")
        top.set_xlabel("round", fontsize=9, color="#666666")
    ax2.xaxis.get_major_locator().set_params(integer=True) if len(n) > 30 else None
    fig.suptitle("Loss and held-out metrics against the number of features")
    return fig


@styled
def elimination_order(order: pd.DataFrame, selected_round: int, n_rounds: int, target: Target,
                      metric: str = "rmse"):
    """Which feature left in which round, and its LOFO importance when it left (a
    :func:`rfe_lib.report.elimination_table`); the features of the selected round in colour."""
    import pandas as pd

    total = len(order)
    order = order.tail(MAX_ROWS).reset_index(drop=True)  # the last to leave, and the features kept
    n = len(order)
    fig, ax = figure(width=8.5, height=max(3.2, 1.7 + 0.36 * n))
    pos = np.arange(n)[::-1]
    colors = [ACCENT if (pd.isna(r) or int(r) >= selected_round) else MUTED for r in order["round"]]
    ax.barh(pos, order["importance_mean"], color=colors, height=0.68, zorder=2)
    # alternate shading per round, so features that left together read as a group
    for k, (r, grp) in enumerate(order.groupby(order["round"].fillna(-1), sort=False)):
        if k % 2 == 0:
            idx = pos[grp.index.to_numpy()]
            ax.axhspan(idx.min() - 0.5, idx.max() + 0.5, color="#F3F3F3", zorder=0, linewidth=0)
    ax.axvline(0, color=INK, linewidth=1)
    ax.set_yticks(pos, labels=order["feature"])
    ax.set_ylim(-0.6, n - 0.4)
    ax.grid(axis="y", visible=False)
    log = _symlog_if_skewed(ax, order["importance_mean"].to_numpy(dtype=float), "x")
    unit = target.loss_unit(metric)
    ax.set_xlabel(f"LOFO importance when it left (Δ CV {metric_name(metric)} [{unit}])"
                  + ("\n(symmetric log scale)" if log else ""))
    labels = [f"after round {int(r)}" if not pd.isna(r) else f"kept to round {n_rounds - 1}" for r in order["round"]]
    _value_labels(ax, pos, [f"{lab}: {fmt(v)}" for lab, v in zip(labels, order["importance_mean"])])
    fig.legend(handles=[Patch(color=ACCENT, label=f"in the selected round ({selected_round})"),
                        Patch(color=MUTED, label="eliminated before the selected round")],
               loc="outside lower center", ncols=2, frameon=False)
    _titles(ax, "Elimination order (first to leave at the top)",
            f"the first {total - n} features to leave are not shown (all are in the Elimination sheet of report.xlsx)"
            if total > n else "")
    return fig


# ------------------------------------------------------------------------------------- loading: one job each

PREDICTION_COLUMNS = ["set", "y_true", "y_pred", "error"]
IMPORTANCE_COLUMNS = ["feature", "importance_mean", "importance_std"]


def _hpo_columns(name: str):
    """Which columns of ``hpo/results.parquet`` the HPO figure ``name`` reads (a choice by column name)."""
    fam, arg = catalog.family(name)
    if fam == "param":
        return lambda c: c in ("config_id", "mean", "error", f"param_{arg}")
    if name == "hpo_heatmap":
        return lambda c: c in ("config_id", "mean", "error") or c.startswith("param_")
    return lambda c: c in ("config_id", "mean", "std", "error") or c.startswith("fold_")


def target_of(options: dict) -> Target:
    return Target(options["target"], options.get("unit"), options.get("angle"))


def round_figure(name: str, inputs: dict, options: dict):
    """The round figure ``name``, read from the job's inputs (paths keyed as in :data:`plots_catalog.NEEDS`).
    Reads only the columns the figure needs, without pandas (see :mod:`rfe_lib.columns`)."""
    fam, arg = catalog.family(name)
    r = options.get("round")
    target = target_of(options)
    metric = options.get("metric", "rmse")
    if fam == "errors":
        pred = read_columns(inputs["predictions"], PREDICTION_COLUMNS)
        if name == "pred_vs_actual":
            return predicted_vs_actual(pred, read_columns(inputs["metrics"]), target, r)
        draw = {"residuals_vs_pred": residuals_vs_predicted, "residual_hist": residual_histogram,
                "abs_error_cdf": abs_error_cdf}[name]
        return draw(pred, options["tolerances"], target, r)
    if fam == "top":
        imp = read_columns(inputs["importance"], IMPORTANCE_COLUMNS)
        if arg > n_rows(imp):
            return message_figure(_round_title(f"Residuals vs top feature {arg}", r),
                                  f"this round has only {n_rows(imp)} features")
        imp = _by_importance(imp)
        feature = imp["feature"][arg - 1]
        fmap = read_columns(inputs["feature_map"], ["feature", "kind", "column"])
        mine = fmap["feature"] == feature
        kind = fmap["kind"][mine][0]
        columns = fmap["column"][mine].tolist()
        pred = read_columns(inputs["predictions"], ["row", *PREDICTION_COLUMNS])
        table = read_columns(inputs["table"], columns)
        period = options.get("cyclic", {}).get(feature)
        values = feature_values(table, kind, feature, period=period)[pred["row"]]
        importance = (float(imp["importance_mean"][arg - 1]), float(imp["importance_std"][arg - 1]))
        return residuals_vs_feature(pred, values, feature, target, rank=arg, importance=importance,
                                    metric=metric, x_label=feature_axis_label(feature, kind, period), round_=r)
    if fam == "lofo":
        importance = read_columns(inputs["importance"], lambda c: c in IMPORTANCE_COLUMNS or c.startswith("fold_"))
        return lofo_importance(importance, target, metric, options.get("n_eliminated", 0), r)
    results = read_columns(inputs["hpo"], _hpo_columns(name))
    if fam == "param":
        return hpo_parameter(results, arg, target, metric, r)
    if name == "hpo_heatmap":
        return hpo_heatmap(results, target, metric, r)
    return hpo_ranked(results, target, metric, r, options.get("max_configs", 40))


def summary_figure(name: str, inputs: dict, options: dict):
    """An across-rounds figure: ``loss_vs_features`` or ``elimination_order`` (read with pandas, two jobs a run)."""
    import pandas as pd

    from .report import elimination_table

    target = target_of(options)
    metric = options.get("metric", "rmse")
    rounds = pd.read_parquet(inputs["rounds"])
    selected_round = int(pd.read_parquet(inputs["selected"], columns=["round"])["round"].iloc[0])
    if name == "loss_vs_features":
        return loss_vs_features(rounds, selected_round, target, metric)
    if name == "elimination_order":
        eliminated = {r: pd.read_parquet(p) for r, p in enumerate(inputs["eliminated"])}
        order = elimination_table(eliminated, pd.read_parquet(inputs["last_importance"]), selected_round)
        return elimination_order(order, selected_round, len(rounds), target, metric)
    raise ValueError(f"unknown summary figure {name!r}")
