"""Reading the input table and validating it.

:func:`validate_table` returns one row per check (``column``, ``check``, ``status``, ``detail``) and
the resolved feature list; :func:`raise_for_errors` turns the error rows into one message that names
every problem and how to fix it. The same functions run when the workflow is parsed (so bad input is
refused before any job starts) and in the ``validate_data`` job (which writes the report).
"""

from __future__ import annotations

import csv
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import RFEError
from .words import closest

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


@dataclass(frozen=True)
class DataSpec:
    """What the data and features sections say about the input table (built by
    :meth:`rfe_lib.settings.Settings.data_spec`; jobs get it as :meth:`to_dict`)."""

    path: str
    target: str
    features: tuple[str, ...] | None
    drop: tuple[str, ...]
    id_column: str | None
    cyclic: dict
    angles: dict
    derived: dict
    weight_column: str | None = None  # data.weight_column: never a feature
    split_columns: dict = field(default_factory=dict)  # {"split.group_column" or "split.time_column": column}

    def to_dict(self) -> dict:
        d = {**asdict(self), "features": None if self.features is None else list(self.features),
             "drop": list(self.drop)}
        if not self.split_columns:  # a stratified split: the params of the jobs stay what they were
            del d["split_columns"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "DataSpec":
        return cls(**{**d, "features": None if d["features"] is None else tuple(d["features"]),
                      "drop": tuple(d["drop"])})


def _suggest(name: str, choices) -> str:
    close = closest(name, choices)
    return f" (did you mean '{close}'?)" if close else ""


def _csv_delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def column_names(path) -> list[str]:
    """The column names of a Parquet or CSV file, read without loading the data."""
    path = Path(path)
    check_path(path)
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            header = list(pq.read_schema(path).names)
        else:
            with open(path, newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh, delimiter=_csv_delimiter(path)), None)
    except (OSError, UnicodeDecodeError, csv.Error, Exception) as exc:  # noqa: BLE001 - any reader failure
        raise RFEError(f"data.path: could not read '{path}': {exc}") from None
    if not header:
        raise RFEError(f"data.path: '{path}' is empty: it has no header row")
    dupes = sorted({n for n in header if header.count(n) > 1})
    if dupes:
        raise RFEError(f"data.path: '{path}' has duplicate column names: {', '.join(map(str, dupes))}; rename them")
    return header


def check_path(path) -> None:
    path = Path(path)
    try:
        _check_path(path)
    except OSError as exc:  # e.g. a name too long, a folder without permission
        raise RFEError(f"data.path: cannot access '{path}': {exc.strerror or exc}") from None


def _check_path(path: Path) -> None:
    if not path.exists():
        raise RFEError(
            f"data.path: file '{path}' does not exist (looked in {Path.cwd()}); "
            "paths are relative to the directory you run snakemake from"
        )
    if path.is_dir():
        raise RFEError(f"data.path: '{path}' is a directory, not a .parquet or .csv file")
    if path.suffix.lower() not in PARQUET_SUFFIXES + CSV_SUFFIXES:
        raise RFEError(f"data.path: '{path}' has an unsupported extension; use .parquet or .csv")
    if path.stat().st_size == 0:
        raise RFEError(f"data.path: '{path}' is empty (0 bytes)")


def read_table(path, columns=None):
    """Read a Parquet or CSV file into a DataFrame; every failure becomes an :class:`RFEError`."""
    import pandas as pd

    path = Path(path)
    column_names(path)  # refuses unreadable files and duplicate column names
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            df = pd.read_parquet(path, columns=columns)
        else:
            df = pd.read_csv(path, sep=_csv_delimiter(path), usecols=columns, engine="c", low_memory=False)
    except Exception as exc:  # noqa: BLE001 - the reader's own message is the most precise
        raise RFEError(f"data.path: could not read '{path}': {type(exc).__name__}: {exc}") from None
    if len(df) == 0:
        raise RFEError(f"data.path: '{path}' has a header but no data rows")
    return df


def candidate_features(names, spec: DataSpec) -> list[str]:
    """Feature columns before validation: ``data.features``, or every column but target, id and drops."""
    if spec.features is not None:
        return list(spec.features)
    skip = {spec.target, spec.id_column, spec.weight_column, *spec.drop, *spec.split_columns.values()}
    return [n for n in names if n not in skip]


def _row(column, check, status, detail=""):
    return {"column": column, "check": check, "status": status, "detail": detail}


def check_columns(names, spec: DataSpec) -> list[dict]:
    """Checks that need only the column names: every column the config names must exist."""
    rows = []
    present = set(names)

    def need(col, what):
        if col not in present:
            rows.append(_row(col, "exists", "error",
                             f"{what} '{col}' is not a column of the file{_suggest(col, names)}"))

    need(spec.target, "data.target")
    if spec.id_column is not None:
        need(spec.id_column, "data.id_column")
    if spec.weight_column is not None:
        need(spec.weight_column, "data.weight_column")
        if spec.weight_column == spec.target:
            rows.append(_row(spec.weight_column, "weight", "error", "data.weight_column must not be the target"))
        if spec.weight_column in (spec.features or ()):
            rows.append(_row(spec.weight_column, "weight", "error",
                             f"data.weight_column '{spec.weight_column}' is listed in data.features: the weights are "
                             "never a feature; remove it from data.features"))
    for col in spec.drop:
        need(col, "data.drop names")
    for key, col in spec.split_columns.items():
        need(col, key)
        if col in (spec.features or ()):
            rows.append(_row(col, "split", "error",
                             f"data.features lists '{col}', the {key}: a group or time column is never a feature "
                             "(a cyclic column derived from the time, such as the hour, may be); remove it from "
                             "data.features"))
    for col in spec.features or ():
        need(col, "data.features names")
    for col in spec.cyclic:
        need(col, "features.cyclic names")
    for col in spec.angles:
        need(col, "features.angles names")
    for name, d in spec.derived.items():
        if name in present:
            rows.append(_row(name, "derived", "error", f"features.derived '{name}' would overwrite an input column; rename it"))
        for col in d["columns"]:
            need(col, f"features.derived.{name} uses")
            if col == spec.target:
                rows.append(_row(name, "derived", "error", f"features.derived.{name} uses the target '{col}': that leaks the answer"))
    feats = set(candidate_features(names, spec))
    for col in list(spec.cyclic) + list(spec.angles):
        if col in present and col not in feats:
            rows.append(_row(col, "encoding", "error",
                             f"'{col}' is encoded in features.cyclic/angles but is not a feature (it is the target, the id, dropped "
                             "or the split's group or time column)"))
    if spec.target in feats:
        rows.append(_row(spec.target, "target", "error", "data.features must not include the target"))
    both = set(spec.cyclic) & set(spec.angles)
    for col in sorted(both):
        rows.append(_row(col, "encoding", "error", f"'{col}' is in both features.cyclic and features.angles; pick one"))
    return rows


def validate_table(df, spec: DataSpec) -> tuple[list[dict], list[str]]:
    """Validate the table; return (check rows, feature columns kept).

    Errors (a non-numeric feature, an all-NaN or infinite column, a target with NaN or infinity, ...)
    are rows with status ``error``; constant features are ``dropped``; missing values and duplicate
    rows are ``warning``.
    """
    import numpy as np
    import pandas as pd

    names = list(df.columns)
    rows = check_columns(names, spec)
    if any(r["status"] == "error" for r in rows):
        return rows, []

    # target
    y = df[spec.target]
    if not (pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)):
        rows.append(_row(spec.target, "dtype", "error", f"the target must be numeric; it has dtype {y.dtype}"))
    else:
        yv = y.to_numpy(dtype=float, na_value=np.nan)
        n_nan, n_inf = int(np.isnan(yv).sum()), int(np.isinf(yv).sum())
        if n_nan:
            rows.append(_row(spec.target, "missing", "error", f"the target has {n_nan} missing (NaN) values; drop those rows first"))
        if n_inf:
            rows.append(_row(spec.target, "infinite", "error", f"the target has {n_inf} infinite values; drop or fix those rows"))
        if not len(yv):
            rows.append(_row(spec.target, "target", "error", "the table has no rows"))
        elif not n_nan and not n_inf:
            if yv.min() == yv.max():
                rows.append(_row(spec.target, "constant", "error",
                                 f"the target is constant ({yv[0]:g} in every row): there is nothing to predict"))
            else:
                rows.append(_row(spec.target, "target", "ok", f"{len(yv)} values in [{yv.min():g}, {yv.max():g}]"))

    if spec.weight_column is not None:
        rows.extend(_weight_rows(df[spec.weight_column], spec.weight_column))

    features = candidate_features(names, spec)
    if not features:
        rows.append(_row("", "features", "error", "no feature columns: the file has only the target/id/dropped columns"))
    non_numeric = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        for c in non_numeric:
            rows.append(_row(c, "dtype", "error",
                             f"feature '{c}' is not numeric ({df[c].dtype}); encode it as numbers or list it in data.drop"))
    kept = []
    for c in features:
        if c in non_numeric:
            continue
        v = df[c].to_numpy(dtype=float, na_value=np.nan)
        n_nan = int(np.isnan(v).sum())
        n_inf = int(np.isinf(v).sum())
        finite = v[np.isfinite(v)]
        if n_nan == len(v):
            rows.append(_row(c, "missing", "error", f"feature '{c}' is entirely missing (all NaN); list it in data.drop"))
            continue
        if n_inf:
            rows.append(_row(c, "infinite", "error", f"feature '{c}' has {n_inf} infinite values; replace them or drop the column"))
            continue
        if n_nan:
            rows.append(_row(c, "missing", "warning", f"{n_nan} missing values ({100 * n_nan / len(v):.1f}%)"))
        if finite.size and finite.min() == finite.max():
            rows.append(_row(c, "constant", "dropped", f"constant value {finite[0]:g}: carries no information, dropped"))
            continue
        kept.append(c)
    n_dup = int(df.duplicated().sum())
    if n_dup:
        rows.append(_row("", "duplicate_rows", "warning", f"{n_dup} duplicate rows"))
    else:
        rows.append(_row("", "duplicate_rows", "ok", "no duplicate rows"))
    if not any(r["status"] == "error" for r in rows):
        rows.append(_row("", "summary", "ok", f"{len(df)} rows, {len(kept)} feature columns kept"))
    return rows, kept


def _weight_rows(w, name: str) -> list[dict]:
    """The checks of data.weight_column: numeric, finite, non-negative, not all zero."""
    import numpy as np
    import pandas as pd

    if not (pd.api.types.is_numeric_dtype(w) and not pd.api.types.is_bool_dtype(w)):
        return [_row(name, "weight", "error", f"data.weight_column '{name}' must be numeric; it has dtype {w.dtype}")]
    v = w.to_numpy(dtype=float, na_value=np.nan)
    n_nan, n_inf = int(np.isnan(v).sum()), int(np.isinf(v).sum())
    if n_nan or n_inf:
        return [_row(name, "weight", "error", f"data.weight_column '{name}' has {n_nan} missing (NaN) and {n_inf} "
                     "infinite values: every weight must be a finite number; fix or drop those rows")]
    if (v < 0).any():
        return [_row(name, "weight", "error", f"data.weight_column '{name}' has {int((v < 0).sum())} negative "
                     f"values (the smallest is {v.min():g}): weights must be zero or positive")]
    if not (v > 0).any():
        return [_row(name, "weight", "error", f"data.weight_column '{name}' is zero in every row: "
                     "at least one row must weigh something")]
    return [_row(name, "weight", "ok", f"weights in [{v.min():g}, {v.max():g}], {int((v == 0).sum())} zero")]


def raise_for_errors(rows, path) -> None:
    """Raise one :class:`RFEError` that lists every error row."""
    errors = [r["detail"] for r in rows if r["status"] == "error"]
    if errors:
        raise RFEError(f"the input data '{path}' failed validation:\n  - " + "\n  - ".join(errors))


def file_fingerprint(path) -> dict:
    st = os.stat(path)
    return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
