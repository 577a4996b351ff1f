"""Random search: ``hpo.random.n_candidates`` configurations sampled from the grid with the run's seed.

The semantics of scikit-learn's ``ParameterSampler`` when every parameter is a list: a sample without replacement of
the grid's configurations (``sample_without_replacement(grid size, n_candidates, random_state=seed)``), so the same
seed samples the same configurations. Every round that searches fully scores the same sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import SearchStrategy


@dataclass(frozen=True)
class RandomSearch(SearchStrategy):
    name = "random"
    n_candidates: int = field(kw_only=True)

    @classmethod
    def fields_of(cls, hpo, n_configs: int, data: dict) -> dict:
        return {"n_candidates": hpo.random["n_candidates"]}

    def pool_len(self) -> int:
        return self.n_candidates

    def full_pool(self):
        from sklearn.utils.random import sample_without_replacement

        return sorted(int(i) for i in sample_without_replacement(self.n_configs, self.pool_len(),
                                                                  random_state=self.seed))

    def describe(self) -> str:
        return f"random ({self.n_candidates} of {self.n_configs} configurations)"
