"""The exhaustive grid search: every configuration, every fold, every fitting row (the default)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import SearchStrategy


@dataclass(frozen=True)
class GridSearch(SearchStrategy):
    name = "grid"
