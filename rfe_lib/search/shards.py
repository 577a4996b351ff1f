"""Scoring one shard of a rung of a round's search with K-fold CV, streamed to Parquet.

A shard takes one batch of configurations at a time from the lazy grid, scores them fold by fold (the training rows
are rearranged for a fold once per batch, see :mod:`rfe_lib.cv`) and appends their rows to a Parquet writer that
flushes every batch, so its memory does not grow with the grid. A configuration that raises (or gives a non-finite
loss) is recorded with its error and skipped in the remaining folds. A rung with less than the full resource fits
on a subsample of each fold's fitting rows (``Rung.rows``) or with smaller parameter values (``Rung.params``), and
always scores on all of the fold's held-out rows.
"""

from __future__ import annotations

import logging
import math
import time
import traceback

from ..grid import Grid, param_cell, param_types, params_json
from ..models import ModelSpec, build_model
from ..schedule import shard_items
from ..vocab import fold_column
from .base import Rung


def result_schema(grid, n_folds: int, trees: bool = False):
    """The columns of a search shard; with ``trees`` (model.early_stopping), ``trees_used``: the mean over folds of
    the trees each fit kept."""
    import pyarrow as pa

    fields = [pa.field("config_id", pa.int64()), pa.field("params", pa.string())]
    fields += [pa.field(f"param_{k}", t) for k, t in param_types(grid).items()]
    fields += [pa.field(fold_column(k), pa.float64()) for k in range(n_folds)]
    fields += [pa.field(n, pa.float64()) for n in ("mean", "std", "fit_seconds")]
    fields += [pa.field("error", pa.string()), pa.field("rung", pa.int64()), pa.field("resource_fraction", pa.float64())]
    if trees:
        fields.append(pa.field("trees_used", pa.float64()))
    return pa.schema(fields)


def fold_stats(losses) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of per-fold losses."""
    n = len(losses)
    mean = sum(losses) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in losses) / (n - 1)) if n > 1 else 0.0
    return mean, std


def _error_text(exc) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]


def score_batch(batch, data, spec: ModelSpec, metric, types, rung: Rung = Rung(1), rung_index: int = 0,
                on_fit=None) -> list[dict]:
    """Result rows of ``batch`` (a list of ``(config_id, params)``), scored fold by fold with ``rung``'s resource.
    ``on_fit()`` is called after each of the ``len(batch) * folds`` fits (a failed configuration's skipped folds
    included), for the job's progress lines."""
    from ..cv import fold_loss

    n_folds = len(data.folds)
    losses = [[] for _ in batch]
    trees = [[] for _ in batch]
    seconds = [0.0] * len(batch)
    errors: list = [None] * len(batch)
    try:
        for k in range(n_folds):
            for i, (_, params) in enumerate(batch):
                if errors[i] is None:
                    t0 = time.perf_counter()
                    fitted = {**params, **rung.params}
                    try:
                        value, s = fold_loss(lambda: build_model(spec, fitted), data, k, metric, spec.angle_unit,
                                             fraction=rung.rows, trees=trees[i])
                        if not math.isfinite(value):
                            raise ValueError(f"non-finite CV loss {losses[i] + [value]}")
                        losses[i].append(value)
                        seconds[i] += s
                    except Exception as exc:  # noqa: BLE001 - a failing configuration is recorded, not fatal
                        errors[i] = _error_text(exc)
                        seconds[i] += time.perf_counter() - t0
                if on_fit is not None:
                    on_fit()
    finally:
        data.restore_rows()
    rows = []
    for (config_id, params), fold_losses, secs, error, kept in zip(batch, losses, seconds, errors, trees):
        row = {"config_id": config_id, "params": params_json(params)}
        row.update({f"param_{k}": param_cell(params.get(k), t) for k, t in types.items()})
        if error is None:
            mean, std = fold_stats(fold_losses)
            row.update({fold_column(k): v for k, v in enumerate(fold_losses)})
            row.update(mean=mean, std=std, fit_seconds=secs, error=None)
        else:
            row.update({fold_column(k): None for k in range(n_folds)})
            row.update(mean=None, std=None, fit_seconds=secs, error=error)
        row.update(rung=rung_index, resource_fraction=rung.resource_fraction)
        if spec.early_stopping is not None:
            row["trees_used"] = sum(kept) / len(kept) if error is None else None
        rows.append(row)
    return rows


def run_shard(data, spec: ModelSpec, grid, candidates, metric: str, shard: int, n_shards: int, out_path,
              label: str = "HPO", batch_size: int = 64, logger=None, rung: Rung = Rung(1), rung_index: int = 0) -> int:
    """Score this shard's share of ``candidates`` (config ids) with ``rung``'s resource and stream the rows to
    ``out_path``; return how many.

    Configurations come one batch at a time from the lazy grid; each batch's rows are written as one
    Parquet row group, so at most ``batch_size`` configurations and rows are held at once.
    """
    from ..io import ParquetBatchWriter
    from ..progress import Progress

    logger = logger or logging.getLogger("rfe")
    lazy = Grid(grid)
    types = param_types(grid)
    ids = shard_items(candidates, shard, n_shards)
    progress = Progress(len(ids) * len(data.folds), label, logger)  # in fits, as the plan and the importance jobs count
    n_failed = 0
    with ParquetBatchWriter(out_path, result_schema(grid, len(data.folds), spec.early_stopping is not None),
                            batch_size) as writer:
        for start in range(0, len(ids), batch_size):
            batch = [(cid, lazy[cid]) for cid in ids[start:start + batch_size]]
            for row in score_batch(batch, data, spec, metric, types, rung, rung_index, on_fit=progress.step):
                if row["error"]:
                    n_failed += 1
                    if n_failed <= 5:
                        logger.warning("configuration %d failed: %s", row["config_id"], row["error"].splitlines()[-1])
                writer.append(row)
            writer.flush()
    if n_failed:
        logger.warning("%d of %d configurations failed (see the error column)", n_failed, len(ids))
    return len(ids)
