"""Loading the training matrix once per job, and K-fold cross-validated losses.

Memory: the training rows of the needed columns are read column by column from Parquet into one
float64 array in column-major (Fortran) order; the full table is never materialised. No fit copies
that matrix: for fold k its rows are rearranged *in place* so that the fit rows (in their original
order) come first and the held-out rows last, and a left-out feature's columns are rotated to the
end; the model then sees read-only views ``X[:n_fit, :n_keep]`` and ``X[n_fit:, :n_keep]``. Every
rearrangement moves one column at a time (a temporary of one column) and is undone before the call
returns, even when a fit raises. The model sees exactly the values, row order and column order that
a fancy-indexed copy would give, so the losses are those of ``X[fit_rows][:, kept_columns]``.
Nothing fitted and no prediction outlives the fold it belongs to.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from .metrics import circular_mean, loss


@dataclass
class TrainingData:
    X: "object"        # (n_train, n_columns) float64, Fortran order (column-major), rearranged in place by folds
    y: "object"        # (n_train,) float64
    columns: list      # model column names, in X's column order
    folds: list        # [(fit positions, held-out positions)] into the train rows
    subsample_seed: int = 0  # seeds the row subsamples of successive halving (the run's split.seed)
    w: "object" = None  # (n_train,) float64 sample weights (data.weight_column), or None: every row weighs the same

    def __post_init__(self):
        import numpy as np

        X = self.X
        if not (isinstance(X, np.ndarray) and X.dtype == np.float64 and X.flags.f_contiguous and X.flags.writeable):
            self.X = np.array(X, dtype=np.float64, order="F")  # one copy, only for hand-built data
        self._rows = None  # current row arrangement (original positions), None = original order
        self._fold = None  # the fold whose arrangement X holds now

    def _arrange_rows(self, order) -> None:
        """Rearrange X's rows in place so that row i holds original train row ``order[i]`` (None: restore)."""
        import numpy as np

        n = self.X.shape[0]
        if order is None and self._rows is None:
            return
        current = self._rows if self._rows is not None else np.arange(n)
        target = order if order is not None else np.arange(n)
        where = np.empty(n, dtype=np.intp)
        where[current] = np.arange(n)           # where[r] = current position of original row r
        perm = where[target]                    # new row i comes from current row perm[i]
        for j in range(self.X.shape[1]):        # one column at a time: the only temporary is one column
            col = self.X[:, j]
            col[:] = col[perm]
        self._rows = None if order is None else order

    def fit_rows(self, k: int, fraction: float = 1.0):
        """Positions (into the train rows, in row order) of the rows fold k fits on: all its fitting rows, or for
        ``fraction < 1`` a subsample of ``ceil(fraction * n)`` of them, the first ones of a permutation seeded by
        ``(subsample_seed, k)``, so a larger fraction keeps every row of a smaller one (successive halving)."""
        import math

        import numpy as np

        fit_idx = self.folds[k][0]
        if fraction >= 1.0:
            return fit_idx
        m = math.ceil(fraction * len(fit_idx))
        chosen = np.random.default_rng([self.subsample_seed, k]).permutation(len(fit_idx))[:m]
        return fit_idx[np.sort(chosen)]

    def fold_views(self, k: int, n_columns: int | None = None, fraction: float = 1.0):
        """Read-only views ``(X_fit, X_held)`` of fold k over the first ``n_columns`` columns; ``X_fit`` holds the
        rows of :meth:`fit_rows` (all fitting rows, or a subsample), in row order.

        Rearranges the rows in place; call :meth:`restore_rows` (or use :func:`cv_losses`) afterwards.
        """
        import numpy as np

        fit_idx, held_idx = self.folds[k]
        if self._fold != (k, fraction):
            sub = self.fit_rows(k, fraction)
            rest = np.setdiff1d(fit_idx, sub, assume_unique=True) if len(sub) < len(fit_idx) else sub[:0]
            # rows in neither part (a time split's gap around the held-out block) go last
            used = len(fit_idx) + len(held_idx)
            unused = (np.setdiff1d(np.arange(self.X.shape[0]), np.concatenate([fit_idx, held_idx]))
                      if used < self.X.shape[0] else held_idx[:0])
            self._arrange_rows(np.concatenate([sub, rest, held_idx, unused]))
            self._fold = (k, fraction)
            self._n_sub = len(sub)
        q = self.X.shape[1] if n_columns is None else n_columns
        X_fit, X_held = self.X[: self._n_sub, :q], self.X[len(fit_idx): len(fit_idx) + len(held_idx), :q]
        X_fit.flags.writeable = False   # an estimator that would modify its input must copy it instead
        X_held.flags.writeable = False
        return X_fit, X_held

    @contextlib.contextmanager
    def held_rows_shuffled(self, k: int, positions, order):
        """Within fold k's held-out rows (as :meth:`fold_views` arranged them), reorder the values of the columns at
        ``positions`` by ``order``, one row order for all of them (a permutation importance shuffle); undone on
        exit. The only copy is of those columns' held-out values."""
        import numpy as np

        start = len(self.folds[k][0])
        stop = start + len(self.folds[k][1])
        positions = np.asarray(positions, dtype=np.intp)
        saved = self.X[start:stop, positions].copy()
        try:
            self.X[start:stop, positions] = saved[order]
            yield
        finally:
            self.X[start:stop, positions] = saved

    def restore_rows(self) -> None:
        """Put the rows back in their original order."""
        self._arrange_rows(None)
        self._fold = None

    @contextlib.contextmanager
    def columns_last(self, positions):
        """Rotate the columns at ``positions`` to the end (the others keep their order); yield how many remain.

        ``X[:, :remaining]`` is then the matrix without those columns, as a view. Undone on exit.
        """
        last = {int(j) for j in positions}
        p = self.X.shape[1]
        order = [j for j in range(p) if j not in last] + sorted(last)
        self._permute_columns(order)
        try:
            yield p - len(last)
        finally:
            inverse = [0] * p
            for new, old in enumerate(order):
                inverse[old] = new
            self._permute_columns(inverse)

    def _permute_columns(self, order) -> None:
        """Column ``i`` becomes the current column ``order[i]``, moving whole columns along cycles."""
        import numpy as np

        done = [False] * len(order)
        tmp = np.empty(self.X.shape[0], dtype=self.X.dtype)
        for start in range(len(order)):
            if done[start] or order[start] == start:
                done[start] = True
                continue
            tmp[:] = self.X[:, start]
            i = start
            while True:
                done[i] = True
                src = order[i]
                if src == start:
                    self.X[:, i] = tmp
                    break
                self.X[:, i] = self.X[:, src]
                i = src


def load_training(features_path, split_path, columns, n_folds: int, *, seed: int) -> TrainingData:
    """Training rows of ``columns`` from the engineered table, with the run's folds (``seed``: the split's seed, for
    row subsamples)."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from .split import fold_indices

    split = pd.read_parquet(split_path)
    train_rows = split.loc[split["set"] == "train", "row"].to_numpy()
    y = split.loc[split["set"] == "train", "y"].to_numpy(dtype=float)
    w = split.loc[split["set"] == "train", "weight"].to_numpy(dtype=float) if "weight" in split.columns else None
    pf = pq.ParquetFile(features_path)
    X = np.empty((len(train_rows), len(columns)), dtype=np.float64, order="F")
    for j, col in enumerate(columns):
        values = pf.read(columns=[col]).column(0).to_numpy(zero_copy_only=False)
        np.take(values, train_rows, out=X[:, j])
        del values
    return TrainingData(X=X, y=y, columns=list(columns), folds=fold_indices(split, n_folds), subsample_seed=seed,
                        w=w)


def constant_prediction(y_fit, n: int, angle_unit=None, weights=None):
    """The best constant guess: the (weighted) mean, or the circular mean for an angle target."""
    import numpy as np

    if angle_unit is None:
        return np.full(n, float(np.mean(y_fit) if weights is None else np.average(y_fit, weights=weights)))
    return np.full(n, circular_mean(y_fit, angle_unit, weights))


def fold_loss(build, data: TrainingData, k: int, metric: str, angle_unit=None, n_columns: int | None = None,
              fraction: float = 1.0, trees: list | None = None):
    """Loss of ``build()`` fitted on fold k's fit rows (or a ``fraction`` of them, see
    :meth:`TrainingData.fit_rows`) and scored on all its held-out rows, and the fit seconds.

    Uses the first ``n_columns`` columns of X as they are now (see :meth:`TrainingData.columns_last`);
    with ``n_columns == 0`` the model is the constant predictor. Leaves the rows rearranged for fold k. With
    ``trees`` (a list), appends the trees the fit kept after early stopping (None without it).
    """
    from .models import fit_model

    held_idx = data.folds[k][1]
    fit_idx = data.fit_rows(k, fraction)
    y_fit, y_held = data.y[fit_idx], data.y[held_idx]
    w_fit, w_held = (None, None) if data.w is None else (data.w[fit_idx], data.w[held_idx])
    if n_columns == 0:
        return loss(y_held, constant_prediction(y_fit, len(held_idx), angle_unit, w_fit), metric, angle_unit,
                    w_held), 0.0
    X_fit, X_held = data.fold_views(k, n_columns, fraction)
    model = build()
    t0 = time.perf_counter()
    fit_model(model, X_fit, y_fit, w_fit)
    seconds = time.perf_counter() - t0
    pred = model.predict(X_held)
    if trees is not None:
        from .early_stopping import trees_used

        trees.append(trees_used(model))
    del model
    return loss(y_held, pred, metric, angle_unit, w_held), seconds


def cv_losses(build, data: TrainingData, metric: str, angle_unit=None, keep=None):
    """Per-fold losses of ``build()`` (a fresh model) and the total fit seconds.

    ``keep`` selects column positions (LOFO; the others are left out, the kept ones keep their
    order). With ``keep`` empty, the model is the constant predictor (a round's only feature left out).
    """
    drop = [] if keep is None else sorted(set(range(data.X.shape[1])) - {int(j) for j in keep})
    losses, seconds = [], 0.0
    with data.columns_last(drop) as n_columns:
        try:
            for k in range(len(data.folds)):
                value, s = fold_loss(build, data, k, metric, angle_unit, n_columns)
                losses.append(value)
                seconds += s
        finally:
            data.restore_rows()
    return losses, seconds
