"""Hyperparameter search strategies (``hpo.search``): how a round spends its fits on the grid.

Every strategy implements :class:`~rfe_lib.search.base.SearchStrategy`. To add one, write a module beside
:mod:`rfe_lib.search.grid` and add its class to :data:`SEARCHES`.
"""

from __future__ import annotations

from .base import Rung, SearchStrategy
from .grid import GridSearch

SEARCHES: dict[str, type[SearchStrategy]] = {cls.name: cls for cls in (GridSearch,)}


def search_strategy(hpo, n_configs: int) -> SearchStrategy:
    """The strategy that ``hpo.search`` names, for a grid of ``n_configs`` configurations."""
    return SEARCHES[hpo.search].from_settings(hpo, n_configs)


def from_params(params: dict) -> SearchStrategy:
    """The strategy a job gets as ``params`` (:meth:`SearchStrategy.to_params`)."""
    return SEARCHES[params["name"]](**{k: v for k, v in params.items() if k != "name"})


__all__ = ["SEARCHES", "Rung", "SearchStrategy", "from_params", "search_strategy"]
