"""Successive halving within each round (Jamieson & Talwalkar 2016), in the spirit of scikit-learn's
``HalvingGridSearchCV``: rung 0 scores every configuration of the round's pool with a small resource, each rung keeps
the best ``1/factor`` of the one before (ties by config id) and gives them ``factor`` times the resource, and the last
rung scores its survivors with the full resource, on every row of every fold, exactly as the grid search does.

The resource (``hpo.halving.resource``) is ``n_samples`` (a subsample of each fold's fitting rows; the held-out rows
are always all of them) or an integer parameter of the estimator (``max_iter`` of boosting, ``n_estimators`` of a
forest, LightGBM and XGBoost, CatBoost's ``iterations``); ``auto`` picks the estimator's iteration parameter when it has one (for boosting, fewer rows hardly cost less
time), else ``n_samples``. The number of rungs is the smaller of what the pool needs (``1 + log_factor(pool)``) and
what the resource allows (``1 + log_factor(max / min_resources)``), and rung ``i`` of ``R`` gets ``factor**(i+1-R)``
of the full resource. ``min_resources: auto`` makes rung 0 meaningful: a ``factor**2``-th of the full resource, and
for rows at least 200 of them.

Halving runs only in rounds that search fully. A round of ``hpo.carry`` scores its carried pool (the previous round's
best, its grid neighbours and the next best: :func:`rfe_lib.search.base.carried_pool`) on the full resource in one
rung, as the grid search would (issue 19): the pool is already a short list of good configurations, and ranking it
after a few trees or on a few rows favours the fast learners (the largest learning rate), which drifted the
elimination path in the budget benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .base import Rung, SearchStrategy

# estimator parameters that count boosting or bagging iterations (CatBoost's number of trees is ``iterations``)
ITERATION_PARAMS = ("max_iter", "n_estimators", "iterations")
MIN_ROWS = 200  # the smallest first rung, in rows, that min_resources: auto gives


def _levels(n: float, factor: float) -> int:
    """``1 + floor(log_factor(n))`` computed without floating-point surprises (n >= 1)."""
    k = 1
    while factor ** k <= n * (1 + 1e-12):
        k += 1
    return k


@dataclass(frozen=True)
class HalvingSearch(SearchStrategy):
    name = "halving"
    factor: float = field(kw_only=True)
    resource: str = field(kw_only=True)        # "n_samples" or an estimator parameter
    max_resources: int = field(kw_only=True)   # fitting rows of the smallest fold, or the parameter's full value
    min_resources: int = field(kw_only=True)

    @classmethod
    def fields_of(cls, hpo, n_configs: int, data: dict) -> dict:
        h = hpo.halving
        factor = h["factor"]
        resource, max_res, _, _ = full_resource(hpo, data["model"], data["min_fit_rows"], data.get("accepted"))
        min_res = h["min_resources"]
        if min_res == "auto":
            min_res = max(1, math.floor(max_res / factor ** 2))
            if resource == "n_samples":
                min_res = min(max_res, max(min_res, MIN_ROWS))
        return {"factor": factor, "resource": resource, "max_resources": int(max_res), "min_resources": int(min_res)}

    def rungs_of(self, n_pool: int) -> list[Rung]:
        n_rungs = min(_levels(max(n_pool, 1), self.factor), _levels(self.max_resources / self.min_resources,
                                                                      self.factor))
        rungs = []
        for i in range(n_rungs):
            n = math.ceil(n_pool / self.factor ** i)
            share = self.factor ** (i + 1 - n_rungs)
            if self.resource == "n_samples":
                rungs.append(Rung(n, resource_fraction=share, rows=share))
            else:
                value = max(1, round(self.max_resources * share))
                rungs.append(Rung(n, resource_fraction=value / self.max_resources, params={self.resource: value}))
        return rungs

    def rungs(self, r: int) -> list[Rung]:
        """Round ``r``'s stages: halving in a round that searches fully, one full rung over a carried pool."""
        if not self.searches_fully(r):
            return [Rung(self.pool_size(r))]
        return self.rungs_of(self.pool_size(r))

    def describe(self) -> str:
        return (f"halving (factor {self.factor:g}, resource {self.resource}: {self.min_resources} to "
                f"{self.max_resources})")


def smallest_pool(hpo) -> int:
    """The smallest pool worth halving, ``hpo.halving.factor**2`` configurations (two halvings): the least that
    ``hpo.carry.top: auto`` carries, whatever the search."""
    return math.ceil(hpo.halving["factor"] ** 2)


def full_resource(hpo, spec, min_fit_rows: int, accepted: dict | None = None) -> tuple[str, object, str, dict | None]:
    """``(resource, full value, unit, accepted)`` of ``hpo.halving.resource`` for the model ``spec``: ``auto``
    resolved; the full value is the fitting rows of the smallest fold (``min_fit_rows``) for ``n_samples``, else the
    parameter's value (``model.params``, or the estimator's default; None when the estimator has no such parameter);
    ``accepted``: the estimator's parameters and defaults (None for ``n_samples``; given, as the plan records them,
    the estimator is not imported). Judged by
    :meth:`rfe_lib.settings.Settings.check`, which refuses a resource halving cannot use."""
    from ..models import estimator_defaults

    resource = hpo.halving["resource"]
    if resource != "n_samples" and accepted is None:
        accepted = estimator_defaults(spec)
    if resource == "auto":
        resource = _iteration_param(spec, accepted) or "n_samples"
    if resource == "n_samples":
        return resource, min_fit_rows, "rows (the fitting rows of the smallest fold)", None
    return resource, spec.params.get(resource, accepted.get(resource)), f"(the estimator's {resource})", accepted


def _iteration_param(spec, accepted: dict) -> str | None:
    """The estimator's parameter that counts boosting or bagging iterations (an integer: Ridge's ``max_iter``, a
    solver's limit that defaults to None, is not one)."""
    from ..boosting import library_of

    lib = library_of(spec.estimator)
    for name in (lib.trees,) if lib else ITERATION_PARAMS:
        value = spec.params.get(name, accepted.get(name))
        if name in accepted and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return name
    return None
