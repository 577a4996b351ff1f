"""A round's held-out errors against the values of its most important features."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch

from ..columns import Columns, n_rows, read_columns, take
from ..features import axis_label, decode
from ..vocab import HELD_OUT
from .common import by_importance, error_limit, in_sets, marker_style, round_title, shown_errors, target_of, titles
from .errors import PREDICTION_COLUMNS
from .style import INK, SET_COLORS, SET_NAMES, Target, figure, fmt, message_figure, metric_name, styled

IMPORTANCE_COLUMNS = ["feature", "importance_mean", "importance_std"]


@styled
def residuals_vs_feature(pred: Columns, values: np.ndarray, feature: str, target: Target, *,
                         rank: int | None = None, importance: tuple[float, float] | None = None, metric: str,
                         x_label: str | None = None, round_: int | None = None, max_categories: int = 25,
                         importance_title: str = "importance"):
    """Held-out errors against one feature's values (``values`` aligned with ``pred``): box plots per value
    for a feature with few distinct values, else points with a running median and interquartile band."""
    fig, ax = figure()
    held_mask = in_sets(pred, HELD_OUT)
    x_all = np.asarray(values, dtype=float)[held_mask]
    held = take(pred, held_mask)
    err = shown_errors(held, target)
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
            ax.scatter(x[idx], e[idx], color=SET_COLORS[s], label=SET_NAMES[s], **marker_style(idx.size))
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
        limit = error_limit(e, [], target)
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
        notes.insert(0, f"{importance_title} {fmt(importance[0])} ± {fmt(importance[1])} (Δ CV {metric_name(metric)})")
    if missing:
        notes.append(f"{missing:,} rows with a missing value not shown")
    titles(ax, round_title(head, round_), "; ".join(notes))
    return fig


def draw_residuals_vs_top_feature(inputs, options, k: int):
    """Residuals against the round's ``k``-th most important feature (decoded from its model columns)."""
    r, target = options["round"], target_of(options)
    imp = read_columns(inputs["importance"], IMPORTANCE_COLUMNS)
    if k > n_rows(imp):
        return message_figure(round_title(f"Residuals vs top feature {k}", r), f"this round has only {n_rows(imp)} features")
    imp = by_importance(imp)
    feature = imp["feature"][k - 1]
    fmap = read_columns(inputs["feature_map"], ["feature", "kind", "column"])
    mine = fmap["feature"] == feature
    kind = fmap["kind"][mine][0]
    columns = fmap["column"][mine].tolist()
    pred = read_columns(inputs["predictions"], ["row", *PREDICTION_COLUMNS])
    table = read_columns(inputs["table"], columns)
    period = options["cyclic"].get(feature)
    values = decode(table, kind, feature, period=period, columns=columns)[pred["row"]]
    importance = (float(imp["importance_mean"][k - 1]), float(imp["importance_std"][k - 1]))
    return residuals_vs_feature(pred, values, feature, target, rank=k, importance=importance, metric=options["metric"],
                                x_label=axis_label(feature, kind, period, columns), round_=r,
                                importance_title=options["importance_title"])
