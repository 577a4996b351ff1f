"""Feature engineering: sin/cos encodings of cyclic and angle columns, and derived features.

A *feature* is what RFE keeps or eliminates; a *column* is what the model sees. A cyclic or angle
feature is one feature with two columns (``<col>_sin``, ``<col>_cos``), so it is always kept or
eliminated as a whole. The map from features to columns is an artifact (``feature_map.parquet``).
Scaling and imputation are not done here: they are fitted inside the model pipeline, on training
rows only (within each CV fold), so no statistic of validation or test rows leaks into a model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .data import DataSpec

DERIVED_OPS = ("product", "ratio", "difference", "sum", "log1p", "square", "abs")
_ARITY = {"product": 2, "ratio": 2, "difference": 2, "sum": 2, "log1p": 1, "square": 1, "abs": 1}


def feature_map(kept_columns, spec: DataSpec) -> list[dict]:
    """Rows ``{feature, column, kind}`` in model-column order: input features first, derived last."""
    rows = []
    for col in kept_columns:
        if col in spec.cyclic or col in spec.angles:
            kind = "cyclic" if col in spec.cyclic else "angle"
            rows.append({"feature": col, "column": f"{col}_sin", "kind": kind})
            rows.append({"feature": col, "column": f"{col}_cos", "kind": kind})
        else:
            rows.append({"feature": col, "column": col, "kind": "numeric"})
    for name in spec.derived:
        rows.append({"feature": name, "column": name, "kind": "derived"})
    return rows


def kept_columns(names, spec: DataSpec, validation) -> list[str]:
    """The feature columns of the table (``names``) that validation kept: the candidates
    (:func:`rfe_lib.data.candidate_features`) but those it ``dropped`` (``validation``: its check rows, as dicts)."""
    from .data import candidate_features

    dropped = {row["column"] for row in validation if row["status"] == "dropped"}
    return [c for c in candidate_features(list(names), spec) if c not in dropped]


@dataclass
class RoundZero:
    """Round 0's model columns: what the plan schedules and the engineer_features job writes."""

    feature_map: list[dict]   # rows {feature, column, kind}, after features.correlated
    features: list[str]       # round 0's features, in feature-map order
    n_before: int             # the features before features.correlated
    table: object = None      # the engineered table (None when not asked for)
    groups: object = None     # the correlated groups (None when not asked for)


def round_zero(df, validation, spec: DataSpec, split, correlated: dict, complete: bool = True) -> RoundZero:
    """Round 0's features: the kept columns (:func:`kept_columns`) engineered (:func:`feature_map`), then
    ``features.correlated`` (``correlated``: threshold, action) on the training rows of ``split``. The plan (which
    fixes the round schedule) and the engineer_features job (which writes the artifacts) both call it, so the two
    cannot disagree. Without ``complete`` (the plan) the table and groups are not returned, and with
    ``action: report``, which changes no feature, not even computed."""
    from .correlated import correlated_feature_map

    fmap = feature_map(kept_columns(df.columns, spec, validation), spec)
    n_before = len(dict.fromkeys(row["feature"] for row in fmap))
    table = groups = None
    if complete or correlated["action"] != "report":
        table = engineer(df, fmap, spec)
        fmap, groups = correlated_feature_map(table, split, fmap, correlated)
    features = list(dict.fromkeys(row["feature"] for row in fmap))
    return RoundZero(fmap, features, n_before, table if complete else None, groups if complete else None)


def check_derived(spec: DataSpec) -> list[str]:
    problems = []
    for name, d in spec.derived.items():
        want = _ARITY.get(d["op"])
        if want is None:
            problems.append(f"features.derived.{name}: unknown op '{d['op']}'; use one of {', '.join(DERIVED_OPS)}")
        elif len(d["columns"]) != want:
            problems.append(f"features.derived.{name}: op '{d['op']}' takes {want} column(s), got {len(d['columns'])}")
    return problems


def _derive(df, op: str, cols):
    import numpy as np

    a = df[cols[0]].to_numpy(dtype=float, na_value=np.nan)
    b = df[cols[1]].to_numpy(dtype=float, na_value=np.nan) if len(cols) > 1 else None
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "product": lambda: a * b,
            "ratio": lambda: a / b,
            "difference": lambda: a - b,
            "sum": lambda: a + b,
            "log1p": lambda: np.log1p(a),
            "square": lambda: a * a,
            "abs": lambda: np.abs(a),
        }[op]()
    out[~np.isfinite(out)] = np.nan  # a ratio by zero is missing, not infinite
    return out


def engineer(df, fmap: list[dict], spec: DataSpec):
    """The model table: one float64 column per row of ``fmap``, rows in input order (:func:`decode` inverts it)."""
    import numpy as np
    import pandas as pd

    cols = {}
    for row in fmap:
        feat, col, kind = row["feature"], row["column"], row["kind"]
        if kind == "group":  # a member of a group of correlated features: engineered as the member it is
            feat, kind = col, "derived" if col in spec.derived else "numeric"
        if kind == "numeric":
            cols[col] = df[feat].to_numpy(dtype=float, na_value=np.nan)
        elif kind in ("cyclic", "angle"):
            if kind == "cyclic":
                scale = 2.0 * math.pi / float(spec.cyclic[feat])
            else:
                scale = 1.0 if spec.angles[feat] == "radians" else math.pi / 180.0
            v = df[feat].to_numpy(dtype=float, na_value=np.nan) * scale
            cols[col] = np.sin(v) if col.endswith("_sin") else np.cos(v)
        elif kind == "derived":
            d = spec.derived[feat]
            cols[col] = _derive(df, d["op"], d["columns"])
        else:  # pragma: no cover - the map is built above
            raise ValueError(f"unknown feature kind {kind!r}")
    return pd.DataFrame(cols)


def decode(table, kind: str, feature: str, period: float | None = None, columns=None):
    """A feature's values from its model columns (the inverse of :func:`engineer`): the column itself, or, for a
    sin/cos-encoded feature, its value recovered from the two columns (modulo its period; angles in degrees), or for a
    group of correlated features (``columns``: its members' columns), its first member's values. ``table`` maps
    column names to arrays."""
    import numpy as np

    if kind == "group":
        return np.asarray(table[columns[0]], dtype=float)
    if kind in ("cyclic", "angle"):
        s = np.asarray(table[f"{feature}_sin"], dtype=float)
        c = np.asarray(table[f"{feature}_cos"], dtype=float)
        turn = np.mod(np.arctan2(s, c), 2 * math.pi) / (2 * math.pi)  # fraction of a turn, in [0, 1)
        full = float(period) if kind == "cyclic" else 360.0
        values = np.round(turn * full, 9)
        return np.where(values >= full, 0.0, values)
    return np.asarray(table[feature], dtype=float)


def axis_label(feature: str, kind: str, period: float | None = None, columns=None) -> str:
    """How a figure labels an axis of a feature's values (as :func:`decode` gives them)."""
    if kind == "group":
        return f"{columns[0]} (the first of a group of {len(columns)} correlated features)"
    if kind == "cyclic":
        return f"{feature} (cyclic, period {period:g})"
    if kind == "angle":
        return f"{feature} [°]"
    if kind == "derived":
        return f"{feature} (derived)"
    return feature


def columns_of(fmap_df, features) -> list[str]:
    """Model columns of ``features``, in feature-map order."""
    wanted = set(features)
    return [c for f, c in zip(fmap_df["feature"], fmap_df["column"]) if f in wanted]
