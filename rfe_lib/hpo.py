"""Grid search, cut into shards: each shard scores a disjoint, deterministic slice of the grid.

Configuration ``i`` belongs to shard ``i % n_shards`` (round-robin spreads expensive corners of the
grid over all shards). A shard streams: it takes one configuration at a time from a lazy grid, scores
it with K-fold CV, and appends its row to a Parquet writer that flushes every ``batch_size`` rows, so
its memory does not grow with the grid. A configuration that raises is recorded with its error.
"""

from __future__ import annotations

import json
import logging
import math
import time
import traceback

from . import RFEError
from .models import Grid, ModelSpec, build_model, grid_list, params_json

FIXED_COLUMNS = ("config_id", "params")


def shard_ids(n_configs: int, shard: int, n_shards: int) -> range:
    return range(shard, n_configs, n_shards)


def _param_type(values):
    import pyarrow as pa

    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, bool) for v in vals):
        return pa.bool_()
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return pa.int64()
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return pa.float64()
    return pa.string()


def param_types(grid) -> dict:
    """Arrow type of each ``param_<name>`` column, from the grid spec's value lists."""
    values = {}
    for g in grid_list(grid):
        for k, vs in g.items():
            values.setdefault(k, []).extend(vs)
    return {k: _param_type(values[k]) for k in sorted(values)}


def result_schema(grid, n_folds: int):
    import pyarrow as pa

    fields = [pa.field("config_id", pa.int64()), pa.field("params", pa.string())]
    fields += [pa.field(f"param_{k}", t) for k, t in param_types(grid).items()]
    fields += [pa.field(f"fold_{k}", pa.float64()) for k in range(n_folds)]
    fields += [pa.field(n, pa.float64()) for n in ("mean", "std", "fit_seconds")]
    fields.append(pa.field("error", pa.string()))
    return pa.schema(fields)


def _cell(value, arrow_type):
    import pyarrow as pa

    if value is None:
        return None
    if arrow_type == pa.string():
        return value if isinstance(value, str) else json.dumps(value, default=str)
    if arrow_type == pa.float64():
        return float(value)
    return value


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
    from .cv import fold_loss

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
        row.update({f"param_{k}": _cell(params.get(k), t) for k, t in types.items()})
        if error is None:
            mean, std = fold_stats(fold_losses)
            row.update({f"fold_{k}": v for k, v in enumerate(fold_losses)})
            row.update(mean=mean, std=std, fit_seconds=secs, error=None)
        else:
            row.update({f"fold_{k}": None for k in range(n_folds)})
            row.update(mean=None, std=None, fit_seconds=secs, error=error)
        rows.append(row)
    return rows


def run_shard(data, spec: ModelSpec, grid, metric: str, shard: int, n_shards: int, out_path,
              label: str = "HPO", batch_size: int = 64, logger=None) -> int:
    """Score this shard's configurations and stream them to ``out_path``; return how many.

    Configurations come one batch at a time from the lazy grid; each batch's rows are written as one
    Parquet row group, so at most ``batch_size`` configurations and rows are held at once.
    """
    from .io import ParquetBatchWriter
    from .progress import Progress

    logger = logger or logging.getLogger("rfe")
    lazy = Grid(grid)
    types = param_types(grid)
    ids = shard_ids(len(lazy), shard, n_shards)
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


def best_config(results):
    """The row with the lowest mean loss (ties: lowest config id); refuse if every configuration failed."""
    ok = results[results["error"].isna()]
    if ok.empty:
        first = results["error"].dropna().iloc[0] if results["error"].notna().any() else "no configurations"
        raise RFEError(
            f"every one of the {len(results)} hyperparameter configurations failed; the first error was:\n{first}"
        )
    ok = ok.sort_values(["mean", "config_id"], kind="mergesort")
    return ok.iloc[[0]].reset_index(drop=True)


def fold_columns(df) -> list[str]:
    cols = [c for c in df.columns if c.startswith("fold_") and c[5:].isdigit()]
    return sorted(cols, key=lambda c: int(c[5:]))


def check_complete(results, n_configs: int) -> None:
    """Refuse merged results that do not hold every configuration exactly once."""
    ids = results["config_id"].to_numpy()
    if len(ids) != n_configs or (ids != range(n_configs)).any():
        raise RFEError(
            f"the HPO shards hold {len(ids)} rows for {n_configs} configurations (ids {ids.min()}..{ids.max()}): "
            "shards were cut with different shard counts; rerun with --forcerun hpo_shard"
        )
