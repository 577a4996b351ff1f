"""Parquet columns as numpy arrays, without pandas: what a plot job reads.

A round's figure is drawn by a short job of its own, whose time goes mostly to imports; pandas alone would
cost a third of it. So the round figures work on a mapping of column name -> numpy array, read here with
``pyarrow.parquet``. Every path below avoids pyarrow's own numpy conversions (``to_numpy``, ``to_pandas``,
``read_table``, Python scalars given to compute functions), because those import pandas when it is installed.

Values are those pandas would give for the same file: numbers as int or float arrays (a null as NaN, so an
integer column with nulls becomes float), booleans as a bool array, and anything else (text, booleans with
nulls) as an object array of Python values, ``None`` for a null.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Mapping

import numpy as np

Columns = Mapping[str, np.ndarray]


def read_columns(path, columns: Iterable[str] | Callable[[str], bool] | None = None) -> dict[str, np.ndarray]:
    """Columns of the Parquet file ``path`` as numpy arrays.

    ``columns``: the names to read (in that order), or a function choosing them by name (in the file's order;
    a name the file lacks is then simply not read); ``None`` reads every column.
    """
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as file:
        if callable(columns):
            columns = [name for name in file.schema_arrow.names if columns(name)]
        table = file.read(columns=None if columns is None else list(columns))
    return {name: to_numpy(table.column(name)) for name in table.column_names}


def to_numpy(column) -> np.ndarray:
    """One Arrow column (an ``Array`` or a ``ChunkedArray``) as a numpy array (see the module's docstring)."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _with_nan(array) if array.null_count else np.from_dlpack(array)
    if pa.types.is_boolean(kind) and not array.null_count:
        return _bools(array)
    values = np.empty(len(array), dtype=object)
    values[:] = array.to_pylist()
    return values


def _bools(array) -> np.ndarray:
    """A boolean Arrow array without nulls (stored as bits) as a numpy bool array."""
    import pyarrow as pa

    return np.from_dlpack(array.cast(pa.uint8())).astype(bool)


def _with_nan(array) -> np.ndarray:
    """A numeric Arrow array with nulls as floats, NaN at the nulls (the data under a null is undefined)."""
    import pyarrow as pa

    array = array.cast(pa.float64())
    values = np.frombuffer(array.buffers()[1], dtype=np.float64, count=len(array), offset=8 * array.offset).copy()
    values[_bools(array.is_null())] = np.nan
    return values


def n_rows(columns: Columns) -> int:
    """The number of rows (0 without columns)."""
    return len(next(iter(columns.values()))) if columns else 0


def take(columns: Columns, rows) -> dict[str, np.ndarray]:
    """The given rows of every column: ``rows`` is a boolean mask, an array of positions or a slice."""
    return {name: values[rows] for name, values in columns.items()}


def is_missing_value(v) -> bool:
    """Whether one value is missing: ``None`` or NaN."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def is_missing(values) -> np.ndarray:
    """Where ``values`` hold no value: ``None`` or NaN (like ``pandas.isna`` for these arrays)."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    return np.array([is_missing_value(v) for v in values], dtype=bool)
