"""Leave-one-feature-out importance, sharded by feature.

For each feature of a round, the K-fold CV loss on training rows without its columns, with the
round's best parameters. Feature ``i`` (in round order) belongs to shard ``i % n_shards``.
``importance = loss_without - loss_with_all`` per fold, where ``loss_with_all`` is the best
configuration's per-fold loss from the HPO of the same round (same rows, folds and parameters, so it
is exactly what a refit would give): positive means the feature helps.
"""

from __future__ import annotations

import json
import logging

from . import RFEError


def shard_features(features, shard: int, n_shards: int) -> list:
    return [f for i, f in enumerate(features) if i % n_shards == shard]


def run_shard(data, spec, params: dict, features, feature_columns: dict, metric: str, shard: int,
              n_shards: int, out_path, label: str = "LOFO", logger=None) -> int:
    """Write one row per feature of this shard: per-fold loss without it, mean, fit seconds."""
    import numpy as np
    import pyarrow as pa

    from .cv import cv_losses
    from .io import ParquetBatchWriter
    from .models import build_model
    from .progress import Progress

    logger = logger or logging.getLogger("rfe")
    mine = shard_features(features, shard, n_shards)
    n_folds = len(data.folds)
    schema = pa.schema([pa.field("feature", pa.string())]
                       + [pa.field(f"fold_{k}", pa.float64()) for k in range(n_folds)]
                       + [pa.field("loss_mean", pa.float64()), pa.field("fit_seconds", pa.float64())])
    position = {c: j for j, c in enumerate(data.columns)}
    progress = Progress(len(mine), label, logger)
    with ParquetBatchWriter(out_path, schema, batch_size=32) as writer:
        for feature in mine:
            drop = {position[c] for c in feature_columns[feature]}
            keep = np.array([j for j in range(len(data.columns)) if j not in drop], dtype=np.intp)
            losses, seconds = cv_losses(lambda: build_model(spec, params), data, metric, spec.angle_unit, keep=keep)
            row = {"feature": feature, **{f"fold_{k}": v for k, v in enumerate(losses)},
                   "loss_mean": sum(losses) / len(losses), "fit_seconds": seconds}
            writer.append(row)
            progress.step()
    return len(mine)


def importance(shards, best, expected=None):
    """Combine LOFO shards with the round's best HPO row into the importance table.

    With ``expected`` (the round's features), refuse shards that do not cover each exactly once.
    """
    from .hpo import fold_columns

    folds = fold_columns(best)
    if expected is not None and sorted(shards["feature"]) != sorted(expected):
        raise RFEError(
            f"the LOFO shards cover {sorted(shards['feature'])}, not the round's features {sorted(expected)}: "
            "shards were cut with different shard counts; rerun with --forcerun lofo_shard"
        )
    with_all = best.iloc[0][folds].to_numpy(dtype=float)
    imp = shards[["feature"]]  # a new frame (copy-on-write): adding columns leaves ``shards`` alone
    per_fold = shards[folds].to_numpy(dtype=float) - with_all
    for k, col in enumerate(folds):
        imp[col] = per_fold[:, k]
    imp["importance_mean"] = per_fold.mean(axis=1)
    n = per_fold.shape[1]
    imp["importance_std"] = per_fold.std(axis=1, ddof=1) if n > 1 else 0.0
    imp["loss_without"] = shards[folds].to_numpy(dtype=float).mean(axis=1)
    imp["loss_with_all"] = float(with_all.mean())
    imp = imp.sort_values(["importance_mean", "feature"], ascending=[False, True], kind="mergesort")
    return imp[["feature", "importance_mean", "importance_std", *folds, "loss_without", "loss_with_all"]].reset_index(drop=True)


def best_params(best) -> dict:
    return json.loads(best.iloc[0]["params"])
