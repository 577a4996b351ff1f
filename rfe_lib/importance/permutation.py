"""Permutation importance: per fold, one fit of the round's best configuration on the fold's fitting rows; then, for
each feature, the held-out loss with the feature's columns shuffled (one row order for all of them, so a sin/cos pair
or a correlated group moves together), averaged over ``rfe.shuffles`` shuffles. The semantics of scikit-learn's
``permutation_importance`` on each fold's held-out rows, as a loss: ``importance = shuffled loss - unshuffled loss``.

The unshuffled held-out loss is that of the round's best configuration on the fold, which the search already
measured (the same fit), so the importance table is built exactly as LOFO's. Shuffles are seeded by
``(split.seed, round, crc32(feature), fold)``: the same run shuffles the same way whatever the shard counts. A shard
refits the K folds for its share of the features: ``K`` fits per shard, not per feature.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field

from .base import ImportanceMethod, shard_schema

SHUFFLES_PER_SHARD = 200  # auto shards: a shard refits every fold, so it should have this many shuffles per fold


def feature_seed(seed: int, r: int, feature: str, k: int) -> list[int]:
    """The seed of feature ``feature``'s shuffles in fold ``k`` of round ``r``."""
    return [seed, r, zlib.crc32(feature.encode()), k]


@dataclass(frozen=True)
class Permutation(ImportanceMethod):
    name = "permutation"
    title = "permutation importance"
    definition = ("the mean held-out CV {metric} with the feature's values shuffled (the mean of several shuffles) "
                  "minus the loss without shuffling")
    axis_label = "CV {metric} with the feature shuffled − unshuffled"
    repeats: int = field(kw_only=True)
    seed: int = field(kw_only=True)
    round: int = field(kw_only=True)

    @classmethod
    def from_settings(cls, settings, r: int = 0) -> "Permutation":
        return cls(repeats=settings.rfe.shuffles, seed=settings.split.seed, round=r)

    def fits(self, n_features: int, n_folds: int, n_shards: int) -> int:
        return n_folds * n_shards

    def shards(self, requested, n_features: int, n_folds: int, cpus: int) -> int:
        from ..schedule import resolve_shards

        if requested != "auto":
            return resolve_shards(requested, n_features, cpus)
        wanted = min(cpus, n_features * self.repeats // SHUFFLES_PER_SHARD)
        return max(1, min(wanted, n_features))

    def run_shard(self, data, spec, params: dict, features, feature_columns: dict, metric: str, shard: int,
                  n_shards: int, out_path, *, label: str = "permutation", logger=None) -> int:
        import time

        import numpy as np

        from ..io import ParquetBatchWriter
        from ..metrics import loss
        from ..models import build_model, fit_model
        from ..progress import Progress
        from ..schedule import shard_items
        from ..vocab import fold_column

        logger = logger or logging.getLogger("rfe")
        mine = shard_items(list(features), shard, n_shards)
        position = {c: j for j, c in enumerate(data.columns)}
        n_folds = len(data.folds)
        shuffled = {f: [] for f in mine}
        seconds = 0.0
        progress = Progress(n_folds, label, logger)
        try:
            for k in range(n_folds):
                X_fit, X_held = data.fold_views(k)
                y_fit, y_held = data.y[data.fit_rows(k)], data.y[data.folds[k][1]]
                w_fit, w_held = (None, None) if data.w is None else (data.w[data.fit_rows(k)], data.w[data.folds[k][1]])
                model = build_model(spec, params)
                t0 = time.perf_counter()
                fit_model(model, X_fit, y_fit, w_fit)
                seconds += time.perf_counter() - t0
                for feature in mine:
                    columns = [position[c] for c in feature_columns[feature]]
                    rng = np.random.default_rng(feature_seed(self.seed, self.round, feature, k))
                    losses = []
                    for _ in range(self.repeats):
                        with data.held_rows_shuffled(k, columns, rng.permutation(len(y_held))):
                            losses.append(loss(y_held, model.predict(X_held), metric, spec.angle_unit, w_held))
                    shuffled[feature].append(float(np.mean(losses)))
                del model
                progress.step()
        finally:
            data.restore_rows()
        with ParquetBatchWriter(out_path, shard_schema(n_folds), batch_size=64) as writer:
            for feature in mine:
                writer.append({"feature": feature, **{fold_column(k): v for k, v in enumerate(shuffled[feature])},
                               "loss_mean": float(np.mean(shuffled[feature])), "fit_seconds": seconds / len(mine)})
        return len(mine)
