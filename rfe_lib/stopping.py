"""Early stopping (``rfe.stop``): stop eliminating when the CV loss has stayed more than ``tolerance`` standard errors
above the best round so far for ``patience`` rounds in a row.

The standard error is the best round's ``std / sqrt(K)`` (as for ``rfe.select: one_se``). The decision is taken by
the elimination job of each round, from the search results of every round so far, and written to
``round_<r>/stop.parquet``; the workflow then adds the next round's jobs only if the run goes on (each elimination is a
Snakemake checkpoint), so no fit is made after a stop, and the summary, figures, workbook and report consider only the
rounds that ran.
"""

from __future__ import annotations

import math

COLUMNS = ["round", "stop", "best_round", "rounds_above", "reason"]


def decision(history, patience: int, tolerance: float) -> dict:
    """Whether to stop after the last round of ``history`` (one ``(cv_mean, cv_std, n_folds)`` per round so far,
    in round order), with the best round so far, how many rounds in a row ended above it, and why, in words."""
    r = len(history) - 1
    above = 0
    best = 0
    for i, (mean, _, _) in enumerate(history):
        if mean < history[best][0]:
            best = i
        b_mean, b_std, b_folds = history[best]
        limit = b_mean + tolerance * b_std / math.sqrt(b_folds)
        above = above + 1 if mean > limit else 0
    stop = above >= patience
    b_mean, b_std, b_folds = history[best]
    limit = b_mean + tolerance * b_std / math.sqrt(b_folds)
    if stop:
        reason = (f"the CV loss stayed above round {best}'s {b_mean:.6g} + {tolerance:g} standard error "
                  f"({limit:.6g}) for {above} rounds in a row (rounds {r - above + 1}-{r}; rfe.stop.patience: "
                  f"{patience})")
    else:
        reason = (f"{above} of {patience} rounds in a row above round {best}'s CV loss + {tolerance:g} standard error "
                  f"({limit:.6g})")
    return {"round": r, "stop": stop, "best_round": best, "rounds_above": above, "reason": reason}


def stopped(path) -> bool:
    """Whether the decision file ``round_<r>/stop.parquet`` says to stop."""
    import pyarrow.parquet as pq

    return bool(pq.read_table(path, columns=["stop"]).column(0)[0].as_py())


def history(paths, search) -> list[tuple[float, float, int]]:
    """``(cv_mean, cv_std, n_folds)`` of the best configuration of every round whose search shards are ``paths``."""
    from .layout import round_of
    from .search.results import search_results
    from .vocab import fold_columns

    by_round: dict[int, list] = {}
    for path in paths:
        by_round.setdefault(round_of(path), []).append(path)
    out = []
    for r in sorted(by_round):
        _, best = search_results(by_round[r], search, r)
        out.append((float(best.at[0, "mean"]), float(best.at[0, "std"]), len(fold_columns(best.columns))))
    return out


def summary_columns(rounds, decisions, planned: int):
    """``summary/rounds.parquet`` with each round's early-stopping check (``stop_check``) and, on the round after
    which the run stopped, ``stopped_early`` and a ``stop_reason`` that says which rounds did not run."""
    import pandas as pd

    verdicts = pd.concat(decisions, ignore_index=True).set_index("round")
    rounds = rounds.copy()
    rounds["stop_check"] = [verdicts.at[r, "reason"] for r in rounds["round"]]
    rounds["stopped_early"] = [bool(verdicts.at[r, "stop"]) for r in rounds["round"]]
    last = int(rounds["round"].max())
    rounds["stop_reason"] = ""
    if rounds["stopped_early"].any() and last + 1 < planned:
        rounds.loc[rounds["round"] == last, "stop_reason"] = (
            f"stopped early after round {last}: {verdicts.at[last, 'reason']}; rounds {last + 1}-{planned - 1} of the "
            f"{planned} planned did not run")
    return rounds
