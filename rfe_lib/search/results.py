"""A round's search results: the shards merged, checked, ranked, and the best configuration.

Every job that needs them (the final model, the importance shards, the elimination, the next round's carried search)
merges the shards itself: a cheap read, and no merge job between a round's fitting jobs. ``hpo/results.parquet``
holds one row per configuration and rung (``rung``, ``resource_fraction``); the best configuration is the lowest
mean loss of the last rung (full resource), ties to the lowest config id.
"""

from __future__ import annotations

import json

from .. import RFEError
from ..vocab import config_order, succeeded


def merge_shards(paths):
    """All shard rows as one DataFrame, by rung then config id (Arrow concatenation, no pandas copies per shard)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(p) for p in paths])
    return table.sort_by([("rung", "ascending"), ("config_id", "ascending")]).to_pandas()


def ranking(results) -> list[int]:
    """Config ids from the best to the worst: those that reached a higher rung first, then by mean loss in it, ties
    by config id; failed configurations left out."""
    import numpy as np

    ok = results[succeeded(results)]
    if ok.empty:
        return []
    top = ok.sort_values("rung", kind="mergesort").drop_duplicates("config_id", keep="last")  # each at its last rung
    order = np.lexsort((top["config_id"].to_numpy(), top["mean"].to_numpy(dtype=float), -top["rung"].to_numpy()))
    return top["config_id"].to_numpy()[order].tolist()


def ranked(results):
    """The last rung's configurations that did not fail, best first (lowest mean loss; ties: lowest config id)."""
    ok = results[succeeded(results)]
    ok = ok[ok["rung"] == results["rung"].max()] if len(results) else ok
    return ok.iloc[config_order(ok["config_id"], ok["mean"])]


def best_config(results):
    """The row of the best configuration of the last rung; refuse if every configuration of it failed."""
    ok = ranked(results)
    if ok.empty:
        errors = results["error"].dropna()
        first = errors.iloc[0] if len(errors) else "no configurations"
        last = results["rung"].max() if len(results) else 0
        where = "" if last == 0 else " of the search's last rung"
        raise RFEError(f"every one of the {int((results['rung'] == last).sum())} hyperparameter configurations{where} "
                       f"failed; the first error was:\n{first}")
    return ok.iloc[[0]].reset_index(drop=True)


def best_params(best) -> dict:
    """The parameters of a round's best configuration (a row of ``hpo/best.parquet``)."""
    return json.loads(best.iloc[0]["params"])


def check_complete(results, search, r: int) -> None:
    """Refuse merged results that do not hold what round ``r``'s search scores: each rung's config ids once, rung 0
    the whole pool of a full search, and every later rung a subset of the one before."""
    for g in range(len(search.rungs(r))):
        ids = results.loc[results["rung"] == g, "config_id"].to_numpy()
        problem = len(set(ids.tolist())) != len(ids)
        if g == 0 and search.searches_fully(r):
            problem |= sorted(ids.tolist()) != sorted(search.full_pool())
        elif g > 0:
            before = set(results.loc[results["rung"] == g - 1, "config_id"].tolist())
            problem |= not set(ids.tolist()) <= before or len(ids) == 0
        if problem:
            raise RFEError(
                f"the HPO shards of rung {g} hold {len(ids)} rows that are not the rung's configurations: shards were "
                "cut with different shard counts; rerun with --forcerun hpo_shard"
            )


def search_results(paths, search, r: int):
    """A round's search result table (every shard of every rung merged, checked) and its best configuration's row."""
    results = merge_shards(paths)
    check_complete(results, search, r)
    return results, best_config(results)


def round_best_params(search, paths, r: int) -> dict:
    """The parameters of a round's best configuration: known without the search when it has one candidate,
    else from the round's search shards (``paths``)."""
    known = search.known_best()
    return known if known is not None else best_params(search_results(paths, search, r)[1])


def rung_candidates(search, r: int, rung: int, previous_round=None, rung_before=None) -> list[int]:
    """The config ids rung ``rung`` of round ``r`` scores: its pool (the full pool, or the best of the previous
    round's search, ``previous_round``: its shard paths), or the best of the rung before (``rung_before``)."""
    if rung > 0:
        return search.candidates(r, rung, None, merge_shards(rung_before))
    previous = merge_shards(previous_round) if previous_round else None
    return search.candidates(r, 0, search.pool(r, previous))


def grid_edges(best, grid) -> list[str]:
    """Where the best configuration sits on the edge of the grid: for each numeric grid parameter with three or more
    values whose best value is the smallest or the largest, ``"alpha = 1000 (the largest of 10, 100, 1000)"``.
    The optimum may lie outside the grid: widen it that way. (With two values every choice is an edge.)"""
    from ..grid import grid_values

    params = best_params(best)
    notes = []
    for name, values in grid_values(grid).items():
        numbers = sorted({v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)})
        if len(numbers) < 3 or name not in params or isinstance(params[name], bool):
            continue
        value = params[name]
        if value in (numbers[0], numbers[-1]):
            which = "smallest" if value == numbers[0] else "largest"
            notes.append(f"{name} = {value:g} (the {which} of {', '.join(f'{v:g}' for v in numbers)})")
    return notes


def search_summary(results, best, search, r: int) -> dict:
    """What a round's search spent and found, for ``summary/rounds.parquet``: ``full_search`` (False for a round of
    ``hpo.carry`` that scored only the previous round's best), ``hpo_configs`` (configurations scored),
    ``hpo_fits`` and ``hpo_fit_equivalents`` (fits weighted by their share of the full resource), and ``grid_edge``
    (where the best configuration sits on the edge of the grid, see :func:`grid_edges`; empty if nowhere)."""
    from ..vocab import fold_columns

    n_folds = len(fold_columns(results.columns))
    return {"full_search": bool(search.searches_fully(r)), "hpo_configs": int(results["config_id"].nunique()),
            "hpo_fits": int(len(results) * n_folds),
            "hpo_fit_equivalents": float(results["resource_fraction"].sum() * n_folds),
            "grid_edge": "; ".join(grid_edges(best, search.grid))}
