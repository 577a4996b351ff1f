"""The summary across rounds (``summary/rounds.parquet``) and the selected round (``summary/selected.parquet``),
from the per-round artifacts of the rounds that ran."""

from __future__ import annotations


def summarize(paths: dict, *, select: str, metric: str, search, planned_rounds: int):
    """``(rounds, selected)``. ``paths`` maps ``features``, ``best``, ``metrics``, ``importance``, ``eliminated``,
    ``results`` (and, with early stopping, ``decisions``) to one path per round that ran, in round order."""
    import pandas as pd

    from .search.results import search_summary
    from .selection import round_row, selected_table

    rows, importance = [], {}
    keys = ("features", "best", "metrics", "importance", "eliminated", "results")
    for r, files in enumerate(zip(*(paths[k] for k in keys))):
        features, best, metrics, imp, gone, results = (pd.read_parquet(p) for p in files)
        metric_names = [c for c in metrics.columns if c not in ("set", "n")]
        rows.append({**round_row(r, features["feature"].tolist(), best, metrics, gone["feature"].tolist(),
                                 metric_names, metric),
                     **search_summary(results, best, search, r)})
        importance[r] = imp
    rounds = pd.DataFrame(rows)
    if paths.get("decisions"):  # early stopping: each round's decision; the rounds after a stop did not run
        from .stopping import summary_columns

        rounds = summary_columns(rounds, [pd.read_parquet(p) for p in paths["decisions"]], planned_rounds)
    return rounds, selected_table(rounds, importance, select, metric)
