"""The model artifact (``model/model.joblib``, :class:`rfe_lib.layout.Layout`'s ``model``): a round's best
configuration fitted on all training rows, as the one dict ``{"model", "columns", "features", "params"}`` (the fitted
estimator, the model columns it was fitted on in their order, the features they come from, its parameters).

:func:`save_model` writes it and :func:`load_model` reads it; nothing else opens a model file.
"""

from __future__ import annotations

from pathlib import Path

from . import RFEError

KEYS = ("model", "columns", "features", "params")


def save_model(path, model, columns, features, params: dict) -> None:
    """Write the model artifact atomically (a killed job leaves the whole file or none)."""
    import joblib

    from .io import atomic_path

    with atomic_path(path) as tmp:
        joblib.dump({"model": model, "columns": list(columns), "features": list(features), "params": params}, tmp)


def load_model(path, results_dir) -> dict:
    """The model artifact at ``path`` (:data:`KEYS`), but only from inside this run's own results folder.

    joblib files can run code when loaded; refusing paths outside ``results_dir`` keeps a config or
    a stray argument from making the pipeline unpickle a file it did not write.
    """
    import joblib

    path, root = Path(path).resolve(), Path(results_dir).resolve()
    if root not in path.parents:
        raise RFEError(f"refusing to load model '{path}': models are loaded only from the run's folder {root}")
    return joblib.load(path)
