"""The figure of a group or time split (issue 20): which rows each set and each CV fold holds.

For a time split, every row along the time axis: one lane for the sets (training, gap, validation, test) and one
lane per CV fold (held out, fitted on, left out by the gap or, with forward chaining, not yet seen), so the gaps
show as white. For a group split, the size of every group in each fold's held-out rows, the validation and the
test rows. Numpy columns only (no pandas), as every figure job.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch

from ..columns import read_columns
from .common import titles
from .style import SET_COLORS, SET_NAMES, figure, styled

GAP_COLOR = "#F0E442"
HELD_COLOR = "#CC79A7"
FIT_COLOR = "#56B4E9"
SETS = ("train", "gap", "val", "test")
NAMES = {**SET_NAMES, "gap": "gap (not used)"}
COLORS = {**SET_COLORS, "gap": GAP_COLOR}


def _time_values(t: np.ndarray) -> tuple[np.ndarray, bool]:
    """Times as numbers for the axis (datetimes as matplotlib dates) and whether they are dates."""
    if t.dtype == object and len(t) and hasattr(t[0], "isoformat"):  # Parquet timestamps read without pandas
        t = np.array(t, dtype="datetime64[us]")
    if np.issubdtype(t.dtype, np.datetime64):
        from matplotlib.dates import date2num

        return date2num(t.astype("datetime64[us]").astype(object)), True
    return t.astype(float), False


def _runs(values: np.ndarray, mask: np.ndarray):
    """Spans ``(start, width)`` of the runs of consecutive ``True`` in ``mask`` (``values`` sorted): each row's span
    reaches the next row's time, so adjacent rows touch and a gap between runs shows as white."""
    if not mask.any():
        return []
    step = np.diff(values)
    ends = np.r_[values[1:], values[-1] + (np.median(step) if len(step) else 1.0)]
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return [(values[a], ends[b - 1] - values[a]) for a, b in zip(edges[::2], edges[1::2])]


@styled
def time_split(times, sets, fold, fit: list, column: str, time_folds: str):
    """Rows along the time axis: the sets' lane and one lane per fold."""
    x, is_date = _time_values(np.asarray(times))
    order = np.argsort(x, kind="stable")
    x, sets, fold = x[order], np.asarray(sets)[order], np.asarray(fold)[order]
    fit = [np.asarray(f, dtype=bool)[order] for f in fit]
    k = len(fit)
    fig, ax = figure(width=9, height=2.2 + 0.45 * (k + 1))
    lanes = ["sets"] + [f"fold {i}" for i in range(k)]
    for s in SETS:
        ax.broken_barh(_runs(x, sets == s), (k - 0.4, 0.8), color=COLORS[s], linewidth=0)
    for i in range(k):
        y = k - 1 - i
        ax.broken_barh(_runs(x, fold == i), (y - 0.4, 0.8), color=HELD_COLOR, linewidth=0)
        ax.broken_barh(_runs(x, fit[i]), (y - 0.4, 0.8), color=FIT_COLOR, linewidth=0)
    ax.set_yticks(range(k, -1, -1), labels=lanes)
    ax.set_ylim(-0.6, k + 0.6)
    ax.grid(axis="y", visible=False)
    if is_date:
        ax.xaxis_date()
    ax.set_xlabel(f"time ({column})")
    handles = [Patch(color=COLORS[s], label=NAMES[s]) for s in SETS if (sets == s).any()]
    handles += [Patch(color=HELD_COLOR, label="fold: held out"), Patch(color=FIT_COLOR, label="fold: fitted on")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False)
    n_gap = int((sets == "gap").sum())
    titles(ax, f"Time split by '{column}' ({time_folds} CV folds)",
           "white: rows a fold neither fits on nor holds out (the gap" + (", or the future" if time_folds == "forward"
                                                                          else "") + ")"
           + (f"; {n_gap} rows in the gap before the validation rows" if n_gap else ""))
    return fig


@styled
def group_split(groups, sets, fold, column: str, folds: int):
    """The size (rows) of every group in each fold's held-out rows, the validation rows and the test rows."""
    groups, sets, fold = np.asarray(groups), np.asarray(sets), np.asarray(fold)
    lanes = [(f"fold {i}", (sets == "train") & (fold == i), SET_COLORS["train"]) for i in range(folds)]
    lanes += [(SET_NAMES[s], sets == s, SET_COLORS[s]) for s in ("val", "test")]
    fig, ax = figure(width=8.5, height=1.8 + 0.5 * len(lanes))
    rng = np.random.default_rng(0)
    for j, (label, mask, color) in enumerate(lanes):
        y = len(lanes) - 1 - j
        _, sizes = np.unique(groups[mask].astype(str), return_counts=True)
        ax.scatter(sizes, y + rng.uniform(-0.22, 0.22, len(sizes)), s=14, color=color, alpha=0.8, zorder=2)
        ax.annotate(f"{len(sizes)} groups, {int(mask.sum())} rows", (1.0, y), xycoords=("axes fraction", "data"),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=9, color="#333333")
    ax.set_yticks(range(len(lanes) - 1, -1, -1), labels=[lab for lab, _, _ in lanes])
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("rows per group")
    titles(ax, f"Group split by '{column}': group sizes per CV fold and set",
           "every group lies whole in one fold or set (one dot per group)")
    return fig


def draw_split(inputs, options):
    from ..split import fit_column

    method, column = options["split_method"], options["split_column"]
    if method == "time":
        cols = read_columns(inputs["split"])
        fit = [cols[fit_column(i)] for i in range(options["folds"])]
        return time_split(cols["time"], cols["set"], cols["fold"], fit, column, options["time_folds"])
    cols = read_columns(inputs["split"], ["group", "set", "fold"])
    return group_split(cols["group"], cols["set"], cols["fold"], column, options["folds"])
