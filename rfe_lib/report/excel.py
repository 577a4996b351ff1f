"""The Excel workbook for people: one sheet per table, bold frozen headers, fitted column widths, number formats.

Made once, at the end of a run, from the Parquet artifacts (the tables of :mod:`rfe_lib.report`); internal data
never goes through Excel.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from ..io import atomic_path

EXCEL_MAX_ROWS = 1_048_575  # data rows below the header

# Number formats by column name (first match wins); other floats get FLOAT, integers INTEGER.
FORMATS = (
    (re.compile(r"(^|_)within_"), "0.0%"),
    (re.compile(r"(^|_)r2$"), "0.0000"),
    (re.compile(r"^(round|rank|order|n|n_features|n_failed|config_id|cv_folds|row|fold)$"), "0"),
    (re.compile(r"seconds$"), "0.00"),
)
FLOAT = "#,##0.0000"
INTEGER = "#,##0"
MIN_WIDTH, MAX_WIDTH = 8, 60


def _number_format(column: str, series: pd.Series) -> str | None:
    for pattern, fmt in FORMATS:
        if pattern.search(column):
            return fmt
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return INTEGER
    if pd.api.types.is_float_dtype(series):
        return FLOAT
    return None


def _for_excel(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain Python-friendly columns: nullable integers and strings become objects with None for missing."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.StringDtype) or pd.api.types.is_extension_array_dtype(s.dtype):
            out[col] = s.astype(object).where(s.notna(), None)
    return out


def _width(values, header: str) -> float:
    longest = len(str(header)) + 2  # room for the filter button
    longest = max(longest, MIN_WIDTH - 2)
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        text = f"{v:,.4f}" if isinstance(v, float) else str(v)
        longest = max(longest, len(text))
    return min(MAX_WIDTH, longest + 2)


def format_sheet(ws, frame: pd.DataFrame) -> None:
    """Bold, frozen, filtered header row; column widths from the content; number formats by column."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="E8EEF4")
    for cell in ws[1]:
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "A2"
    if frame.shape[1] and len(frame):
        ws.auto_filter.ref = ws.dimensions
    sample = frame.head(2000)  # widths from the first rows: enough, and fast for a big sheet
    for j, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = _width(sample[col].tolist(), col)
        fmt = _number_format(str(col), frame[col])
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, max_row=len(frame) + 1, min_col=j, max_col=j):
                cell.number_format = fmt


def write_workbook(sheets: dict[str, pd.DataFrame], path) -> None:
    """Write ``sheets`` (name -> table, in order) to an .xlsx file at ``path``, atomically."""
    for name, frame in sheets.items():
        if len(frame) > EXCEL_MAX_ROWS:
            raise ValueError(f"sheet {name!r} has {len(frame):,} rows, more than Excel's {EXCEL_MAX_ROWS:,}")
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                table = _for_excel(frame)
                table.to_excel(writer, sheet_name=name, index=False)
                format_sheet(writer.sheets[name], table)
