"""Leave-one-feature-out (LOFO) importance: for each feature, the K-fold CV loss on training rows without its
columns, with the round's best parameters (a sin/cos pair leaves together). One refit per feature and fold."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .base import ImportanceMethod, shard_schema


@dataclass(frozen=True)
class LOFO(ImportanceMethod):
    name = "lofo"
    title = "LOFO importance"
    definition = "the mean CV {metric} without the feature minus with all features"
    axis_label = "CV {metric} without the feature − with all"

    def fits(self, n_features: int, n_folds: int, n_shards: int) -> int:
        return n_features * n_folds

    def run_shard(self, data, spec, params: dict, features, feature_columns: dict, metric: str, shard: int,
                  n_shards: int, out_path, *, label: str = "LOFO", logger=None) -> int:
        import numpy as np

        from ..cv import cv_losses
        from ..io import ParquetBatchWriter
        from ..models import build_model
        from ..progress import Progress
        from ..schedule import shard_items
        from ..vocab import fold_column

        logger = logger or logging.getLogger("rfe")
        mine = shard_items(list(features), shard, n_shards)
        position = {c: j for j, c in enumerate(data.columns)}
        progress = Progress(len(mine), label, logger)
        with ParquetBatchWriter(out_path, shard_schema(len(data.folds)), batch_size=32) as writer:
            for feature in mine:
                drop = {position[c] for c in feature_columns[feature]}
                keep = np.array([j for j in range(len(data.columns)) if j not in drop], dtype=np.intp)
                losses, seconds = cv_losses(lambda: build_model(spec, params), data, metric, spec.angle_unit,
                                            keep=keep)
                writer.append({"feature": feature, **{fold_column(k): v for k, v in enumerate(losses)},
                               "loss_mean": sum(losses) / len(losses), "fit_seconds": seconds})
                progress.step()
        return len(mine)
