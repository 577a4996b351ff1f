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


_BUILT: dict[str, SearchStrategy] = {}


def search_strategy(settings, plan) -> SearchStrategy:
    """The strategy that ``hpo.search`` names, for the run's grid and data (``plan``: its ``n_configs`` and
    ``min_fit_rows``), after the settings' search rules (:meth:`rfe_lib.settings.Settings.check_search`; raises
    RFEError for bad settings).

    Built once per process for the same settings and plan: the workflow builds each branch's strategy once and
    passes it around, and this makes any other caller (the budget presets, which try several settings) share the
    same object, so a halving strategy imports its estimator once."""
    import json

    spec = settings.model_spec()
    key = json.dumps([settings.hpo.to_dict(), settings.split.seed, spec.to_params(), plan.n_configs,
                      plan.min_fit_rows], sort_keys=True, default=str)
    if key not in _BUILT:
        accepted = known_params(plan, spec)  # None: halving imports the estimator to read them
        settings.check_search(plan.n_configs, plan.min_fit_rows, accepted=accepted)
        data = {"seed": settings.split.seed, "min_fit_rows": plan.min_fit_rows, "model": spec, "accepted": accepted}
        _BUILT[key] = SEARCHES[settings.hpo.search].from_settings(settings.hpo, plan.n_configs, data)
    return _BUILT[key]


def known_params(plan, spec) -> dict | None:
    """The estimator's parameters and defaults from ``plan`` (:attr:`rfe_lib.plan.Plan.estimator_params`) when it
    recorded them for ``spec``'s estimator, else None."""
    recorded = getattr(plan, "estimator_params", None)
    return recorded["params"] if recorded and recorded.get("estimator") == spec.estimator else None


def from_params(params: dict) -> SearchStrategy:
    """The strategy a job gets as ``params`` (:meth:`SearchStrategy.to_params`)."""
    return SEARCHES[params["name"]](**{k: v for k, v in params.items() if k != "name"})


__all__ = ["SEARCHES", "Rung", "SearchStrategy", "from_params", "search_strategy"]
