"""A round's hyperparameter search: the CV loss against each parameter, a heat map of the two most influential
parameters, and the configurations ranked."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from ..columns import Columns, is_missing_value, n_rows, read_columns, take
from ..vocab import fold_columns, is_fold_column, succeeded
from .common import (category_positions, failed_note, loss_label, marker_style, nan_as_zero, ok_configs, round_title,
                     target_of, titles)
from .style import BEST, INK, MUTED, Target, figure, fmt, message_figure, styled


@styled
def hpo_parameter(results: Columns, param: str, target: Target, metric: str,
                  round_: int | None = None):
    """CV loss of every configuration against one parameter's values; the best configuration starred.
    ``results`` maps the columns of a round's ``hpo/results.parquet`` to arrays."""
    fig, ax = figure()
    ok = ok_configs(results)
    col = f"param_{param}"
    n = n_rows(ok)
    if n == 0 or col not in ok:
        return message_figure(round_title(f"HPO: CV loss vs {param}", round_), "no successful configuration")
    order, labels, pos = category_positions(ok[col])
    crowded = n > 8 * len(order)  # many configurations share a value: spread them to show the density
    jitter = np.random.default_rng(0).uniform(-0.16, 0.16, n) if crowded else np.zeros(n)
    y = np.asarray(ok["mean"], dtype=float)
    ax.scatter(pos + jitter, y, color="#0072B2", label="one configuration (mean over folds)",
               **marker_style(n))
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
    ax.set_ylabel(loss_label(metric, target))
    ax.legend(loc="best")
    titles(ax, round_title(f"HPO: CV loss vs {param}", round_), failed_note(results, ok))
    return fig


def parameter_influence(results: Columns) -> dict[str, float]:
    """Influence of each varying parameter: the range of the mean CV loss over its values (its main effect),
    largest first (ties: in the order of the columns)."""
    ok = ok_configs(results)
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
def hpo_heatmap(results: Columns, target: Target, metric: str, round_: int | None = None,
                max_annotated: int = 150):
    """Best CV loss for each pair of values of the two most influential parameters (best over the others)."""
    influence = parameter_influence(results)
    title = round_title("HPO: the two most influential parameters", round_)
    if len(influence) < 2:
        return message_figure(title, "fewer than two parameters vary among the successful configurations")
    p1, p2 = list(influence)[:2]
    ok = ok_configs(results)
    rows, row_labels, rpos = category_positions(ok[f"param_{p1}"])
    cols, col_labels, cpos = category_positions(ok[f"param_{p2}"])
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
    bar.set_label("best " + loss_label(metric, target))
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)
    return fig


@styled
def hpo_ranked(results: Columns, target: Target, metric: str, round_: int | None, ranked_configs: int):
    """The ``ranked_configs`` best configurations by mean CV loss (best first), with ± std and every fold's loss."""
    ok = ok_configs(results)
    title = round_title("HPO: configurations ranked by CV loss", round_)
    if n_rows(ok) == 0:
        return message_figure(title, "no successful configuration")
    shown = take(ok, slice(0, ranked_configs))
    k = n_rows(shown)
    fig, ax = figure(width=max(7.0, min(12.0, 4.0 + 0.22 * k)))
    x = np.arange(1, k + 1)
    folds = fold_columns(shown)
    rng = np.random.default_rng(0)
    for j, col in enumerate(folds):
        ax.scatter(x + rng.uniform(-0.15, 0.15, k), shown[col], s=12, color="#777777", alpha=0.5, zorder=2,
                   label="one CV fold" if j == 0 else None)
    ax.errorbar(x, shown["mean"], yerr=nan_as_zero(shown["std"]), fmt="o", color="#0072B2", ecolor="#0072B2",
                elinewidth=1.3, capsize=3, markersize=6, zorder=3, label="mean ± std over folds")
    ax.scatter([1], [shown["mean"][0]], marker="*", s=280, color=BEST, edgecolors=INK, linewidths=0.8,
               zorder=5, label=f"best: config {int(shown['config_id'][0])} ({fmt(shown['mean'][0], 4)})")
    ax.set_xticks(x, labels=[str(int(c)) for c in shown["config_id"]], rotation=90 if k > 12 else 0,
                  fontsize=8.5 if k > 20 else 9.5)
    ax.set_xlim(0.3, k + 0.7)
    ax.grid(axis="x", visible=False)
    more = f"; the best {k} of {n_rows(ok):,} shown" if n_rows(ok) > k else ""
    ax.set_xlabel(f"configuration id, ranked by mean CV loss (best on the left{more})")
    ax.set_ylabel(loss_label(metric, target))
    ax.legend(loc="upper left")
    titles(ax, title, failed_note(results, ok))
    return fig


@styled
def hpo_rungs(results: Columns, target: Target, metric: str, round_: int | None = None,
              max_lines: int = 60):
    """Successive halving: every rung's candidates and their mean CV loss with that rung's resource; the best of
    each rung go on (joined by a line to their loss in the next rung); the best configuration starred."""
    title = round_title("HPO: successive halving, candidates per rung", round_)
    rung = np.asarray(results["rung"], dtype=int)
    ok = succeeded(results)
    if not ok.any():
        return message_figure(title, "no successful configuration")
    n_rungs = int(rung.max()) + 1
    loss = np.asarray(results["mean"], dtype=float)
    ids = np.asarray(results["config_id"], dtype=int)
    fig, ax = figure(width=max(7.0, 2.2 + 1.6 * n_rungs))
    rng = np.random.default_rng(0)
    jitter = {cid: rng.uniform(-0.18, 0.18) for cid in np.unique(ids)}
    reached = {cid: int(rung[ids == cid].max()) for cid in np.unique(ids)}
    final = ok_configs(results)
    joined = [cid for cid in final["config_id"][:max_lines]]  # the last rung's best, traced back
    for cid in joined:
        mine = (ids == cid) & ok
        order = np.argsort(rung[mine])
        ax.plot(rung[mine][order] + jitter[cid], loss[mine][order], color="#0072B2", alpha=0.35, linewidth=1, zorder=2)
    for g in range(n_rungs):
        here = (rung == g) & ok
        went_on = np.array([reached[c] > g or g == n_rungs - 1 for c in ids[here]], dtype=bool)
        x = g + np.array([jitter[c] for c in ids[here]])
        ax.scatter(x[~went_on], loss[here][~went_on], color=MUTED, label="stopped at this rung" if g == 0 else None,
                   zorder=3, **marker_style(int(here.sum())))
        ax.scatter(x[went_on], loss[here][went_on], color="#0072B2", zorder=4,
                   label="went on (the last rung: scored in full)" if g == 0 else None,
                   **marker_style(int(here.sum())))
    best = int(final["config_id"][0])
    b = (ids == best) & (rung == n_rungs - 1)
    ax.scatter([n_rungs - 1 + jitter[best]], loss[b], marker="*", s=260, color=BEST, edgecolors=INK, linewidths=0.8,
               zorder=5, label=f"best: config {best} ({fmt(float(loss[b][0]), 4)})")
    share = {g: float(np.asarray(results["resource_fraction"], dtype=float)[rung == g][0]) for g in range(n_rungs)}
    counts = {g: int((rung == g).sum()) for g in range(n_rungs)}
    ax.set_xticks(range(n_rungs), labels=[f"rung {g}\n{counts[g]:,} configs\n{share[g]:.0%} of the resource"
                                          for g in range(n_rungs)])
    ax.set_xlim(-0.6, n_rungs - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(loss_label(metric, target) + " with the rung's resource")
    ax.legend(loc="upper right")
    titles(ax, title, f"lines: the last rung's {min(len(joined), max_lines)} configurations, traced back"
                      + ("" if ok.all() else f"; {int((~ok).sum())} failed fits not shown"))
    return fig


# ------------------------------------------------------------------------- draw functions (see the registry)

def draw_parameter(inputs, options, param: str):
    results = read_columns(inputs["hpo"], lambda c: c in ("config_id", "mean", "error", "rung", f"param_{param}"))
    return hpo_parameter(results, param, target_of(options), options["metric"], options["round"])


def draw_heatmap(inputs, options):
    results = read_columns(inputs["hpo"], lambda c: c in ("config_id", "mean", "error", "rung") or c.startswith("param_"))
    return hpo_heatmap(results, target_of(options), options["metric"], options["round"])


def draw_ranked(inputs, options):
    results = read_columns(inputs["hpo"], lambda c: c in ("config_id", "mean", "std", "error", "rung")
                           or is_fold_column(c))
    return hpo_ranked(results, target_of(options), options["metric"], options["round"], options["ranked_configs"])


def draw_rungs(inputs, options):
    results = read_columns(inputs["hpo"], lambda c: c in ("config_id", "mean", "error", "rung", "resource_fraction"))
    return hpo_rungs(results, target_of(options), options["metric"], options["round"])
