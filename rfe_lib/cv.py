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

    def fold_views(self, k: int, n_columns: int | None = None):
        """Read-only views ``(X_fit, X_held)`` of fold k over the first ``n_columns`` columns.

        Rearranges the rows in place; call :meth:`restore_rows` (or use :func:`cv_losses`) afterwards.
        """
        import numpy as np

        fit_idx, held_idx = self.folds[k]
        if self._fold != k:
            self._arrange_rows(np.concatenate([fit_idx, held_idx]))
            self._fold = k
        q = self.X.shape[1] if n_columns is None else n_columns
        X_fit, X_held = self.X[: len(fit_idx), :q], self.X[len(fit_idx):, :q]
        X_fit.flags.writeable = False   # an estimator that would modify its input must copy it instead
        X_held.flags.writeable = False
        return X_fit, X_held

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


def load_training(features_path, split_path, columns, n_folds: int) -> TrainingData:
    """Training rows of ``columns`` from the engineered table, with the run's folds."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from .split import fold_indices

    split = pd.read_parquet(split_path)
    train_rows = split.loc[split["set"] == "train", "row"].to_numpy()
    y = split.loc[split["set"] == "train", "y"].to_numpy(dtype=float)
    pf = pq.ParquetFile(features_path)
    X = np.empty((len(train_rows), len(columns)), dtype=np.float64, order="F")
    for j, col in enumerate(columns):
        values = pf.read(columns=[col]).column(0).to_numpy(zero_copy_only=False)
        np.take(values, train_rows, out=X[:, j])
        del values
    return TrainingData(X=X, y=y, columns=list(columns), folds=fold_indices(split, n_folds))


def constant_prediction(y_fit, n: int, angle_unit=None):
    """The best constant guess: the mean, or the circular mean for an angle target."""
    import numpy as np

    if angle_unit is None:
        return np.full(n, float(np.mean(y_fit)))
    return np.full(n, circular_mean(y_fit, angle_unit))


def fold_loss(build, data: TrainingData, k: int, metric: str, angle_unit=None, n_columns: int | None = None):
    """Loss of ``build()`` fitted on fold k's fit rows and scored on its held-out rows, and the fit seconds.

    Uses the first ``n_columns`` columns of X as they are now (see :meth:`TrainingData.columns_last`);
    with ``n_columns == 0`` the model is the constant predictor. Leaves the rows rearranged for fold k.
    """
    fit_idx, held_idx = data.folds[k]
    y_fit, y_held = data.y[fit_idx], data.y[held_idx]
    if n_columns == 0:
        return loss(y_held, constant_prediction(y_fit, len(held_idx), angle_unit), metric, angle_unit), 0.0
    X_fit, X_held = data.fold_views(k, n_columns)
    model = build()
    t0 = time.perf_counter()
    model.fit(X_fit, y_fit)
    seconds = time.perf_counter() - t0
    pred = model.predict(X_held)
    del model
    return loss(y_held, pred, metric, angle_unit), seconds


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
