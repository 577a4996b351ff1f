"""The summary across rounds, and the choice of the round to use.

Every function here is a pure function of the rounds table (``summary/rounds.parquet``, one row per round that
ran): selecting among fewer rounds (a run that stopped early) needs nothing but a shorter table.

The rules (``rfe.select``):

- ``best``: the lowest mean CV loss (ties: fewer features, then the lower round).
- ``one_se``: the fewest features whose mean CV loss is within one standard error of the best round's:
  ``cv_mean <= best cv_mean + best cv_std / sqrt(K)`` (ties: lower CV mean, then the lower round).
- ``validation``: the lowest validation loss (ties: fewer features, then the lower round). The validation rows are
  never used by CV, the hyperparameter search or the elimination, so this choice is not biased by the search
  that produced the rounds; ``best`` and ``one_se`` choose by the CV loss that the elimination minimised round after
  round, which makes the chosen round's CV loss optimistic.

A round's *validation loss* (``val_loss``) is the validation-set value of ``hpo.metric`` (for ``mse``, the
validation RMSE squared); its *optimism* is ``val_loss - cv_mean``: how much better the CV loss looked than the
rows held out from every choice.
"""

from __future__ import annotations

import math

from .vocab import elimination_order, fold_columns, importance_order

SELECT_RULES = ("best", "one_se", "validation")


def validation_loss(val: dict, metric: str) -> float:
    """The validation loss named ``metric`` from a round's validation metrics (``val[name]``, as in
    ``eval/metrics.parquet``, which has ``rmse`` but no ``mse`` column)."""
    if metric == "mse":
        return float(val["rmse"]) ** 2
    return float(val[metric])


def round_row(r: int, features, best, metrics, eliminated, metric_names, metric: str) -> dict:
    """One row of ``summary/rounds.parquet``: the round's features, its best configuration and CV loss (from
    ``hpo/best.parquet``), its validation loss and optimism, and its validation and test metrics (from
    ``eval/metrics.parquet``)."""
    top = best.iloc[0]
    row = {"round": r, "n_features": len(features), "features": list(features),
           "params": top["params"], "cv_mean": float(top["mean"]),
           "cv_std": float(top["std"]), "cv_folds": len(fold_columns(best.columns))}
    by_set = metrics.set_index("set")
    held = {s: ({m: float(by_set.loc[s, m]) for m in metric_names} if s in by_set.index else None)
            for s in ("val", "test")}
    row["val_loss"] = validation_loss(held["val"], metric) if held["val"] is not None else math.nan
    row["optimism"] = row["val_loss"] - row["cv_mean"]
    for s in ("val", "test"):
        for m in metric_names:
            row[f"{s}_{m}"] = held[s][m] if held[s] is not None else math.nan
    row["eliminated"] = list(eliminated)
    return row


def select_round(rounds, rule: str) -> int:
    """The round to use under ``rule`` (see the module's docstring), from the rounds table alone."""
    if rule == "best":
        return int(rounds.sort_values(["cv_mean", "n_features", "round"], kind="mergesort").iloc[0]["round"])
    if rule == "one_se":
        best = rounds.sort_values(["cv_mean", "n_features", "round"], kind="mergesort").iloc[0]
        se = float(best["cv_std"]) / math.sqrt(float(best["cv_folds"]))
        ok = rounds[rounds["cv_mean"] <= float(best["cv_mean"]) + se]
        return int(ok.sort_values(["n_features", "cv_mean", "round"], kind="mergesort").iloc[0]["round"])
    if rule == "validation":
        return int(rounds.sort_values(["val_loss", "n_features", "round"], kind="mergesort").iloc[0]["round"])
    raise ValueError(f"rfe.select must be one of {', '.join(SELECT_RULES)}, got {rule!r}")


def selection_warning(rounds, r: int, metric: str) -> str | None:
    """A warning when round ``r``'s validation loss is worse than the first round's (all features), else None."""
    by_round = rounds.set_index("round")
    first = int(rounds["round"].min())
    if r == first:
        return None
    mine, theirs = float(by_round.loc[r, "val_loss"]), float(by_round.loc[first, "val_loss"])
    if not mine > theirs:
        return None
    name = metric.upper() if metric != "median_ae" else "median absolute error"
    return (f"the selected round's validation loss {mine:.4g} is worse than round {first}'s {theirs:.4g}: "
            f"the CV loss that chose round {r} is optimistic, since the elimination minimised that same CV loss "
            f"(validation {name}; validation minus CV loss of round {r}: {float(by_round.loc[r, 'optimism']):.4g}). "
            f"Round {first} has all {int(by_round.loc[first, 'n_features'])} features; "
            "consider rfe.select: validation.")


def selected_table(rounds, importance_by_round: dict, rule: str, metric: str):
    """``summary/selected.parquet``: one row per feature of the selected round, most important first, with the
    rule, and the :func:`selection_warning` (None when there is none) on every row."""
    import pandas as pd

    r = select_round(rounds, rule)
    imp = importance_by_round[r].set_index("feature")["importance_mean"]
    feats = rounds.set_index("round").loc[r, "features"]
    df = pd.DataFrame({"round": r, "rule": rule, "feature": list(feats)})
    df["importance_mean"] = [float(imp.get(f, math.nan)) for f in df["feature"]]
    df["warning"] = pd.array([selection_warning(rounds, r, metric)] * len(df), dtype="string")
    return df.iloc[importance_order(df["feature"], df["importance_mean"])].reset_index(drop=True)


def elimination_table(eliminated: dict, last_importance, selected_round_: int | None = None):
    """One row per feature of round 0, in the order they left: ``order``, ``feature``, ``round`` (the round after
    which it left; empty for the features kept to the last round), ``importance_mean`` (its importance in that
    round, or in the last round) and, given the selected round, ``in_selected``. The report's table and the
    elimination-order figure both show it; it lives here so that the figures never import the report."""
    import pandas as pd

    rows = []
    for r in sorted(eliminated):
        gone = eliminated[r]
        gone = gone.iloc[elimination_order(gone["feature"], gone["importance_mean"])]
        rows += [{"feature": f, "round": r, "importance_mean": float(v)}
                 for f, v in zip(gone["feature"], gone["importance_mean"])]
    left = {row["feature"] for row in rows}
    last = last_importance.iloc[elimination_order(last_importance["feature"], last_importance["importance_mean"])]
    rows += [{"feature": f, "round": None, "importance_mean": float(v)}
             for f, v in zip(last["feature"], last["importance_mean"]) if f not in left]
    table = pd.DataFrame(rows, columns=["feature", "round", "importance_mean"])
    table["round"] = table["round"].astype("Int64")
    table.insert(0, "order", range(1, len(table) + 1))
    if selected_round_ is not None:
        table["in_selected"] = [bool(pd.isna(r) or int(r) >= selected_round_) for r in table["round"]]
    return table
