"""The user-facing tables of a run (shared by the Excel workbook and the Snakemake report) and the report's
workflow description.

Every table is built from the Parquet artifacts alone, with the artifacts' own column names, so a value in
``report.xlsx`` or in a report CSV can be checked against the Parquet file it came from. This module needs
pandas only.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd

from .metrics import tolerance_column

PACKAGES = ("snakemake", "rfe-pipeline", "numpy", "pandas", "pyarrow", "scikit-learn", "joblib", "matplotlib",
            "openpyxl", "pyyaml", "jinja2")


def _joined(values) -> str:
    if values is None or (isinstance(values, float) and math.isnan(values)):
        return ""
    return ", ".join(str(v) for v in values)


def _fold_columns(frame: pd.DataFrame) -> list[str]:
    return sorted((c for c in frame.columns if c.startswith("fold_")), key=lambda c: int(c.split("_")[1]))


def selected_round(selected: pd.DataFrame) -> int:
    return int(selected["round"].iloc[0])


# ---------------------------------------------------------------------------------------------- tables

def summary_table(rounds: pd.DataFrame, selected: pd.DataFrame) -> pd.DataFrame:
    """One row per round: ``summary/rounds.parquet`` with a ``selected`` flag, lists joined by commas."""
    out = rounds.drop(columns=["features", "eliminated", "params"]).copy()
    out.insert(2, "selected", out["round"] == selected_round(selected))
    out["params"] = rounds["params"]
    out["eliminated"] = rounds["eliminated"].map(_joined)
    out["features"] = rounds["features"].map(_joined)
    return out.reset_index(drop=True)


def selected_features_table(selected: pd.DataFrame, importance: pd.DataFrame) -> pd.DataFrame:
    """The selected round's features, most important first, with their LOFO importance in that round."""
    imp = importance.set_index("feature")
    out = selected[["round", "rule", "feature", "importance_mean"]].copy()
    out.insert(2, "rank", range(1, len(out) + 1))
    out["importance_std"] = [float(imp["importance_std"].get(f, math.nan)) for f in out["feature"]]
    return out.reset_index(drop=True)


def elimination_table(eliminated: dict[int, pd.DataFrame], last_importance: pd.DataFrame,
                      selected_round_: int | None = None) -> pd.DataFrame:
    """One row per feature of round 0, in the order they left: ``order``, ``feature``, ``round`` (the round after
    which it left; empty for the features kept to the last round), ``importance_mean`` (its LOFO importance in that
    round, or in the last round) and, given the selected round, ``in_selected``."""
    rows = []
    for r in sorted(eliminated):
        gone = eliminated[r].sort_values(["importance_mean", "feature"], kind="mergesort")
        rows += [{"feature": f, "round": r, "importance_mean": float(v)}
                 for f, v in zip(gone["feature"], gone["importance_mean"])]
    left = {row["feature"] for row in rows}
    last = last_importance.sort_values(["importance_mean", "feature"], kind="mergesort")
    rows += [{"feature": f, "round": None, "importance_mean": float(v)}
             for f, v in zip(last["feature"], last["importance_mean"]) if f not in left]
    table = pd.DataFrame(rows, columns=["feature", "round", "importance_mean"])
    table["round"] = table["round"].astype("Int64")
    table.insert(0, "order", range(1, len(table) + 1))
    if selected_round_ is not None:
        table["in_selected"] = [bool(pd.isna(r) or int(r) >= selected_round_) for r in table["round"]]
    return table


def hpo_table(results: dict[int, pd.DataFrame], best: dict[int, pd.DataFrame], top: int) -> pd.DataFrame:
    """Per round, the ``top`` configurations by mean CV loss (failed ones excluded), ranked; ``best`` marks the
    round's chosen configuration (``hpo/best.parquet``)."""
    parts = []
    for r in sorted(results):
        res = results[r]
        ok = res[res["error"].isna() & res["mean"].notna()]
        ok = ok.sort_values(["mean", "config_id"], kind="mergesort").head(top).copy()
        ok.insert(0, "round", r)
        ok.insert(1, "rank", range(1, len(ok) + 1))
        ok.insert(2, "best", ok["config_id"] == int(best[r]["config_id"].iloc[0]))
        ok["n_failed"] = int(res["error"].notna().sum())
        parts.append(ok.drop(columns=["error"]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def lofo_table(importance: dict[int, pd.DataFrame], eliminated: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Per round, every feature's LOFO importance (most important first); ``eliminated`` marks those that left."""
    parts = []
    for r in sorted(importance):
        imp = importance[r].sort_values(["importance_mean", "feature"], ascending=[False, True], kind="mergesort")
        imp = imp.copy()
        imp.insert(0, "round", r)
        imp.insert(1, "rank", range(1, len(imp) + 1))
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


# ------------------------------------------------------------------------------------------ provenance

def sha256_of(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def git_commit(directory) -> str | None:
    """``git rev-parse HEAD`` of ``directory`` (with ``+ uncommitted changes`` if the tree is dirty); None
    when it is not a git checkout or git is missing."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head} + uncommitted changes" if dirty else head


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Installed versions (without importing the packages), or a note when one is not installed here."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed in this job's environment"
    return out


def run_start(run_dir) -> float | None:
    """When the run started, as a timestamp: the earliest modification time of its log and benchmark files
    and of ``data/validation.parquet`` (written by the first job). A log is rewritten when its job reruns, so
    after a partial rerun this is the start of the oldest work still in the results."""
    run_dir = Path(run_dir)
    candidates = [run_dir / "data" / "validation.parquet"]
    for sub in ("logs", "benchmarks"):
        if (run_dir / sub).is_dir():
            candidates += [p for p in (run_dir / sub).rglob("*") if p.is_file()]
    times = [p.stat().st_mtime for p in candidates if p.exists()]
    return min(times) if times else None


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return _dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def provenance_table(*, run_dir, data_path, workflow_dir, end: float | None = None) -> pd.DataFrame:
    """``item``, ``value``, ``note`` rows: input checksum, code version, times, platform, package versions."""
    import time

    end = time.time() if end is None else end
    start = run_start(run_dir)
    duration = ""
    if start is not None:
        seconds = int(round(end - start))
        duration = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    rows = [
        ("input file", str(data_path), "data.path of the configuration"),
        ("input sha256", sha256_of(data_path), "checksum of the input file's bytes"),
        ("input bytes", str(os.path.getsize(data_path)), ""),
        ("workflow commit", git_commit(workflow_dir) or "not a git checkout",
         "git rev-parse HEAD of the workflow directory"),
        ("started", _iso(start), "earliest log/benchmark file of the run, or data/validation.parquet"),
        ("finished", _iso(end), "when this workbook was written (the last step of the run)"),
        ("duration", duration, "finished - started (h:mm:ss)"),
        ("platform", platform.platform(), ""),
        ("python executable", sys.executable, "the environment of the workbook job"),
    ]
    rows += [(f"version: {name}", v, "") for name, v in package_versions().items()]
    return pd.DataFrame(rows, columns=["item", "value", "note"])


# ----------------------------------------------------------------------------------- report description

def description_context(run_dir, config: dict, plan=None) -> dict:
    """What the report's workflow description says: the run, and (once the run has finished) the selected
    round, its features and its validation and test metrics."""
    run_dir = Path(run_dir)
    ctx = {"run_name": config["run_name"], "target": config["data"]["target"],
           "estimator": config["model"]["estimator"].rpartition(".")[2], "metric": config["hpo"]["metric"],
           "folds": config["split"]["folds"], "select": config["rfe"]["select"],
           "tolerances": config["evaluation"]["tolerances"], "selected": None}
    if plan is not None:
        ctx.update(n_rows=plan.n_rows, n_rounds=plan.n_rounds, schedule=list(plan.schedule),
                   n_configs=plan.n_configs)
    sel_path, rounds_path = run_dir / "summary" / "selected.parquet", run_dir / "summary" / "rounds.parquet"
    if not (sel_path.is_file() and rounds_path.is_file()):
        return ctx
    selected = pd.read_parquet(sel_path)
    rounds = pd.read_parquet(rounds_path).set_index("round")
    r = selected_round(selected)
    row = rounds.loc[r]

    def metrics_of(s):
        names = ["rmse", "mae", "r2", "bias", "median_ae", "p90_ae", "p95_ae"]
        names += [tolerance_column(t) for t in config["evaluation"]["tolerances"]]
        return {m: float(row[f"{s}_{m}"]) for m in names if f"{s}_{m}" in row.index}

    ctx["selected"] = {
        "round": r, "rule": str(selected["rule"].iloc[0]), "n_features": int(row["n_features"]),
        "features": [{"name": str(f), "importance": float(v)}
                     for f, v in zip(selected["feature"], selected["importance_mean"])],
        "cv_mean": float(row["cv_mean"]), "cv_std": float(row["cv_std"]), "params": json.loads(row["params"]),
        "val": metrics_of("val"), "test": metrics_of("test"), "n_rounds": len(rounds),
    }
    return ctx


def render_description(template_path, context: dict) -> str:
    """Render the description template (Jinja2) to reStructuredText.

    Snakemake renders the result once more with Jinja2 at ``--report`` time, so it is wrapped in a raw
    block: nothing taken from the data (a feature name with braces) can be read as a template.
    """
    import jinja2

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["pct"] = lambda v: "–" if v is None or math.isnan(v) else f"{100 * v:.1f}%"
    text = env.from_string(Path(template_path).read_text()).render(**context)
    return "{% raw %}\n" + text.replace("{% endraw %}", "{ % endraw % }") + "\n{% endraw %}\n"


def _num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}" if abs(value) < 1e6 else f"{value:.3e}"


def write_description(template_path, out_path, run_dir, config: dict, plan=None) -> str:
    """Render the description to ``out_path`` (only rewritten when it changes); return its absolute path."""
    from .io import write_text

    text = render_description(template_path, description_context(run_dir, config, plan))
    out = Path(out_path).resolve()
    if not out.is_file() or out.read_text() != text:
        write_text(text, out)
    return str(out)


# ------------------------------------------------------------------------------------- whole-run tables

def _per_round(paths, columns=None) -> dict[int, pd.DataFrame]:
    return {r: pd.read_parquet(p, columns=columns) for r, p in enumerate(paths)}


def report_tables(inputs) -> dict[str, pd.DataFrame]:
    """The key tables of a run, for the report (as CSV) and the workbook: ``summary``, ``selected``,
    ``elimination``, ``metrics``. ``inputs`` maps ``rounds``, ``selected`` to a path and ``importance``,
    ``eliminated``, ``metrics`` to one path per round."""
    rounds = pd.read_parquet(inputs["rounds"])
    selected = pd.read_parquet(inputs["selected"])
    importance = _per_round(inputs["importance"])
    eliminated = _per_round(inputs["eliminated"])
    r = selected_round(selected)
    return {
        "summary": summary_table(rounds, selected),
        "selected": selected_features_table(selected, importance[r]),
        "elimination": elimination_table(eliminated, importance[max(importance)], r),
        "metrics": metrics_table(_per_round(inputs["metrics"]), rounds),
    }


def workbook_sheets(inputs, *, config: dict, top_configs: int, with_predictions: bool, run_dir,
                    workflow_dir) -> dict[str, pd.DataFrame]:
    """Every sheet of ``report.xlsx``, in order. ``inputs`` as for :func:`report_tables`, plus ``best`` and
    ``results`` (one path per round), ``validation``, ``data`` (the input file) and, with ``with_predictions``,
    ``predictions`` (one path per round; the selected round's go into a Predictions sheet)."""
    tables = report_tables(inputs)
    selected = pd.read_parquet(inputs["selected"])
    r = selected_round(selected)
    sheets = {
        "Summary": tables["summary"],
        "Selected": tables["selected"],
        "Elimination": tables["elimination"],
        "HPO": hpo_table(_per_round(inputs["results"]), _per_round(inputs["best"]), top_configs),
        "LOFO": lofo_table(_per_round(inputs["importance"]), _per_round(inputs["eliminated"])),
        "Metrics": tables["metrics"],
        "Config": config_table(config),
        "Provenance": provenance_table(run_dir=run_dir, data_path=inputs["data"], workflow_dir=workflow_dir),
        "Validation": pd.read_parquet(inputs["validation"]),
    }
    if with_predictions:
        pred = pd.read_parquet(inputs["predictions"][r])
        pred.insert(0, "round", r)
        sheets["Predictions"] = pred
    return sheets


def write_csv(frame: pd.DataFrame, path) -> None:
    """A CSV copy of a table, written atomically (lists joined, missing values empty)."""
    from .io import atomic_path

    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
