"""The gradient-boosting libraries the pipeline knows by name: LightGBM, XGBoost and CatBoost.

Their regressors are accepted by the default allow-list (:data:`LIBRARIES`, in addition to ``sklearn.``), and
:func:`library_kwargs` maps the pipeline's rules onto each library's own parameters when a model is built:

- threads: the job's threads go to ``n_jobs`` (LightGBM, XGBoost) or ``thread_count`` (CatBoost);
- quiet: no per-iteration output (``verbose=-1``, ``verbosity=0``, ``logging_level='Silent'``), unless the user set
  one of the library's verbosity parameters (in ``model.params`` or the grid);
- determinism: the split seed as the library's seed (``random_state``, CatBoost's ``random_seed``), LightGBM's
  ``deterministic=True`` with ``force_row_wise=True`` (unless the user chose ``force_col_wise``), and CatBoost's
  ``allow_writing_files=False`` (no ``catboost_info`` folder in the working directory).

A value the user sets explicitly always wins. GPU parameters (XGBoost's ``device``, CatBoost's ``task_type``,
LightGBM's ``device_type``) pass through untouched. The package is imported only when the estimator is used; a
missing one is refused at parse time with the command that installs it (:func:`missing_package`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

INSTALL = "pip install 'rfe-pipeline[boost]'"  # the optional extra (pyproject.toml); conda: envs/model-boost.yaml


@dataclass(frozen=True)
class Library:
    package: str           # the import (and pip) name
    minimum: str           # the lowest version the extra pins
    threads: str           # the parameter that takes the job's threads
    trees: str             # the parameter that holds the number of trees (halving's resource)
    default_trees: int     # the library's default number of trees
    seed: str              # the parameter that takes the split seed
    seed_aliases: tuple    # other names of the seed parameter (one set by the user: the seed is not added)
    quiet: dict            # what silences per-iteration output
    verbosity: tuple       # parameters by which the user sets a verbosity (any one set: quiet is not applied)
    fixed: dict = field(default_factory=dict)  # determinism and hygiene settings, applied unless the user set them
    extra: tuple = ()      # parameters the estimator takes through ``**kwargs`` (not listed by ``get_params()``)


LIBRARIES = {
    "lightgbm.LGBMRegressor": Library(
        "lightgbm", "4.0", threads="n_jobs", trees="n_estimators", default_trees=100, seed="random_state",
        seed_aliases=("seed", "random_seed"), quiet={"verbose": -1}, verbosity=("verbose", "verbosity"),
        fixed={"deterministic": True, "force_row_wise": True},
        extra=("deterministic", "force_row_wise", "force_col_wise", "verbosity", "seed", "device_type")),
    "xgboost.XGBRegressor": Library(
        "xgboost", "2.0", threads="n_jobs", trees="n_estimators", default_trees=100, seed="random_state",
        seed_aliases=("seed",), quiet={"verbosity": 0}, verbosity=("verbosity",)),
    "catboost.CatBoostRegressor": Library(
        "catboost", "1.2", threads="thread_count", trees="iterations", default_trees=1000, seed="random_seed",
        seed_aliases=("random_state",), quiet={"logging_level": "Silent"}, verbosity=("verbose", "logging_level", "silent", "verbose_eval"),
        fixed={"allow_writing_files": False}),
}


def library_of(path: str) -> Library | None:
    """The library of estimator ``path``, or None for any other estimator."""
    return LIBRARIES.get(path)


def missing_package(path: str) -> str:
    """The refusal for a named library's estimator whose package cannot be imported."""
    lib = LIBRARIES[path]
    return (f"model.estimator '{path}' needs the package '{lib.package}', which is not installed: install it with "
            f"{INSTALL} (or pip install '{lib.package}>={lib.minimum}'; with conda, envs/model-boost.yaml)")


def accepted_params(path: str, cls) -> dict:
    """Every parameter the estimator takes, with its default. CatBoost's ``get_params()`` lists only the parameters
    that were set, so its constructor's signature is used; the libraries' own defaults fill in the number of trees
    (XGBoost's and CatBoost's are None until fitted)."""
    import inspect

    params = dict(cls().get_params())
    lib = LIBRARIES.get(path)
    if lib is None:
        return params
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            params.setdefault(name, p.default)
    for name in lib.extra:
        params.setdefault(name, None)
    if params.get(lib.trees) is None:
        params[lib.trees] = lib.default_trees
    return params


def library_kwargs(path: str, kwargs: dict, threads: int | None, seed: int) -> dict:
    """``kwargs`` (the configuration's parameters) with the library's threads, quiet, seed and determinism settings
    added where the user did not set them."""
    lib = LIBRARIES.get(path)
    if lib is None:
        return kwargs
    out = dict(kwargs)
    if threads is not None and lib.threads not in out:
        out[lib.threads] = int(threads)
    if not any(k in out for k in lib.verbosity):
        out.update(lib.quiet)
    if not any(k in out for k in (lib.seed, *lib.seed_aliases)):
        out[lib.seed] = seed
    for name, value in lib.fixed.items():
        if name == "force_row_wise" and out.get("force_col_wise"):
            continue
        out.setdefault(name, value)
    return out
