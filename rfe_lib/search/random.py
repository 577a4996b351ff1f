"""Random search: ``hpo.random.n_candidates`` configurations sampled from the grid with the run's seed.

The semantics of scikit-learn's ``ParameterSampler`` when every parameter is a list: a sample without replacement of
the grid's configurations (``sample_without_replacement(grid size, n_candidates, random_state=seed)``), so the same
seed samples the same configurations. Every round that searches fully scores the same sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import RFEError
from .base import SearchStrategy


@dataclass(frozen=True)
class RandomSearch(SearchStrategy):
    name = "random"
    n_candidates: int = field(kw_only=True)

    @classmethod
    def _pool_size(cls, hpo, n_configs: int) -> int:
        return hpo.random["n_candidates"]

    @classmethod
    def from_settings(cls, hpo, n_configs: int, data: dict) -> "RandomSearch":
        n = hpo.random["n_candidates"]
        if n > n_configs:
            raise RFEError(f"hpo.random.n_candidates ({n}) is larger than the grid ({n_configs} configurations): "
                           "lower it, or use hpo.search: grid")
        if n > hpo.max_configs:
            raise RFEError(f"hpo.random.n_candidates ({n}) is above hpo.max_configs ({hpo.max_configs}): lower it, "
                           "or raise hpo.max_configs in the config file if you mean it")
        return cls(grid=hpo.grid, metric=hpo.metric, n_configs=n_configs, seed=data["seed"], n_candidates=n,
                   **cls._carry(hpo, n, data))

    def pool_len(self) -> int:
        return self.n_candidates

    def full_pool(self):
        from sklearn.utils.random import sample_without_replacement

        return sorted(int(i) for i in sample_without_replacement(self.n_configs, self.n_candidates,
                                                                  random_state=self.seed))

    def describe(self) -> str:
        return f"random ({self.n_candidates} of {self.n_configs} configurations)"
