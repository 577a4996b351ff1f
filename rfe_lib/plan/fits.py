"""How many fits a run makes, round by round, for the chosen search strategy and importance method, next to what
the exhaustive grid search would cost. A *fit-equivalent* is a fit weighted by its share of the full resource
(a fit on a third of the rows counts a third); the exhaustive search's fits are all full fits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoundFits:
    round: int
    n_features: int
    search: str               # hpo.search
    full_search: bool         # False: a round of hpo.carry that scores only the previous round's best
    hpo: int                  # model fits of the search
    hpo_equivalents: float    # the same, weighted by their share of the full resource
    hpo_exhaustive: int       # the exhaustive grid search's fits
    importance_method: str
    importance: int           # model fits of the importance method
    final: int = 1            # the round's model, fitted on every training row

    @property
    def total(self) -> float:
        return self.hpo_equivalents + self.importance + self.final


def round_fits(plan, settings, importance_shards: list[int], strategy=None) -> list[RoundFits]:
    """The fits of every round of ``plan`` (``importance_shards``: the importance jobs' shard count per round) with
    the search strategy ``strategy`` (the settings' own when None: :func:`rfe_lib.search.search_strategy`)."""
    from ..importance import round_methods

    if strategy is None:
        from ..search import search_strategy

        strategy = search_strategy(settings, plan)
    out = []
    for r, (n, method) in enumerate(zip(plan.schedule, round_methods(settings, plan.schedule))):
        hpo = strategy.fits(r, plan.n_folds)
        out.append(RoundFits(
            round=r, n_features=n, search=strategy.name, full_search=strategy.searches_fully(r), hpo=hpo["fits"],
            hpo_equivalents=hpo["fit_equivalents"],
            hpo_exhaustive=hpo["exhaustive"], importance_method=method.name,
            importance=method.fits(n, plan.n_folds, importance_shards[r]),
        ))
    return out


def totals(rounds: list[RoundFits]) -> dict:
    """Sums over rounds: ``hpo``, ``hpo_equivalents``, ``hpo_exhaustive``, ``importance``, ``final``, ``total``
    (fit-equivalents of everything) and ``fits`` (model fits of everything)."""
    sums = {name: sum(getattr(r, name) for r in rounds)
            for name in ("hpo", "hpo_equivalents", "hpo_exhaustive", "importance", "final")}
    sums["total"] = sums["hpo_equivalents"] + sums["importance"] + sums["final"]
    sums["fits"] = sums["hpo"] + sums["importance"] + sums["final"]
    return sums
