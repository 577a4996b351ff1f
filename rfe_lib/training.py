"""Fitting a round's best configuration on all training rows, and predicting every row."""

from __future__ import annotations

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


def train_round(hpo_paths, search, r: int, features_path, feature_map_path, table_path, split_path,
                spec: ModelSpec, tolerances, outputs, log) -> None:
    """Everything a round's ``train_model`` job writes to ``outputs`` (a mapping of output name -> path): the search's
    ``results`` and ``best`` configuration (its shards merged), the best configuration fitted on all training rows
    (``model``, :func:`rfe_lib.model_file.save_model`), its ``predictions`` for every row and its ``metrics`` per
    set."""
    import pandas as pd

    from .early_stopping import trees_note
    from .features import columns_of
    from .io import write_parquet
    from .model_file import save_model
    from .search.results import best_params, grid_edges, search_results

    results, best = search_results(hpo_paths, search, r)
    log.info("%d configurations scored, %d failed; best: id %d, mean %.6g, params %s", len(results),
             int(results["error"].notna().sum()), best.at[0, "config_id"], best.at[0, "mean"], best.at[0, "params"])
    for edge in grid_edges(best, search.grid):
        log.warning("the best configuration is on the edge of the grid: %s; the optimum may lie outside it", edge)
    write_parquet(results, outputs["results"])
    write_parquet(best, outputs["best"])

    features = pd.read_parquet(features_path)["feature"].tolist()
    columns = columns_of(pd.read_parquet(feature_map_path), features)
    params = best_params(best)
    model, predictions = fit_and_predict(load_columns(table_path, columns), pd.read_parquet(split_path), spec, params)
    log.info("fitted %s on %d columns%s", params, len(columns), trees_note(model))
    save_model(outputs["model"], model, columns, features, params)
    write_parquet(predictions, outputs["predictions"])

    metrics = metrics_by_set(predictions, tolerances, spec.angle_unit)
    log.info("\n%s", metrics.to_string(index=False))
    write_parquet(metrics, outputs["metrics"])
