"""The exhaustive grid search: every configuration, every fold, every fitting row (the default)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import Rung, SearchStrategy


@dataclass(frozen=True)
class GridSearch(SearchStrategy):
    name = "grid"

    def rungs(self) -> list[Rung]:
        return [Rung(self.n_configs)]

    def candidates(self, rung: int, previous=None):
        return range(self.n_configs)
