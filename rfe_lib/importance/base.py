"""What every importance method shares: the importance table and its checks.

A method scores a round's features in shards (feature ``i`` in round order goes to shard ``i % n_shards``) and
writes, per feature, the CV loss of each fold with the feature taken away (``fold_<k>``) and its mean
(``loss_mean``). :func:`importance_table` combines the shards with the round's best HPO row:
``importance = loss_without - loss_with_all`` per fold, where ``loss_with_all`` is the best configuration's per-fold
CV loss of the same round (same rows, folds and parameters): positive means the feature helps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from .. import RFEError
from ..vocab import fold_column, fold_columns, importance_order


@dataclass(frozen=True)
class ImportanceMethod:
    """How a round measures the importance of its features. Subclasses set the class attributes, add their own
    settings as fields (built by :meth:`from_settings`; jobs get them as :meth:`to_params`) and implement
    :meth:`fits` and :meth:`run_shard`. The rules, the plan, the figures and the workbook use only this."""

    name: ClassVar[str]         # the value of rfe.importance
    title: ClassVar[str]        # figure titles and report labels, e.g. "LOFO importance"
    definition: ClassVar[str]   # what the number means, for captions ({metric} is filled in)
    axis_label: ClassVar[str]   # what the number means on a figure's axis ("{metric}": the loss's short name)

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

    def run_shard(self, data, spec, params: dict, features, feature_columns: dict, metric: str, shard: int,
                  n_shards: int, out_path, *, label: str, logger=None) -> int:
        """Write one row per feature of this shard: ``feature``, ``fold_<k>`` (the loss with the feature taken
        away), ``loss_mean``, ``fit_seconds``; return how many features."""
        raise NotImplementedError


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
