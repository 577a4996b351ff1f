"""What every importance method shares: the importance table and its checks.

A method scores a round's features in shards (feature ``i`` in round order goes to shard ``i % n_shards``) and
writes, per feature, the CV loss of each fold with the feature taken away (``fold_<k>``) and its mean
(``loss_mean``). :func:`importance_table` combines the shards with the round's best HPO row:
``importance = loss_without - loss_with_all`` per fold, where ``loss_with_all`` is the best configuration's per-fold
CV loss of the same round (same rows, folds and parameters): positive means the feature helps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from typing import ClassVar

from .. import RFEError
from ..vocab import fold_column, fold_columns, importance_order


@dataclass(frozen=True)
class ImportanceMethod:
    """How a round measures the importance of its features. Subclasses set the class attributes, add their own
    settings as fields (built by :meth:`from_settings`; jobs get them as :meth:`to_params`) and implement
    :meth:`fits` and :meth:`measure` (one feature's loss in one fold with the feature taken away; optionally
    :meth:`fold_setup`, what a fold's features share). :meth:`run_shard` is the loop over a shard's folds and
    features that every method shares. The rules, the plan, the figures and the workbook use only this."""

    name: ClassVar[str]         # the value of rfe.importance
    title: ClassVar[str]        # figure titles and report labels, e.g. "LOFO importance"
    definition: ClassVar[str]   # what the number means, for captions ({metric} is filled in)
    axis_label: ClassVar[str]   # what the number means on a figure's axis ("{metric}": the loss's short name)
    batch_size: ClassVar[int] = 32  # rows per Parquet row group of a shard file

    @classmethod
    def from_settings(cls, settings, r: int = 0) -> "ImportanceMethod":
        """The method for round ``r`` of a run with ``settings``."""
        return cls()

    def to_params(self) -> dict:
        return {"name": self.name, **asdict(self)}

    def fits(self, n_features: int, n_folds: int, n_shards: int) -> int:
        """Model fits one round makes to measure ``n_features`` features in ``n_shards`` shards."""
        raise NotImplementedError

    def shards(self, requested, n_features: int, n_folds: int, cpus: int) -> int:
        """How many shards a round of ``n_features`` gets (``requested``: importance.shards, an int or auto)."""
        from ..schedule import resolve_shards

        return resolve_shards(requested, n_features, cpus, -(-self.fits(n_features, n_folds, 1) // max(n_features, 1)))

    def fold_setup(self, task: "ShardTask", fold: "Fold") -> float:
        """Prepare what every feature of the shard shares within ``fold`` (e.g. fit the fold's model and keep it on
        ``fold.model``); return the fit seconds spent. Called once per fold before :meth:`measure`; nothing by
        default."""
        return 0.0

    def measure(self, task: "ShardTask", fold: "Fold", feature: str) -> tuple[float, float]:
        """The loss on ``fold``'s held-out rows with ``feature`` (its columns: ``task.positions(feature)``) taken
        away, and the fit seconds spent on it. The one thing a method must say."""
        raise NotImplementedError

    @staticmethod
    def loss_mean(losses: list[float]) -> float:
        """A feature's mean loss over the folds (``loss_mean``): Python's sum over the count. (Permutation has
        always written numpy's mean, which differs in the last bits from eight folds on; each keeps its own so that
        shard files stay what they were.)"""
        return sum(losses) / len(losses)

    def run_shard(self, task: "ShardTask", out_path, *, label: str | None = None, logger=None) -> int:
        """Write one row per feature of ``task``'s shard with :func:`shard_schema`'s columns: ``feature``,
        ``fold_<k>`` (the loss with the feature taken away, :meth:`measure`), ``loss_mean`` and ``fit_seconds``
        (its own fits and its share of the fold setups); return how many features.

        Fold by fold: the rows are arranged for fold k once (:meth:`TrainingData.fold_views`), the method prepares
        the fold (:meth:`fold_setup`), then measures each feature of the shard; the rows are put back at the end, even
        when a fit raises."""
        import logging

        from ..io import ParquetBatchWriter
        from ..progress import Progress

        mine = task.mine()
        data = task.data
        n_folds = len(data.folds)
        losses = {f: [] for f in mine}
        seconds = dict.fromkeys(mine, 0.0)
        shared = 0.0
        progress = Progress(n_folds * len(mine), label or self.title, logger or logging.getLogger("rfe"))
        try:
            for k in range(n_folds):
                fold = Fold.of(data, k)
                shared += self.fold_setup(task, fold)
                for feature in mine:
                    value, s = self.measure(task, fold, feature)
                    losses[feature].append(value)
                    seconds[feature] += s
                    progress.step()
                fold.model = None  # nothing fitted outlives its fold
        finally:
            data.restore_rows()
        with ParquetBatchWriter(out_path, shard_schema(n_folds), batch_size=self.batch_size) as writer:
            for feature in mine:
                writer.append({"feature": feature, **{fold_column(k): v for k, v in enumerate(losses[feature])},
                               "loss_mean": self.loss_mean(losses[feature]),
                               "fit_seconds": seconds[feature] + shared / len(mine)})
        return len(mine)


@dataclass(frozen=True)
class ShardTask:
    """What one importance shard measures: the round's training ``data`` (:class:`rfe_lib.cv.TrainingData`), the
    model (``spec``, the best configuration's ``params``), the round's ``features`` in round order with their model
    columns (``feature_columns``), the loss (``metric``) and which ``shard`` of ``n_shards`` (feature ``i`` goes to
    shard ``i % n_shards``)."""

    data: object
    spec: object
    params: dict
    features: list
    feature_columns: dict
    metric: str
    shard: int = 0
    n_shards: int = 1

    def mine(self) -> list[str]:
        """This shard's features, in round order."""
        from ..schedule import shard_items

        return shard_items(list(self.features), self.shard, self.n_shards)

    def positions(self, feature: str) -> list[int]:
        """The positions in ``data.X`` of ``feature``'s model columns (a sin/cos pair: both)."""
        return [self._position[c] for c in self.feature_columns[feature]]

    @cached_property
    def _position(self) -> dict[str, int]:
        return {c: j for j, c in enumerate(self.data.columns)}

    def build(self):
        """A fresh, unfitted model of the round's best configuration."""
        from ..models import build_model

        return build_model(self.spec, self.params)


@dataclass
class Fold:
    """Fold ``k`` of the training data, its rows arranged (:meth:`TrainingData.fold_views`): the fitting and held-out
    rows' ``X`` (read-only views), targets and weights (None without weights); ``model``: what
    :meth:`ImportanceMethod.fold_setup` keeps for the fold."""

    k: int
    X_fit: object
    X_held: object
    y_fit: object
    y_held: object
    w_fit: object = None
    w_held: object = None
    model: object = None

    @classmethod
    def of(cls, data, k: int) -> "Fold":
        X_fit, X_held = data.fold_views(k)
        fit, held = data.fit_rows(k), data.folds[k][1]
        w_fit, w_held = (None, None) if data.w is None else (data.w[fit], data.w[held])
        return cls(k, X_fit, X_held, data.y[fit], data.y[held], w_fit, w_held)


def shard_schema(n_folds: int):
    """The columns of an importance shard file."""
    import pyarrow as pa

    return pa.schema([pa.field("feature", pa.string())]
                     + [pa.field(fold_column(k), pa.float64()) for k in range(n_folds)]
                     + [pa.field("loss_mean", pa.float64()), pa.field("fit_seconds", pa.float64())])


def importance_table(shards, best, expected=None):
    """Combine a round's importance shards with its best HPO row into the importance table, most important first.

    With ``expected`` (the round's features), refuse shards that do not cover each exactly once.
    """
    folds = fold_columns(best.columns)
    if expected is not None and sorted(shards["feature"]) != sorted(expected):
        raise RFEError(
            f"the importance shards cover {sorted(shards['feature'])}, not the round's features {sorted(expected)}: "
            "shards were cut with different shard counts; rerun with --forcerun importance_shard"
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
    imp = imp.iloc[importance_order(imp["feature"], imp["importance_mean"])]
    return imp[["feature", "importance_mean", "importance_std", *folds, "loss_without", "loss_with_all"]].reset_index(drop=True)
