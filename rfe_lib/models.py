"""Building models from the config, safely.

The estimator path may only name a class under an allow-listed module prefix (``sklearn.`` unless
``model.allowed_modules`` extends it) and must be a regressor; nothing else from the config is
imported or evaluated. Imputation and scaling are steps of the model pipeline, so they are fitted
on training rows only (within each CV fold). For an angle target, :class:`AngleRegressor` fits the
target's sine and cosine and predicts the angle with ``atan2``.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass

from . import RFEError
from .words import closest


def _under(path: str, prefix: str) -> bool:
    """Whether dotted ``path`` lies in the package ``prefix`` names: ``sklearn.`` and ``sklearn`` both
    allow ``sklearn.linear_model.Ridge``, but not ``sklearn_evil.Ridge``."""
    package = prefix.rstrip(".")
    return bool(package) and (path == package or path.startswith(package + "."))


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def import_estimator(path: str, allowed_modules):
    """Import the class at dotted ``path`` if it is under an allowed prefix and is a regressor."""
    if not isinstance(path, str) or not _DOTTED.fullmatch(path):
        raise RFEError(f"model.estimator must be a dotted class path such as "
                       f"'sklearn.linear_model.Ridge', got {path!r}")
    from .boosting import LIBRARIES, missing_package

    if path not in LIBRARIES and not any(_under(path, prefix) for prefix in allowed_modules):
        raise RFEError(
            f"model.estimator '{path}' is not under an allowed module prefix ({', '.join(allowed_modules)}); "
            "add its package's prefix to model.allowed_modules if you trust it (LightGBM's, XGBoost's and "
            f"CatBoost's regressors are accepted by name: {', '.join(LIBRARIES)})"
        )
    module_name, _, cls_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - ImportError, or whatever the module raises on import
        if path in LIBRARIES and isinstance(exc, ImportError):
            raise RFEError(missing_package(path)) from None
        raise RFEError(f"model.estimator '{path}': cannot import module '{module_name}': {exc}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        public = [n for n in dir(module) if n.endswith("Regressor") or n[:1].isupper()]
        close = closest(cls_name, public)
        hint = f"; did you mean '{module_name}.{close}'?" if close else ""
        raise RFEError(f"model.estimator '{path}': module '{module_name}' has no '{cls_name}'{hint}")
    from sklearn.base import is_regressor

    try:
        regressor = isinstance(cls, type) and is_regressor(cls())
    except Exception:  # noqa: BLE001 - a class that cannot be built with defaults
        regressor = False
    if not regressor:
        raise RFEError(f"model.estimator '{path}' is not a scikit-learn regressor")
    return cls


def _angle_scale(unit: str) -> float:
    return math.pi / 180.0 if unit == "degrees" else 1.0


class AngleRegressor:
    """Regress an angle through its sine and cosine; predict with ``atan2``.

    Predictions lie in the same half-open turn as the training targets: [0, 360) degrees when every
    training angle is non-negative, [-180, 180) otherwise (likewise in radians).
    """

    _estimator_type = "regressor"

    def __init__(self, estimator, unit: str = "degrees"):
        self.estimator = estimator
        self.unit = unit

    def get_params(self, deep=True):
        return {"estimator": self.estimator, "unit": self.unit}

    def fit(self, X, y, sample_weight=None):
        import numpy as np
        from sklearn.base import clone

        a = np.asarray(y, dtype=float) * _angle_scale(self.unit)
        self.sin_ = fit_model(clone(self.estimator), X, np.sin(a), sample_weight)
        self.cos_ = fit_model(clone(self.estimator), X, np.cos(a), sample_weight)
        self.nonnegative_ = bool(np.min(y) >= 0)
        return self

    def predict(self, X):
        import numpy as np

        a = np.arctan2(self.sin_.predict(X), self.cos_.predict(X)) / _angle_scale(self.unit)
        turn = 360.0 if self.unit == "degrees" else 2.0 * math.pi
        return np.mod(a, turn) if self.nonnegative_ else (a + turn / 2) % turn - turn / 2


def fit_model(model, X, y, sample_weight=None):
    """``model.fit(X, y)``, with ``sample_weight`` (data.weight_column) given to the estimator: through a pipeline's
    imputation and scaling steps to its final step (which the weights are for; the imputer's medians and the
    scaler's means stay unweighted), and through :class:`AngleRegressor` to both of its fits."""
    if sample_weight is None:
        return model.fit(X, y)
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return model.fit(X, y, **{f"{model.steps[-1][0]}__sample_weight": sample_weight})
    return model.fit(X, y, sample_weight=sample_weight)


def check_takes_weights(spec) -> None:
    """Refuse data.weight_column with an estimator whose ``fit`` takes no ``sample_weight``."""
    import inspect

    cls = import_estimator(spec.estimator, spec.allowed_modules)
    if "sample_weight" not in inspect.signature(cls.fit).parameters:
        raise RFEError(f"data.weight_column is set, but model.estimator '{spec.estimator}' takes no sample_weight in "
                       "its fit: choose an estimator that does, or remove data.weight_column")


IMPUTERS = ("median",)  # features.impute: fitted on training rows only, inside each CV fold


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build a model: the ``model`` section plus imputation, the target type and the seed
    (:meth:`rfe_lib.settings.Settings.model_spec` builds it from the settings)."""

    estimator: str
    params: dict
    scale: bool
    impute: str | None
    angle_unit: str | None
    allowed_modules: tuple[str, ...]
    seed: int
    threads: int | None = None  # the job's threads (LightGBM, XGBoost, CatBoost; see rfe_lib.boosting); jobs set it
    early_stopping: dict | None = None  # model.early_stopping: rounds, validation_fraction; None: off

    def to_params(self) -> dict:
        """A JSON-able form, passed to jobs through Snakemake ``params:`` (without ``threads``: each job sets its own
        from the threads Snakemake gives it)."""
        out = {"estimator": self.estimator, "params": self.params, "scale": self.scale, "impute": self.impute,
               "angle_unit": self.angle_unit, "allowed_modules": list(self.allowed_modules), "seed": self.seed}
        if self.early_stopping is not None:
            out["early_stopping"] = self.early_stopping
        return out

    @classmethod
    def from_params(cls, d: dict) -> "ModelSpec":
        return cls(**{**d, "allowed_modules": tuple(d["allowed_modules"])})

    def with_threads(self, threads) -> "ModelSpec":
        """This spec for a job given ``threads`` threads."""
        import dataclasses

        return dataclasses.replace(self, threads=int(threads))


def build_model(spec: ModelSpec, params: dict | None = None):
    """A fresh, unfitted model for one configuration ``params`` (grid values override fixed ones).

    When the estimator takes a ``random_state`` that neither the fixed parameters nor ``params`` set,
    it is set to the split seed, so every fit is reproducible.
    """
    cls = import_estimator(spec.estimator, spec.allowed_modules)
    kwargs = {**spec.params, **(params or {})}
    if "random_state" in cls().get_params() and "random_state" not in kwargs:
        kwargs["random_state"] = spec.seed
    from .boosting import library_kwargs

    kwargs = library_kwargs(spec.estimator, kwargs, spec.threads, spec.seed)
    model = cls(**kwargs)
    if spec.early_stopping is not None:  # the last step of the pipeline: it carves its stopping rows from its own rows
        from .early_stopping import EarlyStopped

        model = EarlyStopped(model, spec.estimator, spec.early_stopping["rounds"],
                             spec.early_stopping["validation_fraction"], spec.seed)
    steps = []
    if spec.impute == "median":  # the one choice of IMPUTERS
        from sklearn.impute import SimpleImputer

        steps.append(SimpleImputer(strategy="median"))
    if spec.scale:
        from sklearn.preprocessing import StandardScaler

        steps.append(StandardScaler())
    if steps:
        from sklearn.pipeline import make_pipeline

        model = make_pipeline(*steps, model)
    if spec.angle_unit:
        model = AngleRegressor(model, spec.angle_unit)
    return model


def allows_nan(spec: ModelSpec) -> bool:
    """Whether the estimator accepts missing values as they are (e.g. HistGradientBoosting)."""
    if spec.impute == "median":
        return True
    from sklearn.utils import get_tags

    cls = import_estimator(spec.estimator, spec.allowed_modules)
    try:
        return bool(get_tags(cls()).input_tags.allow_nan)
    except Exception:  # noqa: BLE001 - estimators without tags
        return False


def _value_problems(cls, fixed: dict, name, values) -> list[str]:
    """scikit-learn's own parameter checks (types, ranges) for each value of ``name``, without fitting.

    Estimators without scikit-learn's parameter constraints are not checked here (a bad value then
    fails its HPO configurations, which record the error)."""
    problems = []
    for value in values:
        kwargs = {**fixed, **({name: value} if name is not None else {})}
        try:
            model = cls(**kwargs)
            validate = getattr(model, "_validate_params", None)
            if validate is not None:
                validate()
        except (TypeError, ValueError) as exc:
            problems.append(str(exc))
        except Exception:  # noqa: BLE001 - not a parameter problem; the fit will tell
            pass
    return list(dict.fromkeys(problems))


def estimator_defaults(spec) -> dict:
    """Every parameter the estimator of ``spec`` takes, with its default (imports the estimator's library)."""
    from .boosting import accepted_params

    return accepted_params(spec.estimator, import_estimator(spec.estimator, spec.allowed_modules))


def check_grid(spec, grid) -> None:
    """Refuse an empty grid, an empty value list, or a parameter the estimator does not take."""
    from .grid import grid_list

    grids = grid_list(grid)
    if not grids or all(not g for g in grids):
        raise RFEError("hpo.grid is empty: give at least one parameter with a list of values, "
                       "for example {max_iter: [100, 200]}")
    from .boosting import accepted_params

    cls = import_estimator(spec.estimator, spec.allowed_modules)
    accepted = sorted(accepted_params(spec.estimator, cls))
    problems = []
    for name in sorted(spec.params):
        if name not in accepted:
            close = closest(name, accepted)
            hint = f" (did you mean '{close}'?)" if close else ""
            problems.append(f"model.params.{name}: {spec.estimator.rpartition('.')[2]} has no parameter '{name}'{hint}")
    if not problems:
        problems.extend(f"model.params: {msg}" for msg in _value_problems(cls, spec.params, None, [None]))
    fixed_ok = not problems  # grid values are checked against valid fixed parameters only
    for i, g in enumerate(grids):
        where = "hpo.grid" if isinstance(grid, dict) else f"hpo.grid[{i}]"
        for name, values in g.items():
            if name not in accepted:
                close = closest(name, accepted)
                hint = f" (did you mean '{close}'?)" if close else ""
                problems.append(f"{where}.{name}: {spec.estimator.rpartition('.')[2]} has no parameter '{name}'{hint}; "
                                f"it accepts: {', '.join(accepted)}")
            elif not isinstance(values, list) or not values:
                problems.append(f"{where}.{name}: give a non-empty list of values, got {values!r}")
            elif fixed_ok:
                problems.extend(f"{where}.{name}: {msg}" for msg in _value_problems(cls, spec.params, name, values))
    if problems:
        raise RFEError("invalid hyperparameter grid:\n  - " + "\n  - ".join(problems))
