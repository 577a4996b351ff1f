"""A round's errors on held-out rows: predicted vs actual, residuals vs predicted, the residual histogram with the
tolerance bands, and the cumulative distribution of |error|."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..columns import Columns, n_rows, read_columns, take
from ..vocab import HELD_OUT
from .common import error_limit, held_out, in_sets, marker_style, round_title, shown_errors, shown_pred, target_of
from .style import (INK, SET_COLORS, SET_NAMES, TOLERANCE_ALPHA, TOLERANCE_COLOR, Target, figure, fmt, percent,
                    sample, styled)

PREDICTION_COLUMNS = ["set", "y_true", "y_pred", "error"]


def _metrics_of(metrics: Columns, s: str) -> dict | None:
    """The metrics row of the set ``s`` as a dict, or None if there is none."""
    rows = np.flatnonzero(metrics["set"] == s)
    return {name: values[rows[0]] for name, values in metrics.items()} if rows.size else None


@styled
def predicted_vs_actual(pred: Columns, metrics: Columns, target: Target, round_: int | None = None,
                        sets=HELD_OUT, title: str | None = None):
    """Validation and test predictions against the truth (a panel per set of ``sets``), with the identity line; the
    metrics in the legend.

    ``pred`` and ``metrics`` map column names to arrays (a round's ``predictions.parquet`` and ``metrics.parquet``).
    """
    width, height = (10.5, 5.2) if len(sets) == 2 else (6.2, 5.6)  # one panel: the final model's test rows
    fig, axes = figure(1, len(sets), width=width, height=height, sharex=True, sharey=True)
    axes = np.atleast_1d(axes)
    held = take(pred, in_sets(pred, sets))
    truth = target.to_shown(held["y_true"])
    shown = shown_pred(held, target)
    both = np.concatenate([truth, shown])
    both = both[np.isfinite(both)]
    lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    pad = 0.03 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    for ax, s in zip(axes, sets):
        part = take(held, held["set"] == s)
        drawn = take(part, sample(n_rows(part)))
        n_part, n_drawn = n_rows(part), n_rows(drawn)
        handles = [ax.scatter(target.to_shown(drawn["y_true"]), shown_pred(drawn, target), color=SET_COLORS[s],
                              label=f"{SET_NAMES[s]} rows" + (f" ({n_drawn:,} of {n_part:,} shown)"
                                                              if n_drawn < n_part else ""),
                              **marker_style(n_drawn))]
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
    fig.suptitle(title or round_title("Predicted vs actual", round_))
    return fig


@styled
def residuals_vs_predicted(pred: Columns, tolerances, target: Target, round_: int | None = None):
    """Held-out errors against the prediction, with a running median (bias) and the tolerance lines."""
    fig, ax = figure()
    held = held_out(pred)
    for s in HELD_OUT:
        part = take(held, held["set"] == s)
        part = take(part, sample(n_rows(part)))
        ax.scatter(shown_pred(part, target), shown_errors(part, target), color=SET_COLORS[s],
                   label=SET_NAMES[s], **marker_style(n_rows(part)))
    x, err = shown_pred(held, target), shown_errors(held, target)
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
    limit = error_limit(err, tolerances, target)
    ax.set_ylim(-limit * 1.05, limit * 1.05)
    ax.set_xlabel(target.label(f"predicted {target.name}"))
    ax.set_ylabel(target.error_label())
    ax.legend(loc="upper left", markerscale=1.5)
    ax.set_title(round_title("Residuals vs predicted", round_))
    return fig


@styled
def residual_histogram(pred: Columns, tolerances, target: Target, round_: int | None = None):
    """Distribution of held-out errors (share of each set's rows) over the shaded tolerance bands."""
    fig, ax = figure()
    errs = {s: shown_errors(take(pred, pred["set"] == s), target) for s in HELD_OUT}
    allerr = np.concatenate(list(errs.values()))
    limit = error_limit(allerr, tolerances, target)
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
    ax.set_title(round_title("Residual histogram", round_), pad=16)
    return fig


@styled
def abs_error_cdf(pred: Columns, tolerances, target: Target, round_: int | None = None, title: str | None = None):
    """Share of rows with |error| at most x, per set; the tolerance lines with the share within each."""
    fig, ax = figure()
    tols = sorted(target.scalar(t) for t in tolerances)
    all_abs = np.abs(shown_errors(pred, target))
    all_abs = all_abs[np.isfinite(all_abs)]
    right = max(float(np.percentile(all_abs, 99)) if all_abs.size else 1.0, 1.25 * max(tols, default=0.0))
    if target.angle:
        right = min(right, 180.0)
    for t in tols:
        ax.axvline(t, color=TOLERANCE_COLOR, linestyle="--", linewidth=1)
        ax.annotate(f"{fmt(t)}", xy=(t, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8.5, color=TOLERANCE_COLOR)
    for s in ("train", "val", "test"):
        e = np.sort(np.abs(shown_errors(take(pred, pred["set"] == s), target)))
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
    ax.set_title(title or round_title("Cumulative distribution of |error|", round_), pad=16)
    return fig


# ------------------------------------------------------------------------- draw functions (see the registry)

def draw_predicted_vs_actual(inputs, options):
    pred = read_columns(inputs["predictions"], PREDICTION_COLUMNS)
    return predicted_vs_actual(pred, read_columns(inputs["metrics"]), target_of(options), options["round"])


def draw_residuals_vs_predicted(inputs, options):
    pred = read_columns(inputs["predictions"], PREDICTION_COLUMNS)
    return residuals_vs_predicted(pred, options["tolerances"], target_of(options), options["round"])


def draw_residual_histogram(inputs, options):
    pred = read_columns(inputs["predictions"], PREDICTION_COLUMNS)
    return residual_histogram(pred, options["tolerances"], target_of(options), options["round"])


def draw_abs_error_cdf(inputs, options):
    pred = read_columns(inputs["predictions"], PREDICTION_COLUMNS)
    return abs_error_cdf(pred, options["tolerances"], target_of(options), options["round"])
