"""The user-facing tables of a run, shared by the Excel workbook and the Snakemake report (pandas only)."""

from __future__ import annotations

import json
import math

import pandas as pd

from ..selection import elimination_table
from ..vocab import config_order, importance_order, succeeded


def _joined(values) -> str:
    if values is None or (isinstance(values, float) and math.isnan(values)):
        return ""
    return ", ".join(str(v) for v in values)


def selected_round(selected: pd.DataFrame) -> int:
    return int(selected["round"].iloc[0])


def selection_warning(selected: pd.DataFrame) -> str | None:
    """The summary's warning about the selected round (``summary/selected.parquet``), or None."""
    if "warning" not in selected.columns or pd.isna(selected["warning"].iloc[0]):
        return None
    return str(selected["warning"].iloc[0])


def summary_table(rounds: pd.DataFrame, selected: pd.DataFrame) -> pd.DataFrame:
    """One row per round: ``summary/rounds.parquet`` with a ``selected`` flag, lists joined by commas, and the
    selection's ``warning`` (if any) on the selected round's row."""
    out = rounds.drop(columns=["features", "eliminated", "params"]).copy()
    is_selected = out["round"] == selected_round(selected)
    out.insert(2, "selected", is_selected)
    out["params"] = rounds["params"]
    out["eliminated"] = rounds["eliminated"].map(_joined)
    out["features"] = rounds["features"].map(_joined)
    out["warning"] = pd.array([selection_warning(selected) if s else None for s in is_selected], dtype="string")
    return out.reset_index(drop=True)


def selected_features_table(selected: pd.DataFrame, importance: pd.DataFrame) -> pd.DataFrame:
    """The selected round's features, most important first, with their importance in that round."""
    imp = importance.set_index("feature")
    out = selected[["round", "rule", "feature", "importance_mean"]].copy()
    out.insert(2, "rank", range(1, len(out) + 1))
    out["importance_std"] = [float(imp["importance_std"].get(f, math.nan)) for f in out["feature"]]
    return out.reset_index(drop=True)


def hpo_table(results: dict[int, pd.DataFrame], best: dict[int, pd.DataFrame], top: int) -> pd.DataFrame:
    """Per round and rung (the last rung first: its ranking decides), the ``top`` configurations by mean CV loss
    (failed ones excluded), ranked; ``best`` marks the round's chosen configuration (``hpo/best.parquet``), and
    ``n_failed`` counts the rung's failed configurations. A search of one rung (the grid) has rung 0 only."""
    parts = []
    for r in sorted(results):
        res = results[r]
        last = int(res["rung"].max())
        for g in range(last, -1, -1):
            here = res[res["rung"] == g]
            ok = here[succeeded(here)]
            ok = ok.iloc[config_order(ok["config_id"], ok["mean"])].head(top).copy()
            ok.insert(0, "round", r)
            ok.insert(1, "rank", range(1, len(ok) + 1))
            ok.insert(2, "best", (ok["config_id"] == int(best[r]["config_id"].iloc[0])) & (g == last))
            ok["n_failed"] = int(here["error"].notna().sum())
            parts.append(ok.drop(columns=["error"]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def importance_sheet(importance: dict[int, pd.DataFrame], eliminated: dict[int, pd.DataFrame],
                     methods: list[str] | None = None) -> pd.DataFrame:
    """Per round, every feature's importance (most important first), by the round's method (``methods``);
    ``eliminated`` marks those that left."""
    parts = []
    for r in sorted(importance):
        imp = importance[r]
        imp = imp.iloc[importance_order(imp["feature"], imp["importance_mean"])].copy()
        imp.insert(0, "round", r)
        imp.insert(1, "rank", range(1, len(imp) + 1))
        if methods is not None:
            imp.insert(2, "method", methods[r])
        gone = set(eliminated[r]["feature"]) if r in eliminated else set()
        imp["eliminated"] = imp["feature"].isin(gone)
        parts.append(imp)
    return pd.concat(parts, ignore_index=True)


def metrics_table(metrics: dict[int, pd.DataFrame], rounds: pd.DataFrame) -> pd.DataFrame:
    """Per round and set (train, val, test): every metric of ``eval/metrics.parquet``."""
    n_features = rounds.set_index("round")["n_features"]
    parts = []
    for r in sorted(metrics):
        m = metrics[r].copy()
        m.insert(0, "round", r)
        m.insert(1, "n_features", int(n_features.get(r, len(m) and math.nan)))
        parts.append(m)
    return pd.concat(parts, ignore_index=True)


def config_table(config: dict) -> pd.DataFrame:
    """The resolved configuration, one leaf per row: ``key`` (dotted path) and ``value`` (JSON)."""
    rows = []

    def walk(prefix, value):
        if isinstance(value, dict) and value:
            for k in value:
                walk(f"{prefix}.{k}" if prefix else str(k), value[k])
        else:
            rows.append({"key": prefix, "value": json.dumps(value, default=str)})

    walk("", config)
    return pd.DataFrame(rows, columns=["key", "value"])


def per_round(paths, columns=None) -> dict[int, pd.DataFrame]:
    """One table per round, read from one path per round."""
    return {r: pd.read_parquet(p, columns=columns) for r, p in enumerate(paths)}


def report_tables(inputs) -> dict[str, pd.DataFrame]:
    """The key tables of a run, for the report (as CSV) and the workbook: ``summary``, ``selected``,
    ``elimination``, ``metrics``. ``inputs`` maps ``rounds``, ``selected`` to a path and ``importance``,
    ``eliminated``, ``metrics`` to one path per round."""
    rounds = pd.read_parquet(inputs["rounds"])
    selected = pd.read_parquet(inputs["selected"])
    importance = per_round(inputs["importance"])
    eliminated = per_round(inputs["eliminated"])
    r = selected_round(selected)
    return {
        "summary": summary_table(rounds, selected),
        "selected": selected_features_table(selected, importance[r]),
        "elimination": elimination_table(eliminated, importance[max(importance)], r),
        "metrics": metrics_table(per_round(inputs["metrics"]), rounds),
    }


def write_csv(frame: pd.DataFrame, path) -> None:
    """A CSV copy of a table, written atomically (lists joined, missing values empty)."""
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
