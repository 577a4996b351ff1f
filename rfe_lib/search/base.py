"""The search-strategy interface: the rungs of a round's search, which configurations each scores, and carrying the
ranking from round to round.

A round's search is one or more *rungs*. Rung 0 scores the round's *pool* of configurations; each later rung scores
the best of the rung before (successive halving); the last rung scores its candidates with the full resource
(every fitting row of every fold, the estimator as configured), exactly as the grid search does, so the best
configuration's per-fold losses are valid for the importance jobs. With ``hpo.carry``, a round that does not search
fully takes as its pool ``top`` configurations, whatever the strategy: the previous round's best, its neighbours on
the grid, then the rest of the previous round's ranking (:func:`carried_pool`).

A strategy is built once when the workflow is parsed (:func:`rfe_lib.search.search_strategy`, after
:meth:`rfe_lib.settings.Settings.check_search` has refused bad settings with a message naming the keys; then
:meth:`SearchStrategy.from_settings`) and passed to what needs it; its jobs get it as
:meth:`SearchStrategy.to_params` (exactly what decides their results, so Snakemake reruns them when it changes). The
rules, the plan and the reports use only this interface. The pool size has one definition, :meth:`pool_len`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

from .. import RFEError


@dataclass(frozen=True)
class Rung:
    """One stage of a round's search: how many configurations it scores, and with what share of the full resource
    (``resource_fraction``; 1.0 is a full fit). A rung spends its resource as a subsample of each fold's fitting
    rows (``rows``, a fraction) or as smaller values of estimator parameters (``params``, e.g. ``max_iter``)."""

    n_candidates: int
    resource_fraction: float = 1.0
    rows: float = 1.0
    params: dict = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return self.resource_fraction >= 1.0


@dataclass(frozen=True)
class SearchStrategy:
    """How a round's hyperparameter search spends its fits (see the module's docstring).

    Subclasses set :attr:`name` (the value of ``hpo.search``), add their settings as fields (their values from
    :meth:`fields_of`) and may override :meth:`pool_len` (how many configurations a full search considers: the one
    definition of the pool size), :meth:`full_pool` (which ones) and :meth:`rungs_of` (the stages of a search over a
    pool of a given size).
    """

    name: ClassVar[str]
    grid: Any                      # the grid spec (hpo.grid)
    metric: str                    # the CV loss (hpo.metric)
    n_configs: int                 # configurations in the grid
    seed: int                      # split.seed: random samples of configurations and of rows
    carry_top: int | None          # hpo.carry.top, resolved; None: every round searches fully
    carry_refresh: int             # hpo.carry.refresh: a full search every this many rounds (0: round 0 only)

    @classmethod
    def from_settings(cls, hpo, n_configs: int, data: dict) -> "SearchStrategy":
        """The strategy of the settings ``hpo``, for a grid of ``n_configs`` configurations; ``data`` holds what a
        strategy may need to know of the run (``seed``, ``min_fit_rows``, ``model``: the ModelSpec). The settings
        are those :meth:`rfe_lib.settings.Settings.check` accepted: a strategy resolves them, it does not judge them.
        Subclasses give their own fields in :meth:`fields_of`; the carry is resolved here, from :meth:`pool_len`."""
        strategy = cls(grid=hpo.grid, metric=hpo.metric, n_configs=n_configs, seed=data["seed"], carry_top=None,
                       carry_refresh=0, **cls.fields_of(hpo, n_configs, data))
        return strategy._carrying(hpo)

    @classmethod
    def fields_of(cls, hpo, n_configs: int, data: dict) -> dict:
        """The values of the subclass's own fields, from the settings (none for the grid search)."""
        return {}

    def _carrying(self, hpo) -> "SearchStrategy":
        """This strategy with ``hpo.carry`` resolved against its pool (:meth:`pool_len`)."""
        carry = hpo.carry
        if carry is None:
            return self
        pool = self.pool_len()
        top = carry["top"]
        if top == "auto":  # 10% of a full search, but at least the smallest pool worth halving
            from .halving import smallest_pool

            top = max(math.ceil(0.1 * pool), smallest_pool(hpo))
        elif top > pool:
            raise RFEError(f"hpo.carry.top ({top}) is larger than the {pool} configurations a full search scores: "
                           "lower it, or leave hpo.carry out to search fully every round")
        return replace(self, carry_top=min(top, pool), carry_refresh=carry["refresh"])

    def to_params(self) -> dict:
        return {"name": self.name, **asdict(self)}

    # ------------------------------------------------------------------------------------ what a strategy says

    def pool_len(self) -> int:
        """How many configurations a full search considers: THE pool size, its one definition (the whole grid by
        default). :meth:`full_pool`, the rungs, the fit counts, ``hpo.carry`` and the ``hpo.max_configs`` check all
        read it, so a strategy that changes its pool overrides this (and :meth:`full_pool` only to say which ids)."""
        return self.n_configs

    def full_pool(self):
        """The config ids a full search considers, in the order they are sharded: :meth:`pool_len` of them (the
        first ones of the grid by default)."""
        return range(self.pool_len())

    def _full_pool(self) -> list[int]:
        """:meth:`full_pool`, checked against :meth:`pool_len` (a strategy that overrides one must keep the other)."""
        ids = list(self.full_pool())
        if len(ids) != self.pool_len():
            raise RFEError(f"search strategy {self.name}: full_pool() gives {len(ids)} configurations but pool_len() "
                           f"says {self.pool_len()}; full_pool must give pool_len() ids")
        return ids

    def rungs_of(self, n_pool: int) -> list[Rung]:
        """The stages of a search over ``n_pool`` configurations (one full rung by default)."""
        return [Rung(n_pool)]

    # ---------------------------------------------------------------------------- rounds, pools and candidates

    def searches_fully(self, r: int) -> bool:
        """Whether round ``r`` searches its full pool (always without carry, and in round 0)."""
        return self.carry_top is None or r == 0 or (self.carry_refresh > 0 and r % self.carry_refresh == 0)

    def pool_size(self, r: int) -> int:
        full = self.pool_len()
        return full if self.searches_fully(r) else min(self.carry_top, full)

    def rungs(self, r: int) -> list[Rung]:
        """The stages of round ``r``'s search, fixed when the workflow is parsed."""
        return self.rungs_of(self.pool_size(r))

    def pool(self, r: int, previous_round=None) -> list[int]:
        """Round ``r``'s pool: the full pool, or (carried) :func:`carried_pool` of the previous round's results."""
        if self.searches_fully(r):
            return self._full_pool()
        from .results import ranking

        return carried_pool(ranking(previous_round), self.grid, self.pool_size(r),
                            scored=set(previous_round["config_id"]))

    def candidates(self, r: int, rung: int, pool, previous_rung=None) -> list[int]:
        """Config ids that rung ``rung`` of round ``r`` scores: the pool, then the best of each rung before."""
        if rung == 0:
            return list(pool)
        from .results import ranking

        return sorted(ranking(previous_rung)[: self.rungs(r)[rung].n_candidates])

    def known_best(self) -> dict | None:
        """The best configuration's parameters when the search cannot but choose it (one configuration to choose
        from), else None. Jobs that only need the best parameters then need not wait for the search."""
        if self.pool_len() == 1:
            from ..grid import Grid

            return Grid(self.grid)[self._full_pool()[0]]
        return None

    def fits(self, r: int, n_folds: int) -> dict:
        """Fits of round ``r``: ``fits`` (model fits made), ``fit_equivalents`` (fits weighted by their share of
        the full resource) and ``exhaustive`` (what the whole grid on every row costs)."""
        rungs = self.rungs(r)
        return {"fits": sum(g.n_candidates for g in rungs) * n_folds,
                "fit_equivalents": sum(g.n_candidates * g.resource_fraction for g in rungs) * n_folds,
                "exhaustive": self.n_configs * n_folds}

    def describe(self) -> str:
        """What the strategy does, in a few words (the printed plan)."""
        return self.name


def carried_pool(ranked: list[int], grid, size: int, scored=()) -> list[int]:
    """The pool of a carried round (``hpo.carry``), ``size`` configurations: the previous round's best, then its
    neighbours on the grid (:func:`rfe_lib.grid.grid_neighbors`: one value up or down of one parameter), then the
    rest of the previous round's ranking ``ranked``; each once, none that the previous round scored and saw fail
    (``scored``: the ids it scored; those missing from ``ranked`` failed).

    Why the neighbours: the best configuration moves as features are dropped (fewer columns want other leaves or
    regularization), and a pool that only repeats the last ranking cannot follow it: on chem_proc_yield the carried
    rounds of halving + carry missed the whole grid's best by 4.5% in one round, and by at most 1.1% with the
    neighbours in the same number of fits (docs/benchmarks.md, issue 19)."""
    from ..grid import grid_neighbors

    if not ranked:
        return []
    failed = set(scored) - set(ranked)
    pool: list[int] = []
    for config_id in (ranked[0], *grid_neighbors(grid, ranked[0]), *ranked[1:]):
        if len(pool) == size:
            break
        if config_id not in pool and config_id not in failed:
            pool.append(config_id)
    return pool
