"""Splits that respect time and groups (issue 20): the stratified split against the time and group splits on the
bundled Bikeshare table (hourly, one year).

    python -m bench splits [--reuse]          # runs and prints the markdown table (also bench/out/splits/splits.json)

The table gets its hour of the year, ``t = (day - 1) * 24 + hour``, which orders the rows in time. Three runs of
the real workflow at ``-j 2`` (targeting the summary: every fitting job, no figures), with the same features (every
column but the target; hour, month, weekday, day and season sin/cos-encoded), model (HistGradientBoosting,
max_iter 50), grid (4 configurations), 5 folds and elimination (rfe.step 2, min_features 3):

- ``stratified``: the default split;
- ``time``: ``split.method: time`` on ``t``, blocked folds, a gap of 24 hours;
- ``group``: ``split.method: group`` on ``day`` (365 groups; ``day`` is then no feature, as a group column never is).

Per run: the selected round's CV, validation and test RMSE and its features. Then how much each run's CV loss
flatters: its selected configuration (features and parameters) refitted here with plain scikit-learn on every row
before the latest 15% of the year and scored on those latest rows (the same rows and protocol for the three runs),
against its own CV RMSE.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rfe_lib.layout import Layout

from .common import OUT, REPO, machine

SPLITS = OUT / "splits"
LATEST = 0.15
GAP = 24
MODEL = {"random_state": 0, "max_iter": 50}
GRID = {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [15, 31]}
CYCLIC = {"hour": 24, "month": 12, "weekday": 7, "day": 365, "season": 4}


def data_path() -> Path:
    import pandas as pd

    path = SPLITS / "bikeshare_t.parquet"
    if not path.is_file():
        df = pd.read_parquet(REPO / "data" / "example" / "bikeshare.parquet")
        df["t"] = (df["day"] - 1) * 24 + df["hour"]
        path.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(path, index=False)
    return path


def config(method: str) -> dict:
    split = {"test_fraction": 0.15, "val_fraction": 0.15, "folds": 5, "seed": 42}
    cyclic = dict(CYCLIC)
    drop = []
    if method == "stratified":
        split["stratify_bins"] = 10
        drop = ["t"]                      # the time column is no feature in any run
    elif method == "time":
        split.update(method="time", time_column="t", gap=GAP)
    else:
        split.update(method="group", group_column="day", stratify_bins=10)
        cyclic.pop("day")                 # the group column is no feature
        drop = ["t"]
    return {"run_name": method, "data": {"path": str(data_path()), "target": "bikers", "features": None, "drop": drop},
            "features": {"cyclic": cyclic}, "split": split,
            "model": {"estimator": "sklearn.ensemble.HistGradientBoostingRegressor", "params": MODEL},
            "hpo": {"grid": GRID, "shards": "auto"}, "rfe": {"step": 2, "min_features": 3},
            "importance": {"shards": "auto"}, "evaluation": {"tolerances": [10, 25, 50]}}


def latest_rows_rmse(run: Path, features: list, params: dict) -> tuple[float, int]:
    """The selected configuration refitted on every row before the latest 15% of the year (by ``t``) and scored
    on the latest rows, with plain scikit-learn on the run's model table."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingRegressor

    raw = pd.read_parquet(data_path())
    table = pd.read_parquet(Layout(run).file("table"))
    fmap = pd.read_parquet(Layout(run).file("feature_map"))
    cols = fmap.loc[fmap["feature"].isin(features), "column"].tolist()
    t = raw["t"].to_numpy()
    cut = np.sort(t)[len(t) - int(np.ceil(LATEST * len(t)))]
    past, latest = t < cut, t >= cut
    X, y = table[cols].to_numpy(dtype=float), raw["bikers"].to_numpy(dtype=float)
    model = HistGradientBoostingRegressor(**{**MODEL, **params}).fit(X[past], y[past])
    return float(np.sqrt(np.mean((model.predict(X[latest]) - y[latest]) ** 2))), int(latest.sum())


def measure(reuse: bool, log=print) -> dict:
    import pandas as pd

    from .budget import run_workflow

    out = {"machine": machine(), "runs": {}}
    for method in ("stratified", "time", "group"):
        workdir = SPLITS / method
        wall = run_workflow(workdir, config(method), reuse, log=log)
        run = workdir / "results" / method
        rounds = pd.read_parquet(Layout(run).file("rounds")).set_index("round")
        selected = pd.read_parquet(Layout(run).file("selected"))
        r = int(selected["round"].iloc[0])
        row = rounds.loc[r]
        params = json.loads(row["params"])
        features = selected["feature"].tolist()
        latest, n_latest = latest_rows_rmse(run, features, params)
        split = pd.read_parquet(run / "split" / "indices.parquet")
        out["runs"][method] = {
            "wall_s": wall, "round": r, "n_features": int(row["n_features"]), "features": features,
            "params": params, "cv_rmse": float(row["cv_mean"]), "cv_std": float(row["cv_std"]),
            "val_rmse": float(row["val_rmse"]), "test_rmse": float(row["test_rmse"]),
            "latest_rmse": latest, "n_latest": n_latest, "sets": split["set"].value_counts().to_dict(),
            "rounds": [{"round": int(i), "n_features": int(x["n_features"]), "cv_rmse": float(x["cv_mean"]),
                        "val_rmse": float(x["val_rmse"]), "test_rmse": float(x["test_rmse"])}
                       for i, x in rounds.iterrows()],
        }
    SPLITS.mkdir(parents=True, exist_ok=True)
    (SPLITS / "splits.json").write_text(json.dumps(out, indent=1, default=str))
    return out


def table(rec: dict) -> list[str]:
    lines = ["| split | selected round (features) | CV RMSE | validation RMSE | test RMSE | latest 15% RMSE (refit on "
             "the past) | latest − CV | wall (s) |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for method, x in rec["runs"].items():
        lines.append(f"| {method} | {x['round']} ({x['n_features']}) | {x['cv_rmse']:.1f} ± {x['cv_std']:.1f} | "
                     f"{x['val_rmse']:.1f} | {x['test_rmse']:.1f} | {x['latest_rmse']:.1f} | "
                     f"{x['latest_rmse'] - x['cv_rmse']:+.1f} | {x['wall_s']:.0f} |")
    lines += ["", "| split | selected features |", "| --- | --- |"]
    for method, x in rec["runs"].items():
        lines.append(f"| {method} | {', '.join(x['features'])} |")
    lines += ["", "| split | CV RMSE per round (features: RMSE) |", "| --- | --- |"]
    for method, x in rec["runs"].items():
        lines.append(f"| {method} | " + ", ".join(f"{r['n_features']}: {r['cv_rmse']:.1f}" for r in x["rounds"]) + " |")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench splits", description=__doc__.split("\n\n")[0])
    p.add_argument("--reuse", action="store_true", help="keep finished runs")
    args = p.parse_args(argv)
    rec = measure(args.reuse)
    lines = table(rec)
    print("\n".join(lines))
    from .report import DOC, replace_block

    m = rec["machine"]
    head = (f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores (uptime and load: {m['uptime']}), a shared, busy "
            "machine: wall times are indicative only.")
    DOC.write_text(replace_block(DOC.read_text(), "splits", [head, "", *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
