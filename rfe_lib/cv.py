"""Loading the training matrix once per job, and K-fold cross-validated losses.

Memory: the training rows of the needed columns are read column by column from Parquet into one
float64 array (the full table is never materialised), and each fit sees one fancy-indexed copy of its
fold's rows and columns. Nothing fitted and no prediction outlives the fold it belongs to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .metrics import half_turn, loss


@dataclass
class TrainingData:
    X: "object"        # (n_train, n_columns) float64, C order
    y: "object"        # (n_train,) float64
    columns: list      # model column names, in X's column order
    folds: list        # [(fit positions, held-out positions)] into the train rows


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
    X = np.empty((len(train_rows), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        values = pf.read(columns=[col]).column(0).to_numpy(zero_copy_only=False)
        X[:, j] = values[train_rows]
        del values
    return TrainingData(X=X, y=y, columns=list(columns), folds=fold_indices(split, n_folds))


def constant_prediction(y_fit, n: int, angle_unit=None):
    """The best constant guess: the mean, or the circular mean for an angle target."""
    import math

    import numpy as np

    half = half_turn(angle_unit)
    if half is None:
        return np.full(n, float(np.mean(y_fit)))
    scale = math.pi / half
    m = math.atan2(np.sin(y_fit * scale).mean(), np.cos(y_fit * scale).mean()) / scale
    return np.full(n, m)


def cv_losses(build, data: TrainingData, metric: str, angle_unit=None, keep=None):
    """Per-fold losses of ``build()`` (a fresh model) and the total fit seconds.

    ``keep`` selects column positions (LOFO): each fold's rows and columns are taken in one copy.
    With ``keep`` empty, the model is the constant predictor (a round's only feature left out).
    """
    import numpy as np

    losses, seconds = [], 0.0
    for fit_idx, held_idx in data.folds:
        y_fit, y_held = data.y[fit_idx], data.y[held_idx]
        if keep is not None and len(keep) == 0:
            pred = constant_prediction(y_fit, len(held_idx), angle_unit)
        else:
            if keep is None:
                X_fit, X_held = data.X[fit_idx], data.X[held_idx]
            else:
                X_fit, X_held = data.X[np.ix_(fit_idx, keep)], data.X[np.ix_(held_idx, keep)]
            model = build()
            t0 = time.perf_counter()
            model.fit(X_fit, y_fit)
            seconds += time.perf_counter() - t0
            del X_fit
            pred = model.predict(X_held)
            del model, X_held
        losses.append(loss(y_held, pred, metric, angle_unit))
    return losses, seconds
