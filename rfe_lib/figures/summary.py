"""Figures across rounds: the loss and held-out metrics against the number of features, and the elimination order.
They take pandas DataFrames (:mod:`rfe_lib.report.tables` builds the elimination order); two jobs a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.patches import Patch

from ..vocab import HELD_OUT
from .common import MAX_ROWS, loss_label, symlog_if_skewed, target_of, titles, value_labels
from .style import (ACCENT, BAD, INK, MUTED, SET_COLORS, SET_NAMES, Target, figure, fmt, message_figure, metric_name,
                    styled)

if TYPE_CHECKING:
    import pandas as pd


OPTIMISTIC, PESSIMISTIC = "#CC79A7", "#8C8C8C"  # validation worse than CV (CV optimistic) / better than CV


@styled
def loss_vs_features(rounds: pd.DataFrame, selected_round: int, target: Target, metric: str,
                     rule: str = "best"):
    """CV loss (mean ± std over folds) and validation/test metrics against the number of features, and each
    round's optimism (validation loss minus CV loss) in a panel of its own. The selected round is starred at the
    loss its rule chose it by (the validation loss for ``rule="validation"``, else the CV loss)."""
    fig, (ax, ax_opt, ax2) = figure(3, 1, width=8.5, height=8.6, sharex=True, height_ratios=[3, 1.3, 2])
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
    for a in (ax, ax_opt, ax2):
        a.axvline(sel["n_features"], color=ACCENT, linewidth=2, alpha=0.8, zorder=1)
    by = "val_loss" if rule == "validation" else "cv_mean"
    ax.scatter([sel["n_features"]], [sel[by]], marker="*", s=300, color=ACCENT, edgecolors=INK,
               linewidths=0.8, zorder=5, label=f"selected: round {selected_round} ({int(sel['n_features'])} features, "
                                               f"rule {rule})")
    ax.set_ylabel(loss_label(metric, target, prefix="loss:"))
    ax.legend(loc="best")

    # Optimism: how much better the CV loss (which chose the features) looked than the untouched validation rows.
    opt = rs["optimism"].to_numpy(dtype=float)
    width = 0.45 * (float(np.min(np.diff(n))) if len(n) > 1 else 1.0)
    ax_opt.bar(n, opt, width=width, color=[OPTIMISTIC if v > 0 else PESSIMISTIC for v in opt], zorder=2)
    ax_opt.axhline(0, color=INK, linewidth=1)
    ax_opt.set_ylabel(f"optimism [{target.loss_unit(metric)}]\nvalidation − CV")
    if len(n) <= 15:
        for x, v in zip(n, opt):
            if np.isfinite(v):
                ax_opt.annotate(fmt(v), (x, v), xytext=(0, 3 if v >= 0 else -3), textcoords="offset points",
                                ha="center", va="bottom" if v >= 0 else "top", fontsize=8, color="#444444",
                                zorder=6, bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "linewidth": 0})
    lo, hi = float(np.nanmin(np.r_[opt, 0.0])), float(np.nanmax(np.r_[opt, 0.0]))
    pad = 0.25 * (hi - lo) if hi > lo else 1.0
    ax_opt.set_ylim(lo - (pad if lo < 0 else 0), hi + pad)

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
    stops = rs[rs["stop_reason"] != ""] if "stop_reason" in rs else rs.iloc[:0]
    if len(stops):  # early stopping: where the run stopped, the later rounds did not run
        where = float(stops["n_features"].iloc[0])
        for a in (ax, ax2):
            a.axvline(where, color=BAD, linestyle=":", linewidth=1.6, zorder=1)
        ax.annotate(f"stopped early after round {int(stops['round'].iloc[0])}:\nfewer features were not tried",
                    xy=(where, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -4), textcoords="offset points",
                    ha="left", va="top", fontsize=9, color=BAD)
    fig.suptitle("Loss and held-out metrics against the number of features")
    return fig


@styled
def elimination_order(order: pd.DataFrame, selected_round: int, n_rounds: int, target: Target,
                      metric: str, importance_title: str = "LOFO importance"):
    """Which feature left in which round, and its importance when it left (a
    :func:`rfe_lib.selection.elimination_table`); the features of the selected round in colour."""
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
    log = symlog_if_skewed(ax, order["importance_mean"].to_numpy(dtype=float), "x")
    unit = target.loss_unit(metric)
    ax.set_xlabel(f"{importance_title} when it left (Δ CV {metric_name(metric)} [{unit}])"
                  + ("\n(symmetric log scale)" if log else ""))
    labels = [f"after round {int(r)}" if not pd.isna(r) else f"kept to round {n_rounds - 1}" for r in order["round"]]
    value_labels(ax, pos, [f"{lab}: {fmt(v)}" for lab, v in zip(labels, order["importance_mean"])])
    fig.legend(handles=[Patch(color=ACCENT, label=f"in the selected round ({selected_round})"),
                        Patch(color=MUTED, label="eliminated before the selected round")],
               loc="outside lower center", ncols=2, frameon=False)
    titles(ax, "Elimination order (first to leave at the top)",
            f"the first {total - n} features to leave are not shown (all are in the Elimination sheet of report.xlsx)"
            if total > n else "")
    return fig


@styled
def correlated_groups(groups: pd.DataFrame, threshold: float, action: str, target: Target):
    """The groups of correlated features: each member's |Spearman correlation| with the target, a group per band;
    with prune, the member kept in colour."""
    title = f"Correlated features: |Spearman ρ| ≥ {threshold:g} on the training rows"
    if groups.empty:
        return message_figure(title, f"no two features correlate at |ρ| ≥ {threshold:g}: nothing to {action}")
    total = len(groups)
    shown = groups.head(MAX_ROWS).reset_index(drop=True)
    n = len(shown)
    fig, ax = figure(width=8.5, height=max(3.2, 1.7 + 0.3 * n))
    pos = np.arange(n)[::-1]
    colors = [ACCENT if (action != "prune" or kept) else MUTED for kept in shown["kept"]]
    ax.barh(pos, shown["target_correlation"], color=colors, height=0.68, zorder=2)
    for k, (g, grp) in enumerate(shown.groupby("group", sort=False)):
        idx = pos[grp.index.to_numpy()]
        if k % 2 == 0:
            ax.axhspan(idx.min() - 0.5, idx.max() + 0.5, color="#F3F3F3", zorder=0, linewidth=0)
    ax.set_yticks(pos, labels=shown["feature"])
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, 1.0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"|Spearman ρ| with {target.name} (training rows)")
    value_labels(ax, pos, [f"group {int(g)}: |ρ| up to {m:.4f} in the group" for g, m in
                           zip(shown["group"], shown["max_correlation"])])
    what = {"report": "reported only: every feature is eliminated on its own",
            "group": "each group is one feature for elimination",
            "prune": "pruned before round 0: the member most correlated with the target is kept (in colour)"}[action]
    titles(ax, title, f"{groups['group'].nunique()} groups, {total} features; {what}"
           + (f"; the first {n} shown" if total > n else ""))
    return fig


# ------------------------------------------------------------------------- draw functions (see the registry)

def _selected_round(inputs) -> int:
    import pandas as pd

    return int(pd.read_parquet(inputs["selected"], columns=["round"])["round"].iloc[0])


def draw_loss_vs_features(inputs, options):
    import pandas as pd

    selected = pd.read_parquet(inputs["selected"], columns=["round", "rule"])
    return loss_vs_features(pd.read_parquet(inputs["rounds"]), int(selected["round"].iloc[0]), target_of(options),
                            options["metric"], str(selected["rule"].iloc[0]))


def draw_elimination_order(inputs, options):
    import pandas as pd

    from ..selection import elimination_table

    selected = _selected_round(inputs)
    eliminated = {r: pd.read_parquet(p) for r, p in enumerate(inputs["eliminated"])}
    order = elimination_table(eliminated, pd.read_parquet(inputs["last_importance"]), selected)
    n_rounds = len(pd.read_parquet(inputs["rounds"], columns=["round"]))
    return elimination_order(order, selected, n_rounds, target_of(options), options["metric"],
                             options["importance_title"])


def draw_correlated_groups(inputs, options):
    import pandas as pd

    return correlated_groups(pd.read_parquet(inputs["correlated"]), options["threshold"], options["action"],
                             target_of(options))
