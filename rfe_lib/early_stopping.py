"""Early stopping inside each fit (``model.early_stopping: {rounds, validation_fraction}``).

:class:`EarlyStopped` wraps the estimator (the last step of the model pipeline, so imputation and scaling are
fitted as before): each ``fit`` carves its *stopping rows* out of the rows it is given, which are the fit's own
training rows (a CV fold's fitting rows, a halving rung's subsample, or the final model's training rows), never a
fold's held-out rows, the validation rows or the test rows. The stopping rows are the first
``ceil(validation_fraction * n)`` of a permutation seeded by ``(split.seed, n)``; the estimator is fitted on the
others and stops once ``rounds`` trees in a row have not improved its own loss on the stopping rows (weighted with the
sample weights, if any). It then predicts with the best number of trees, which :func:`trees_used` reports (the HPO
results record it per configuration: ``trees_used``, the mean over folds).

Supported: LightGBM, XGBoost, CatBoost, and scikit-learn's HistGradientBoostingRegressor (:data:`SUPPORTED`).
"""

from __future__ import annotations

import math

SUPPORTED = ("lightgbm.LGBMRegressor", "xgboost.XGBRegressor", "catboost.CatBoostRegressor",
             "sklearn.ensemble.HistGradientBoostingRegressor")


def stopping_rows(n: int, fraction: float, seed: int):
    """Positions (sorted) of the stopping rows among ``n`` fitting rows, and of the rows the estimator fits on."""
    import numpy as np

    m = min(n - 1, max(1, math.ceil(fraction * n)))
    perm = np.random.default_rng([seed, n]).permutation(n)
    return np.sort(perm[:m]), np.sort(perm[m:])


def fit_with_stopping(path: str, estimator, X, y, w, X_stop, y_stop, w_stop, rounds: int) -> int:
    """Fit ``estimator`` (of class ``path``) on ``X, y`` with early stopping on ``X_stop, y_stop``; return the number
    of trees it keeps (the best iteration)."""
    if path == "lightgbm.LGBMRegressor":
        import inspect

        import lightgbm

        # LightGBM 4.7 names the stopping rows eval_X, eval_y (eval_set is deprecated there, and warns on every fit)
        rows = ({"eval_X": (X_stop,), "eval_y": (y_stop,)} if "eval_X" in inspect.signature(estimator.fit).parameters
                else {"eval_set": [(X_stop, y_stop)]})
        estimator.fit(X, y, sample_weight=w, **rows, eval_sample_weight=None if w_stop is None else [w_stop],
                      callbacks=[lightgbm.early_stopping(rounds, verbose=False)])
        return int(estimator.best_iteration_ or estimator.n_estimators)
    if path == "xgboost.XGBRegressor":
        estimator.set_params(early_stopping_rounds=rounds)
        estimator.fit(X, y, sample_weight=w, eval_set=[(X_stop, y_stop)],
                      sample_weight_eval_set=None if w_stop is None else [w_stop], verbose=False)
        return int(estimator.best_iteration) + 1
    if path == "catboost.CatBoostRegressor":
        import catboost

        estimator.fit(X, y, sample_weight=w, eval_set=catboost.Pool(X_stop, y_stop, weight=w_stop),
                      early_stopping_rounds=rounds, use_best_model=True)
        return int(estimator.tree_count_)
    if path == "sklearn.ensemble.HistGradientBoostingRegressor":
        estimator.set_params(early_stopping=True, n_iter_no_change=rounds)
        estimator.fit(X, y, sample_weight=w, X_val=X_stop, y_val=y_stop, sample_weight_val=w_stop)
        return int(estimator.n_iter_)
    raise ValueError(f"no early stopping for {path}")


def _base():
    from sklearn.base import BaseEstimator, RegressorMixin

    return RegressorMixin, BaseEstimator


class EarlyStopped(*_base()):
    """``estimator`` fitted with early stopping on stopping rows carved from its own fitting rows (see the module)."""

    def __init__(self, estimator, path: str, rounds: int, validation_fraction: float, seed: int):
        self.estimator = estimator
        self.path = path
        self.rounds = rounds
        self.validation_fraction = validation_fraction
        self.seed = seed

    def fit(self, X, y, sample_weight=None):
        import numpy as np
        from sklearn.base import clone

        y = np.asarray(y)
        stop, keep = stopping_rows(len(y), self.validation_fraction, self.seed)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.estimator_ = clone(self.estimator)
        self.n_trees_ = fit_with_stopping(self.path, self.estimator_, X[keep], y[keep],
                                          None if w is None else w[keep], X[stop], y[stop],
                                          None if w is None else w[stop], self.rounds)
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


def trees_used(model) -> float | None:
    """The trees a fitted model kept after early stopping (the mean of an angle target's sine and cosine models), or
    None without early stopping."""
    from .models import AngleRegressor

    parts = [model.sin_, model.cos_] if isinstance(model, AngleRegressor) else [model]
    found = []
    for part in parts:
        last = part.steps[-1][1] if hasattr(part, "steps") else part
        if isinstance(last, EarlyStopped):
            found.append(last.n_trees_)
    return sum(found) / len(found) if found else None


def trees_note(model) -> str:
    """A few words for a job's log: the trees the model kept after early stopping (empty without it)."""
    n = trees_used(model)
    return "" if n is None else f"; early stopping kept {n:g} trees"
