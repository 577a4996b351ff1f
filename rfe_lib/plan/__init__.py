"""The run plan, made when the workflow is parsed.

:func:`make_plan` validates everything that can be validated before a job starts (the settings' cross-key
rules, the estimator and grid, the data file and its columns, the split's feasibility, the grid's size) and
fixes the round schedule, so ``snakemake -n`` lists every job of every round. Reading a large data file takes a
moment, so the plan is cached (:mod:`rfe_lib.plan.cache`); jobs that re-parse the workflow (on a cluster) read
the cache. :mod:`rfe_lib.plan.fits` counts a run's fits, :mod:`rfe_lib.plan.estimate` turns them into time and
:mod:`rfe_lib.plan.text` prints the plan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .. import RFEError


@dataclass
class Plan:
    n_rows: int
    features: list            # round-0 features, in feature-map order
    n_columns: int            # model columns of round 0
    schedule: list            # features per round
    eliminate: list           # features eliminated after each round (0 in the last)
    n_configs: int            # configurations in the grid
    n_folds: int
    n_train: int              # training rows (the split's)
    min_fit_rows: int         # the fitting rows of the smallest CV fold
    warnings: list = field(default_factory=list)
    seconds_per_fit: float | None = None  # calibration: one fit of configuration 0 on a fold's rows (rough)
    set_sizes: dict | None = None   # rows per set of the split (train, val, test, and gap for a time split's gap)
    fold_sizes: list | None = None  # [fitting rows, held-out rows] of each CV fold
    column_fixed_share: float | None = None  # calibration: the share of a fit's time that fewer columns keep
    # the estimator's parameters and defaults ({"estimator": path, "params": {...}}, defaults as JSON scalars or
    # their repr): a parse from the cached plan (a rerun, every cluster job) checks halving's resource without
    # importing the estimator's library (about a CPU-second)
    estimator_params: dict | None = None

    @property
    def n_rounds(self) -> int:
        return len(self.schedule)


def _check_data(settings, spec):
    """Read and validate the data file; return (table, validation rows, kept feature columns)."""
    from ..data import check_columns, column_names, raise_for_errors, read_table, validate_table
    from ..features import check_derived

    raise_for_errors(check_columns(column_names(spec.path), spec), spec.path)
    problems = check_derived(spec)
    if problems:
        raise RFEError("invalid derived features:\n  - " + "\n  - ".join(problems))
    from ..models import check_grid

    check_grid(settings.model_spec(), settings.hpo.grid)
    if settings.data.weight_column is not None:
        from ..models import check_takes_weights

        check_takes_weights(settings.model_spec())
    df = read_table(spec.path)
    rows, kept = validate_table(df, spec)
    raise_for_errors(rows, spec.path)
    return df, rows, kept


def estimator_params(spec) -> dict:
    """:attr:`Plan.estimator_params` of the model ``spec``."""
    from ..models import estimator_defaults

    accepted = estimator_defaults(spec)
    scalar = (bool, int, float, str, type(None))
    return {"estimator": spec.estimator,
            "params": {k: v if isinstance(v, scalar) else repr(v) for k, v in accepted.items()}}


def make_plan(settings, cache_dir: str | os.PathLike | None = None) -> Plan:
    """Validate the run and fix its schedule; raise :class:`RFEError` naming any problem."""
    from ..data import check_path, file_fingerprint
    from . import cache

    spec = settings.data_spec()
    check_path(spec.path)
    key = cache.key(settings, file_fingerprint(spec.path))
    plan = cache.load(cache_dir, key)
    if plan is not None:
        return plan

    from ..features import round_zero
    from ..grid import grid_size
    from ..schedule import n_eliminated, round_schedule
    from ..search import search_strategy
    from ..split import fold_indices, run_split
    from .estimate import calibrate, refuse_large_grid

    df, rows, kept = _check_data(settings, spec)
    mspec = settings.model_spec()
    warnings = [f"{r['column'] or 'table'}: {r['check']}: {r['detail']}" for r in rows
                if r["status"] in ("warning", "dropped")]
    with_nan = [r["column"] for r in rows if r["check"] == "missing" and r["status"] == "warning" and r["column"] in kept]
    s, r = settings.split, settings.rfe
    split = run_split(df, spec.target, s.to_dict())
    folds = fold_indices(split, s.folds)
    zero = round_zero(df, rows, spec, split, settings.features.correlated, complete=False)  # as engineer_features
    fmap, features = zero.feature_map, zero.features
    min_fit_rows = min(len(fit) for fit, _ in folds)
    settings.check(n_features=len(features), features_before=zero.n_before,
                   min_fit_rows=min_fit_rows, with_nan=tuple(with_nan))
    schedule = round_schedule(len(features), r.step, r.min_features)
    plan = Plan(
        n_rows=len(df), features=features, n_columns=len(fmap), schedule=schedule,
        eliminate=[n_eliminated(n, r.step, r.min_features) for n in schedule],
        n_configs=grid_size(settings.hpo.grid), n_folds=s.folds, n_train=int((split["set"] == "train").sum()),
        min_fit_rows=min_fit_rows, warnings=warnings,
        set_sizes={k: int(v) for k, v in split["set"].value_counts().items()},
        fold_sizes=[[len(fit), len(held)] for fit, held in folds],
        estimator_params=estimator_params(mspec),
    )
    search = search_strategy(settings, plan)  # built once: the workflow's branch gets this same object
    plan.seconds_per_fit, plan.column_fixed_share = calibrate(settings, mspec, df, fmap, plan.min_fit_rows)
    refuse_large_grid(plan, settings, search)
    cache.save(cache_dir, key, plan)
    return plan
