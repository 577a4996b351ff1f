"""Figures of a repeated run (``rfe.repeats`` > 1): the outer curve, the stability heat map and the consensus set's
survival shares. They take pandas DataFrames (one job draws them, once per run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ..columns import read_columns
from .common import MAX_ROWS, loss_label, target_of, titles
from .errors import PREDICTION_COLUMNS, abs_error_cdf, predicted_vs_actual
from .style import ACCENT, INK, MUTED, Target, figure, fmt, metric_name, styled

if TYPE_CHECKING:
    import pandas as pd

TEST = "#D55E00"


@styled
def outer_curve(curve: pd.DataFrame, rounds: dict[int, pd.DataFrame], final: pd.DataFrame, target: Target,
                metric: str):
    """The validation loss of each repeat's round against its number of features (thin lines), their mean with a
    band of ± one standard error, the chosen size, and the final model's test loss there."""
    fig, ax = figure(width=8.5, height=5.2)
    for i, t in sorted(rounds.items()):
        t = t.sort_values("n_features")
        ax.plot(t["n_features"], t["val_loss"], color=MUTED, linewidth=0.8, alpha=0.6,
                label="each repeat's validation loss" if i == min(rounds) else None)
    c = curve.sort_values("n_features")
    n, mean, se = (c[k].to_numpy(dtype=float) for k in ("n_features", "loss_mean", "loss_se"))
    ax.fill_between(n, mean - se, mean + se, color="#0072B2", alpha=0.2, linewidth=0, label="± one standard error")
    ax.plot(n, mean, color="#0072B2", marker="o", markersize=4.5, label=f"mean over {int(c['repeats'].iloc[0])} repeats")
    row = final.iloc[0]
    chosen = int(row["n_features"])
    ax.axvline(chosen, color=ACCENT, linewidth=2, alpha=0.8, zorder=1)
    ax.scatter([chosen], [row["loss_estimate"]], marker="*", s=300, color=ACCENT, edgecolors=INK, linewidths=0.8,
               zorder=5, label=f"chosen: {chosen} features (rule {row['rule']}), estimate {fmt(row['loss_estimate'])}")
    if np.isfinite(row["test_loss"]):
        ax.scatter([chosen], [row["test_loss"]], marker="D", s=70, color=TEST, edgecolors=INK, linewidths=0.8, zorder=6,
                   label=f"final model, test rows: {fmt(row['test_loss'])}")
    ax.set_xlabel("number of features")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(loss_label(metric, target, prefix="validation"))
    titles(ax, "Outer curve: validation loss over the repeats",
           f"each repeat's validation rows were never used by its search or elimination; {metric_name(metric)}")
    ax.legend(loc="best")
    return fig


@styled
def stability_heatmap(survival: pd.DataFrame, stability: pd.DataFrame, chosen: int):
    """Features (rows, most stable first) by number of features (columns, all features on the left): the share of
    repeats whose round of that size holds the feature. The chosen size is outlined."""
    order = stability["feature"].tolist()[:MAX_ROWS]
    grid = survival.pivot(index="feature", columns="n_features", values="share").reindex(order)
    grid = grid[sorted(grid.columns, reverse=True)]
    height = min(2.2 + 0.24 * len(order), 18)
    fig, ax = figure(width=max(6.5, 2.5 + 0.35 * grid.shape[1]), height=height)
    ax.grid(False)
    im = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", vmin=0, vmax=1, cmap="viridis", interpolation="nearest")
    ax.set_yticks(range(len(order)), order, fontsize=8)
    ax.set_xticks(range(grid.shape[1]), [str(int(n)) for n in grid.columns], fontsize=8,
                  rotation=90 if grid.shape[1] > 20 else 0)
    ax.set_xlabel("number of features (all features on the left)")
    if chosen in grid.columns:
        j = list(grid.columns).index(chosen)
        ax.add_patch(Rectangle((j - 0.5, -0.5), 1, len(order), fill=False, edgecolor=ACCENT, linewidth=2.5))
    fig.colorbar(im, ax=ax, label="share of repeats holding the feature")
    more = len(stability) - len(order)
    titles(ax, "Stability: survival share by size",
           f"chosen size {chosen} outlined" + (f"; the {more} least stable features are not shown" if more > 0 else ""))
    return fig


@styled
def consensus_shares(stability: pd.DataFrame, chosen: int, threshold: float):
    """The survival share at the chosen size of every feature of the consensus set (and the runners-up)."""
    shown = stability.head(min(len(stability), max(int(stability["consensus"].sum()) + 5, 10), MAX_ROWS))
    fig, ax = figure(width=8, height=min(2.2 + 0.26 * len(shown), 18))
    y = np.arange(len(shown))
    colors = [ACCENT if c else MUTED for c in shown["consensus"]]
    ax.barh(y, shown["share"], color=colors)
    ax.set_yticks(y, shown["feature"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(threshold, color=INK, linestyle="--", linewidth=1)
    ax.set_xlabel(f"share of repeats in which the feature survives to {chosen} features")
    median = float(stability.loc[stability["consensus"], "share"].median())
    titles(ax, "Consensus set: survival shares",
           f"in colour: the consensus set (median share {median:.0%}); dashed: {threshold:.0%}, below which the "
           "selection is called unstable")
    return fig


def _rounds(inputs) -> dict[int, pd.DataFrame]:
    import pandas as pd

    return {i: pd.read_parquet(p, columns=["n_features", "val_loss"]) for i, p in enumerate(inputs["rounds"])}


def draw_outer_curve(inputs, options):
    import pandas as pd

    return outer_curve(pd.read_parquet(inputs["curve"]), _rounds(inputs), pd.read_parquet(inputs["final_summary"]),
                       target_of(options), options["metric"])


def draw_stability(inputs, options):
    import pandas as pd

    final = pd.read_parquet(inputs["final_summary"])
    return stability_heatmap(pd.read_parquet(inputs["survival"]), pd.read_parquet(inputs["stability"]),
                             int(final["n_features"].iloc[0]))


def draw_consensus(inputs, options):
    import pandas as pd

    from ..repeats import STABLE_SHARE

    final = pd.read_parquet(inputs["final_summary"])
    return consensus_shares(pd.read_parquet(inputs["stability"]), int(final["n_features"].iloc[0]), STABLE_SHARE)


# The final model's test rows: the answer of a repeated run judged on rows no repeat used (the round figures' error
# views, for the one held-out set the final model has).
FINAL = "Final model (the consensus set)"


def draw_final_predicted_vs_actual(inputs, options):
    pred = read_columns(inputs["final_predictions"], PREDICTION_COLUMNS)
    return predicted_vs_actual(pred, read_columns(inputs["final_metrics"]), target_of(options), sets=("test",),
                               title=f"{FINAL}:\npredicted vs actual, test rows")


def draw_final_abs_error_cdf(inputs, options):
    pred = read_columns(inputs["final_predictions"], PREDICTION_COLUMNS)
    return abs_error_cdf(pred, options["tolerances"], target_of(options),
                         title=f"{FINAL}:\ncumulative distribution of |error|")
