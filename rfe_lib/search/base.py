"""What every search strategy shares: scoring a shard of configurations with K-fold CV, the result table, the
merge of shards and the choice of the best configuration.

A shard streams: it takes one batch of configurations at a time from the lazy grid, scores them fold by fold,
and appends their rows to a Parquet writer that flushes every batch, so its memory does not grow with the grid.
A configuration that raises is recorded with its error.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from .. import RFEError
from ..grid import Grid, param_cell, param_types, params_json
from ..models import ModelSpec, build_model
from ..schedule import shard_items
from ..vocab import config_order, fold_column


@dataclass(frozen=True)
class Rung:
    """One stage of a round's search: how many configurations it scores, and with what share of the full
    resource (1.0: every fitting row of every fold, the estimator as configured)."""

    n_candidates: int
    resource_fraction: float = 1.0


@dataclass(frozen=True)
class SearchStrategy:
    """How a round's hyperparameter search spends its fits. A strategy is built from the settings and the grid
    size when the workflow is parsed (:meth:`from_settings`); its jobs get it as :meth:`to_params` (exactly what
    decides their results, so Snakemake reruns them when it changes). The rules, the plan and the reports use
    only this interface.

    Subclasses set :attr:`name` (the value of ``hpo.search``), add their own settings as fields, and implement
    :meth:`rungs` and :meth:`candidates`.
    """

    name: ClassVar[str]
    grid: Any          # the grid spec (hpo.grid)
    metric: str        # the CV loss (hpo.metric)
    n_configs: int     # configurations in the grid

    @classmethod
    def from_settings(cls, hpo, n_configs: int) -> "SearchStrategy":
        return cls(grid=hpo.grid, metric=hpo.metric, n_configs=n_configs)

    def to_params(self) -> dict:
        return {"name": self.name, **asdict(self)}

    def rungs(self) -> list[Rung]:
        """The stages of a round's search, fixed when the workflow is parsed."""
        raise NotImplementedError

    def candidates(self, rung: int, previous=None):
        """Config ids scored in ``rung`` (in the order they are sharded); ``previous`` is the result table of the
        rung before (None for rung 0)."""
        raise NotImplementedError

    def known_best(self) -> dict | None:
        """The best configuration's parameters when the search cannot but choose it (one configuration to choose
        from), else None. Jobs that only need the best parameters then need not wait for the search."""
        if self.n_configs == 1:
            return Grid(self.grid)[0]
        return None

    def fits(self, n_folds: int) -> dict:
        """Fits of one round: ``fits`` (model fits made), ``fit_equivalents`` (fits weighted by their share of
        the full resource) and ``exhaustive`` (what the whole grid on every row costs)."""
        rungs = self.rungs()
        return {"fits": sum(r.n_candidates for r in rungs) * n_folds,
                "fit_equivalents": sum(r.n_candidates * r.resource_fraction for r in rungs) * n_folds,
                "exhaustive": self.n_configs * n_folds}


def result_schema(grid, n_folds: int):
    import pyarrow as pa

    fields = [pa.field("config_id", pa.int64()), pa.field("params", pa.string())]
    fields += [pa.field(f"param_{k}", t) for k, t in param_types(grid).items()]
    fields += [pa.field(fold_column(k), pa.float64()) for k in range(n_folds)]
    fields += [pa.field(n, pa.float64()) for n in ("mean", "std", "fit_seconds")]
    fields.append(pa.field("error", pa.string()))
    return pa.schema(fields)


def fold_stats(losses) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of per-fold losses."""
    n = len(losses)
    mean = sum(losses) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in losses) / (n - 1)) if n > 1 else 0.0
    return mean, std


def _error_text(exc) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]


def score_batch(batch, data, spec: ModelSpec, metric, types) -> list[dict]:
    """Result rows of ``batch`` (a list of ``(config_id, params)``), scored fold by fold.

    The training rows are rearranged for a fold once per batch, not once per configuration (see
    :mod:`rfe_lib.cv`). A configuration that raises (or gives a non-finite loss) is recorded with its
    error and skipped in the remaining folds.
    """
    from ..cv import fold_loss

    n_folds = len(data.folds)
    losses = [[] for _ in batch]
    seconds = [0.0] * len(batch)
    errors: list = [None] * len(batch)
    try:
        for k in range(n_folds):
            for i, (_, params) in enumerate(batch):
                if errors[i] is not None:
                    continue
                t0 = time.perf_counter()
                try:
                    value, s = fold_loss(lambda: build_model(spec, params), data, k, metric, spec.angle_unit)
                    if not math.isfinite(value):
                        raise ValueError(f"non-finite CV loss {losses[i] + [value]}")
                    losses[i].append(value)
                    seconds[i] += s
                except Exception as exc:  # noqa: BLE001 - a failing configuration is recorded, not fatal
                    errors[i] = _error_text(exc)
                    seconds[i] += time.perf_counter() - t0
    finally:
        data.restore_rows()
    rows = []
    for (config_id, params), fold_losses, secs, error in zip(batch, losses, seconds, errors):
        row = {"config_id": config_id, "params": params_json(params)}
        row.update({f"param_{k}": param_cell(params.get(k), t) for k, t in types.items()})
        if error is None:
            mean, std = fold_stats(fold_losses)
            row.update({fold_column(k): v for k, v in enumerate(fold_losses)})
            row.update(mean=mean, std=std, fit_seconds=secs, error=None)
        else:
            row.update({fold_column(k): None for k in range(n_folds)})
            row.update(mean=None, std=None, fit_seconds=secs, error=error)
        rows.append(row)
    return rows


def run_shard(data, spec: ModelSpec, grid, candidates, metric: str, shard: int, n_shards: int, out_path,
              label: str = "HPO", batch_size: int = 64, logger=None) -> int:
    """Score this shard's share of ``candidates`` (config ids) and stream the rows to ``out_path``; return how many.

    Configurations come one batch at a time from the lazy grid; each batch's rows are written as one
    Parquet row group, so at most ``batch_size`` configurations and rows are held at once.
    """
    from ..io import ParquetBatchWriter
    from ..progress import Progress

    logger = logger or logging.getLogger("rfe")
    lazy = Grid(grid)
    types = param_types(grid)
    ids = shard_items(candidates, shard, n_shards)
    progress = Progress(len(ids), label, logger)
    n_failed = 0
    with ParquetBatchWriter(out_path, result_schema(grid, len(data.folds)), batch_size) as writer:
        for start in range(0, len(ids), batch_size):
            batch = [(cid, lazy[cid]) for cid in ids[start:start + batch_size]]
            for row in score_batch(batch, data, spec, metric, types):
                if row["error"]:
                    n_failed += 1
                    if n_failed <= 5:
                        logger.warning("configuration %d failed: %s", row["config_id"], row["error"].splitlines()[-1])
                writer.append(row)
            writer.flush()
            progress.step(len(batch))
    if n_failed:
        logger.warning("%d of %d configurations failed (see the error column)", n_failed, len(ids))
    return len(ids)


def merge_shards(paths):
    """All shard rows as one DataFrame sorted by ``config_id`` (Arrow concatenation, no pandas copies per shard)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(p) for p in paths])
    return table.sort_by("config_id").to_pandas()


def search_results(paths, search: SearchStrategy):
    """A round's search result table (every shard merged, checked complete) and its best configuration's row.
    Every job that needs them (the final model, the importance shards, the elimination) merges the shards itself:
    a cheap read, and no merge job between a round's fitting jobs."""
    results = merge_shards(paths)
    check_complete(results, search.candidates(0))
    return results, best_config(results)


def round_best_params(search: SearchStrategy, paths) -> dict:
    """The parameters of a round's best configuration: known without the search when it has one candidate,
    else from the round's search shards (``paths``)."""
    known = search.known_best()
    return known if known is not None else best_params(search_results(paths, search)[1])


def ranked(results):
    """The configurations that did not fail, best first (lowest mean loss; ties: lowest config id)."""
    ok = results[results["error"].isna() & results["mean"].notna()]
    return ok.iloc[config_order(ok["config_id"], ok["mean"])]


def best_config(results):
    """The row with the lowest mean loss (ties: lowest config id); refuse if every configuration failed."""
    ok = ranked(results)
    if ok.empty:
        first = results["error"].dropna().iloc[0] if results["error"].notna().any() else "no configurations"
        raise RFEError(
            f"every one of the {len(results)} hyperparameter configurations failed; the first error was:\n{first}"
        )
    return ok.iloc[[0]].reset_index(drop=True)


def best_params(best) -> dict:
    """The parameters of a round's best configuration (a row of ``hpo/best.parquet``)."""
    import json

    return json.loads(best.iloc[0]["params"])


def check_complete(results, expected) -> None:
    """Refuse merged results that do not hold every expected config id exactly once."""
    ids = results["config_id"].to_numpy()
    expected = list(expected)
    if len(ids) != len(expected) or sorted(ids.tolist()) != sorted(expected):
        raise RFEError(
            f"the HPO shards hold {len(ids)} rows for {len(expected)} configurations (ids {ids.min()}..{ids.max()}): "
            "shards were cut with different shard counts; rerun with --forcerun hpo_shard"
        )
