"""The artifacts' shared vocabulary: column names and the orderings every table and figure uses.

Each rule is written here once and needs numpy only, so the plot jobs (which never import pandas) use the same
code as the tables. The orderings return positions: ``frame.iloc[importance_order(frame["feature"],
frame["importance_mean"])]`` for a DataFrame, ``take(columns, importance_order(...))`` for numpy columns.
"""

from __future__ import annotations

import re

import numpy as np

FOLD_PREFIX = "fold_"
_FOLD = re.compile(r"fold_(\d+)")
SETS = ("train", "val", "test")   # the values of the ``set`` column of split/indices.parquet and predictions
HELD_OUT = ("val", "test")


def fold_column(k: int) -> str:
    """The column of fold ``k``: ``fold_0``, ``fold_1``, ..."""
    return f"{FOLD_PREFIX}{k}"


def is_fold_column(name) -> bool:
    return _FOLD.fullmatch(str(name)) is not None


def fold_columns(names) -> list[str]:
    """The per-fold columns among ``names`` (``fold_<k>``), in fold order."""
    found = [(int(m.group(1)), name) for name in names if (m := _FOLD.fullmatch(str(name)))]
    return [name for _, name in sorted(found)]


def importance_order(features, importance) -> np.ndarray:
    """Positions from the most important feature to the least; ties by feature name (missing values last)."""
    return np.lexsort((np.asarray(features, dtype=object), -np.asarray(importance, dtype=float)))


def elimination_order(features, importance) -> np.ndarray:
    """Positions from the least important feature to the most (the order features leave); ties by name."""
    return np.lexsort((np.asarray(features, dtype=object), np.asarray(importance, dtype=float)))


def succeeded(results) -> np.ndarray:
    """Which rows of a search's results are successful configurations (a boolean mask): no ``error`` and a ``mean``
    loss. ``results``: a DataFrame (``frame[succeeded(frame)]``) or numpy columns (``take(columns, succeeded(...))``);
    a table without an ``error`` column has no failed rows."""
    ok = ~_missing(results["mean"])
    return ok & _missing(results["error"]) if "error" in results else ok


def _missing(values) -> np.ndarray:
    """Where a column holds no value: a pandas Series's own ``isna`` (None, NaN, pd.NA), or for a numpy array
    :func:`rfe_lib.columns.is_missing` (None or NaN)."""
    from .columns import is_missing

    isna = getattr(values, "isna", None)
    return np.asarray(isna(), dtype=bool) if isna is not None else is_missing(values)


def config_order(config_ids, losses) -> np.ndarray:
    """Positions from the best configuration to the worst: the lowest mean loss first, ties by config id."""
    return np.lexsort((np.asarray(config_ids), np.asarray(losses, dtype=float)))
