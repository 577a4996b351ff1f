"""The summary across rounds, and the choice of the round to use."""

from __future__ import annotations

import math

from .vocab import fold_columns, importance_order

SELECT_RULES = ("best", "one_se")


def round_row(r: int, features, best, metrics, eliminated, metric_names) -> dict:
    """One row of ``summary/rounds.parquet``."""
    row = {"round": r, "n_features": len(features), "features": list(features),
           "params": best.iloc[0]["params"], "cv_mean": float(best.iloc[0]["mean"]),
           "cv_std": float(best.iloc[0]["std"]), "cv_folds": len(fold_columns(best.columns))}
    by_set = metrics.set_index("set")
    for s in ("val", "test"):
        for m in metric_names:
            row[f"{s}_{m}"] = float(by_set.loc[s, m]) if s in by_set.index else math.nan
    row["eliminated"] = list(eliminated)
    return row


def select_round(rounds, rule: str) -> int:
    """The round to use: ``best`` = lowest CV mean (ties: fewer features); ``one_se`` = fewest
    features whose CV mean is within one standard error (std / sqrt(K)) of the best."""
    ordered = rounds.sort_values(["cv_mean", "n_features", "round"], kind="mergesort")
    best = ordered.iloc[0]
    if rule == "best":
        return int(best["round"])
    if rule == "one_se":
        se = float(best["cv_std"]) / math.sqrt(float(best["cv_folds"]))
        ok = rounds[rounds["cv_mean"] <= float(best["cv_mean"]) + se]
        return int(ok.sort_values(["n_features", "cv_mean", "round"], kind="mergesort").iloc[0]["round"])
    raise ValueError(f"rfe.select must be one of {', '.join(SELECT_RULES)}, got {rule!r}")


def selected_table(rounds, importance_by_round: dict, rule: str):
    import pandas as pd

    r = select_round(rounds, rule)
    imp = importance_by_round[r].set_index("feature")["importance_mean"]
    feats = rounds.set_index("round").loc[r, "features"]
    df = pd.DataFrame({"round": r, "rule": rule, "feature": list(feats)})
    df["importance_mean"] = [float(imp.get(f, math.nan)) for f in df["feature"]]
    return df.iloc[importance_order(df["feature"], df["importance_mean"])].reset_index(drop=True)
