"""Hyperparameter search strategies (``hpo.search``): how a round spends its fits on the grid.

Every strategy implements :class:`~rfe_lib.search.base.SearchStrategy`. To add one, write a module beside
:mod:`rfe_lib.search.grid` and add its class to :data:`SEARCHES`.
"""

from __future__ import annotations

from .base import Rung, SearchStrategy
from .grid import GridSearch
from .halving import HalvingSearch
from .random import RandomSearch

SEARCHES: dict[str, type[SearchStrategy]] = {cls.name: cls for cls in (GridSearch, HalvingSearch, RandomSearch)}


def search_strategy(settings, plan) -> SearchStrategy:
    """The strategy that ``hpo.search`` names, for the run's grid and data (raises RFEError for bad settings)."""
    data = {"seed": settings.split.seed, "min_fit_rows": plan.min_fit_rows, "model": settings.model_spec()}
    return SEARCHES[settings.hpo.search].from_settings(settings.hpo, plan.n_configs, data)


def from_params(params: dict) -> SearchStrategy:
    """The strategy a job gets as ``params`` (:meth:`SearchStrategy.to_params`)."""
    return SEARCHES[params["name"]](**{k: v for k, v in params.items() if k != "name"})


__all__ = ["SEARCHES", "Rung", "SearchStrategy", "from_params", "search_strategy"]
