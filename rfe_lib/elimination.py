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
