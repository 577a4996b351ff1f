"""The sheets of ``report.xlsx``, in order (written by :func:`rfe_lib.report.excel.write_workbook`)."""

from __future__ import annotations

import pandas as pd

from .provenance import provenance_table
from .tables import config_table, hpo_table, importance_sheet, per_round, report_tables, selected_round


def workbook_sheets(inputs, *, config: dict, top_configs: int, with_predictions: bool, run_dir,
                    workflow_dir, methods: list[str] | None = None, weights: str | None = None) -> dict[str, pd.DataFrame]:
    """Every sheet of ``report.xlsx``, in order. ``inputs`` as for :func:`~rfe_lib.report.tables.report_tables`,
    plus ``best`` and ``results`` (one path per round), ``validation``, ``data`` (the input file) and, with
    ``with_predictions``, ``predictions`` (one path per round; the selected round's go into a Predictions sheet);
    ``methods``: the importance method of each round; ``weights``: data.weight_column (the sheets that show losses
    then say they are weighted)."""
    tables = report_tables(inputs)
    selected = pd.read_parquet(inputs["selected"])
    r = selected_round(selected)
    sheets = {
        "Summary": tables["summary"],
        "Selected": tables["selected"],
        "Elimination": tables["elimination"],
        "HPO": _with_grid_edges(hpo_table(per_round(inputs["results"]), per_round(inputs["best"]), top_configs),
                                pd.read_parquet(inputs["rounds"])),
        "Importance": importance_sheet(per_round(inputs["importance"]), per_round(inputs["eliminated"]), methods),
        "Metrics": tables["metrics"],
        "Config": config_table(config),
        "Provenance": provenance_table(run_dir=run_dir, data_path=inputs["data"], workflow_dir=workflow_dir),
        "Validation": pd.read_parquet(inputs["validation"]),
    }
    _say_weighted(sheets, weights, ("Summary", "Selected", "HPO", "Importance", "Metrics"))
    if with_predictions:
        pred = pd.read_parquet(inputs["predictions"][r])
        pred.insert(0, "round", r)
        sheets["Predictions"] = pred
    return sheets


def _with_grid_edges(hpo: pd.DataFrame, rounds: pd.DataFrame) -> pd.DataFrame:
    """The HPO sheet with a ``grid_edge`` column: on each round's chosen configuration, where it sits on the edge of
    the grid (``summary/rounds.parquet``), so the sheet says when the optimum may lie outside the grid."""
    if "grid_edge" not in rounds.columns or hpo.empty:
        return hpo
    edge = rounds.set_index("round")["grid_edge"]
    hpo = hpo.copy()
    hpo["grid_edge"] = [edge.get(r, "") if best else "" for r, best in zip(hpo["round"], hpo["best"])]
    return hpo


def repeats_sheets(inputs, *, config: dict, run_dir, workflow_dir,
                   weights: str | None = None) -> dict[str, pd.DataFrame]:
    """Every sheet of a repeated run's ``report.xlsx`` (``rfe.repeats`` > 1), in order: the answer (``Final``: the
    chosen size, the curve's estimate, the test loss, the honesty gap), the consensus set, the outer curve,
    stability, every repeat's rounds, the final model's metrics and search, the configuration and provenance.
    ``inputs``: ``final_summary``, ``selected``, ``curve``, ``stability``, ``rounds`` (one path per repeat),
    ``metrics``, ``results``, ``best`` (the final model's), ``validation`` and ``data``; ``weights``:
    data.weight_column (the sheets that show losses then say they are weighted)."""
    rounds = pd.concat([pd.read_parquet(p).assign(repeat=i) for i, p in enumerate(inputs["rounds"])],
                       ignore_index=True)
    rounds = rounds[["repeat", *[c for c in rounds.columns if c != "repeat"]]]
    for c in rounds.columns:  # lists (the round's features) as text
        if rounds[c].map(lambda v: hasattr(v, "__len__") and not isinstance(v, str)).any():
            rounds[c] = rounds[c].map(lambda v: ", ".join(map(str, v)))
    final = pd.read_parquet(inputs["final_summary"]).T.reset_index()
    final.columns = ["item", "value"]
    final["value"] = final["value"].astype(str)
    sheets = {
        "Final": final,
        "Consensus": pd.read_parquet(inputs["selected"]),
        "Curve": pd.read_parquet(inputs["curve"]),
        "Stability": pd.read_parquet(inputs["stability"]),
        "Repeats": rounds,
        "Final metrics": pd.read_parquet(inputs["metrics"]),
        "Final HPO": hpo_table({0: pd.read_parquet(inputs["results"])}, {0: pd.read_parquet(inputs["best"])}, 10**6),
        "Config": config_table(config),
        "Provenance": provenance_table(run_dir=run_dir, data_path=inputs["data"], workflow_dir=workflow_dir),
        "Validation": pd.read_parquet(inputs["validation"]),
    }
    return _say_weighted(sheets, weights, ("Final", "Curve", "Repeats", "Final metrics", "Final HPO"))


def _say_weighted(sheets: dict, weights: str | None, names) -> dict:
    """With data.weight_column, a ``losses`` column on the sheets ``names`` (those that show losses and metrics)."""
    if weights:
        note = f"weighted by the column '{weights}'"
        for name in names:
            sheets[name] = sheets[name].assign(losses=note)
    return sheets
