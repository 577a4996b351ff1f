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

import zlib
from dataclasses import dataclass, field

from .base import ImportanceMethod

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
    batch_size = 64

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

    def fold_setup(self, task, fold) -> float:
        """One fit of the round's best configuration on the fold's fitting rows, shared by the shard's features."""
        import time

        from ..models import fit_model

        fold.model = task.build()
        t0 = time.perf_counter()
        fit_model(fold.model, fold.X_fit, fold.y_fit, fold.w_fit)
        return time.perf_counter() - t0

    def measure(self, task, fold, feature):
        """The fold model's held-out loss with the feature's columns shuffled (one row order for all of them), the
        mean over ``repeats`` shuffles seeded by :func:`feature_seed`; no fit of its own."""
        import numpy as np

        from ..metrics import loss

        columns = task.positions(feature)
        rng = np.random.default_rng(feature_seed(self.seed, self.round, feature, fold.k))
        losses = []
        for _ in range(self.repeats):
            with task.data.held_rows_shuffled(fold.k, columns, rng.permutation(len(fold.y_held))):
                losses.append(loss(fold.y_held, fold.model.predict(fold.X_held), task.metric, task.spec.angle_unit,
                                   fold.w_held))
        return float(np.mean(losses)), 0.0

    @staticmethod
    def loss_mean(losses):
        import numpy as np

        return float(np.mean(losses))
