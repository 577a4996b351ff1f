"""Fitting a round's best configuration on all training rows, and predicting every row."""

from __future__ import annotations

from pathlib import Path

from . import RFEError
from .metrics import errors
from .models import ModelSpec, build_model, fit_model


def load_columns(features_path, columns):
    """All rows of ``columns`` as one float64 array in Fortran order (read column by column)."""
    import numpy as np
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(features_path)
    X = np.empty((pf.metadata.num_rows, len(columns)), dtype=np.float64, order="F")
    for j, col in enumerate(columns):
        X[:, j] = pf.read(columns=[col]).column(0).to_numpy(zero_copy_only=False)
    return X


def fit_and_predict(X, split, spec: ModelSpec, params: dict):
    """Fit on the train rows of ``split``; return the model and a predictions table for every row.

    The train rows are not copied: X's rows are rearranged in place (train rows first, in their
    order) for the fit and put back afterwards, as in :mod:`rfe_lib.cv`.
    """
    import numpy as np
    import pandas as pd

    from .cv import TrainingData

    train = (split["set"] == "train").to_numpy()
    y = split["y"].to_numpy(dtype=float)
    w = split["weight"].to_numpy(dtype=float) if "weight" in split.columns else None
    if X.shape[1] == 0:
        raise RFEError("a round has no feature columns left to fit")
    train_pos, other_pos = np.flatnonzero(train), np.flatnonzero(~train)
    data = TrainingData(X=X, y=y, columns=[], folds=[(train_pos, other_pos)])
    model = build_model(spec, params)
    pred = np.empty(len(y), dtype=float)
    try:
        X_train, X_other = data.fold_views(0)
        fit_model(model, X_train, y[train_pos], None if w is None else w[train_pos])
        pred[train_pos] = model.predict(X_train)
        if len(other_pos):
            pred[other_pos] = model.predict(X_other)
    finally:
        data.restore_rows()
    out = pd.DataFrame({"row": split["row"].to_numpy(), "set": split["set"].to_numpy(), "y_true": y, "y_pred": pred})
    out["error"] = errors(y, pred, spec.angle_unit)
    if w is not None:
        out["weight"] = w
    return model, out


def metrics_by_set(predictions, tolerances, angle_unit=None):
    """Every metric of each set (train, val, test) of a predictions table: ``eval/metrics.parquet``."""
    import pandas as pd

    from .metrics import metric_row
    from .vocab import SETS

    rows = []
    for name in SETS:
        part = predictions[predictions["set"] == name]
        weights = part["weight"].to_numpy(dtype=float) if "weight" in part.columns else None
        rows.append({"set": name, **metric_row(part["y_true"], part["y_pred"], tolerances, angle_unit, weights)})
    return pd.DataFrame(rows)


def load_model(path, results_dir):
    """Load a fitted model, but only from inside this run's own results folder.

    joblib files can run code when loaded; refusing paths outside ``results_dir`` keeps a config or
    a stray argument from making the pipeline unpickle a file it did not write.
    """
    import joblib

    path, root = Path(path).resolve(), Path(results_dir).resolve()
    if root not in path.parents:
        raise RFEError(f"refusing to load model '{path}': models are loaded only from the run's folder {root}")
    return joblib.load(path)
