"""A round's feature importance: the mean over folds (± std) and every fold's value of each feature."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from ..columns import Columns, n_rows, read_columns, take
from ..vocab import fold_columns, is_fold_column
from .common import MAX_ROWS, by_importance, nan_as_zero, round_title, symlog_if_skewed, target_of, titles, value_labels
from .style import ACCENT, BAD, INK, Target, figure, fmt, metric_name, styled


@styled
def importance_figure(importance: Columns, target: Target, metric: str, n_eliminated: int = 0,
                      round_: int | None = None, title: str = "LOFO importance",
                      axis: str = "CV {metric} without the feature − with all"):
    """Each feature's importance (``title``; ``axis`` says what it measures): the mean over folds (± std) and every fold's value, most important on top;
    the features that leave after this round in red. ``importance`` maps the columns of a round's
    ``importance.parquet`` to arrays."""
    imp = by_importance(importance)
    total = n_rows(imp)
    gone = set(imp["feature"][total - n_eliminated:].tolist()) if n_eliminated else set()
    if total > MAX_ROWS:  # the most important, and the least (those about to leave)
        head, tail = MAX_ROWS - MAX_ROWS // 3, MAX_ROWS // 3
        imp = take(imp, np.concatenate([np.arange(head), np.arange(total - tail, total)]))
    n = n_rows(imp)
    fig, ax = figure(height=max(3.2, 1.6 + 0.36 * n))
    pos = np.arange(n)[::-1]
    folds = fold_columns(imp)
    colors = [BAD if f in gone else ACCENT for f in imp["feature"]]
    rng = np.random.default_rng(0)
    for k, col in enumerate(folds):
        ax.scatter(imp[col], pos + rng.uniform(-0.18, 0.18, n), s=14, color="#777777", alpha=0.55,
                   label="one CV fold" if k == 0 else None, zorder=2)
    ax.errorbar(imp["importance_mean"], pos, xerr=nan_as_zero(imp["importance_std"]), fmt="none",
                ecolor="#333333", elinewidth=1.2, capsize=3, zorder=3)
    ax.scatter(imp["importance_mean"], pos, marker="D", s=46, color=colors, edgecolors="white", linewidths=0.8,
               zorder=4)
    ax.axvline(0, color=INK, linewidth=1)
    ax.set_yticks(pos, labels=imp["feature"])
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", visible=False)
    values = np.concatenate([np.asarray(imp[c], dtype=float) for c in ("importance_mean", *folds)])
    log = symlog_if_skewed(ax, values, "x")
    unit = target.loss_unit(metric)
    xlabel = f"{title}: {axis.format(metric=metric_name(metric))} [{unit}]"
    ax.set_xlabel(xlabel + ("\n(symmetric log scale)" if log else ""))
    value_labels(ax, pos, [f"{fmt(m)} ± {fmt(s)}" for m, s in zip(imp["importance_mean"], imp["importance_std"])])
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
    titles(ax, round_title(title, round_),
            f"{hidden} features of middling importance not shown (all are in the Importance sheet of report.xlsx)"
            if hidden else "")
    return fig


def draw_importance(inputs, options):
    columns = read_columns(inputs["importance"], lambda c: c in ("feature", "importance_mean", "importance_std")
                           or is_fold_column(c))
    return importance_figure(columns, target_of(options), options["metric"], options["n_eliminated"],
                             options["round"], options["importance_title"], options["importance_axis"])
