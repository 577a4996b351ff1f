"""Elimination: the features that leave after a round, and the next round's features."""

from __future__ import annotations

from .vocab import elimination_order


def eliminate(importance, k: int):
    """The ``k`` features with the lowest mean importance (ties broken by name)."""
    order = elimination_order(importance["feature"], importance["importance_mean"])
    return importance.iloc[order[:k]][["feature", "importance_mean"]].reset_index(drop=True)


def next_features(current, eliminated) -> list[str]:
    gone = set(eliminated)
    return [f for f in current if f not in gone]


def eliminate_round(importance_shards, best, features: list[str], k: int, *, last: bool, stop=None,
                    history_paths=(), search=None) -> dict:
    """Everything a round's elimination job writes, as DataFrames keyed by output name.

    ``importance`` (the round's importance table: its shards with the search's best per-fold losses) and
    ``eliminated`` (the ``k`` least important features) always; ``next_features`` unless the round is the ``last``
    one; ``decision`` (early stopping, ``rfe.stop``) when ``stop`` is given, from the search results of every round
    so far (``history_paths``, in round order, this round's last).
    """
    import pandas as pd

    from .importance import importance_table

    imp = importance_table(pd.concat(list(importance_shards), ignore_index=True), best, features)
    gone = eliminate(imp, k)
    out = {"importance": imp, "eliminated": gone}
    if not last:
        out["next_features"] = pd.DataFrame({"feature": next_features(features, gone["feature"])})
    if stop is not None:
        from .stopping import decision, history

        out["decision"] = pd.DataFrame([decision(history(list(history_paths), search), **stop)])
    return out


def log_round(out: dict, log) -> None:
    """Log what :func:`eliminate_round` decided: the importance table, who left, the next round, the decision."""
    imp = out["importance"]
    log.info("\n%s", imp[["feature", "importance_mean", "importance_std"]].to_string(index=False))
    log.info("eliminated %d: %s", len(out["eliminated"]), ", ".join(out["eliminated"]["feature"]))
    if "next_features" in out:
        kept = out["next_features"]["feature"]
        log.info("next round: %d features: %s", len(kept), ", ".join(kept))
    if "decision" in out:
        log.info("early stopping: %s", out["decision"]["reason"].iloc[0])
