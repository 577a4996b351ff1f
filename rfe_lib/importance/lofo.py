"""Leave-one-feature-out (LOFO) importance: for each feature, the K-fold CV loss on training rows without its
columns, with the round's best parameters (a sin/cos pair leaves together). One refit per feature and fold."""

from __future__ import annotations

from dataclasses import dataclass

from .base import ImportanceMethod


@dataclass(frozen=True)
class LOFO(ImportanceMethod):
    name = "lofo"
    title = "LOFO importance"
    definition = "the mean CV {metric} without the feature minus with all features"
    axis_label = "CV {metric} without the feature − with all"

    def fits(self, n_features: int, n_folds: int, n_shards: int) -> int:
        return n_features * n_folds

    def measure(self, task, fold, feature):
        """Refit on the fold's fitting rows without the feature's columns (rotated to the end of X in place, so
        the model sees a view); the held-out loss. A round's only feature left out: the constant predictor."""
        from ..cv import fold_loss

        with task.data.columns_last(task.positions(feature)) as n_columns:
            return fold_loss(task.build, task.data, fold.k, task.metric, task.spec.angle_unit, n_columns)
