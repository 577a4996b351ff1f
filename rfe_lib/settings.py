"""The run's settings: one typed, frozen object built once from the configuration.

:meth:`Settings.from_config` checks a config against the schema (``workflow/schemas/config.schema.yaml``),
fills in the schema's defaults (the schema is the only place a default is written: no code here or elsewhere
falls back to a value of its own) and builds one frozen dataclass per section. :meth:`Settings.check` holds
every rule that involves more than one key. Jobs get the sections they use through Snakemake ``params:`` as
plain dicts (:meth:`Section.to_dict`; Snakemake reruns a job when they change) and rebuild them with
:meth:`Section.from_dict`.

Enumerations (losses, derived-feature operations, selection rules, ...) are defined once, in the module that
gives them meaning; :data:`ENUMERATIONS` says which schema key each one constrains, and a test checks that the
schema lists exactly the same values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from . import RFEError
from .correlated import ACTIONS as CORRELATED_ACTIONS
from .features import DERIVED_OPS
from .importance import CHOICES as IMPORTANCE_CHOICES
from .metrics import ANGLE_UNITS, LOSSES
from .models import IMPUTERS
from .search import SEARCHES
from .selection import SELECT_RULES
from .split import METHODS as SPLIT_METHODS
from .split import TIME_FOLDS

# Schema key (``*`` for any name) -> the values its ``enum`` must list, in this order.
ENUMERATIONS = {
    "features.angles.*": ANGLE_UNITS,
    "features.correlated.action": CORRELATED_ACTIONS,
    "features.derived.*.op": DERIVED_OPS,
    "features.impute": (None, *IMPUTERS),
    "hpo.metric": LOSSES,
    "hpo.search": tuple(SEARCHES),
    "rfe.importance": IMPORTANCE_CHOICES,
    "rfe.select": SELECT_RULES,
    "split.method": SPLIT_METHODS,
    "split.time_folds": TIME_FOLDS,
    "target_angle": (None, *ANGLE_UNITS),
}


@dataclass(frozen=True)
class Section:
    """A configuration section. Fields hold plain values (dicts and lists are never modified)."""

    @classmethod
    def from_dict(cls, d: dict):
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls)})

    def to_dict(self) -> dict:
        """A JSON-able copy, for Snakemake ``params:`` (which sees changes only in built-in types)."""
        return json.loads(json.dumps({f.name: getattr(self, f.name) for f in dataclasses.fields(self)}))


@dataclass(frozen=True)
class DataSettings(Section):
    path: str
    target: str
    features: list | None
    drop: list
    id_column: str | None
    weight_column: str | None


@dataclass(frozen=True)
class FeatureSettings(Section):
    cyclic: dict
    angles: dict
    derived: dict
    impute: str | None
    correlated: dict  # threshold, action (see rfe_lib/correlated.py)


@dataclass(frozen=True)
class SplitSettings(Section):
    test_fraction: float
    val_fraction: float
    stratify_bins: int
    folds: int
    seed: int
    test_seed: int | None  # None: split.seed
    method: str          # stratified, group or time (see rfe_lib/split.py)
    group_column: str | None
    time_column: str | None
    time_folds: str      # blocked or forward (time splits)
    gap: Any             # a number, or a duration string for a datetime time column (time splits)

    @property
    def train_share(self) -> float:
        return 1.0 - self.test_fraction - self.val_fraction


@dataclass(frozen=True)
class ModelSettings(Section):
    estimator: str
    params: dict
    scale: bool
    allowed_modules: list
    early_stopping: dict | None  # rounds, validation_fraction (see rfe_lib/early_stopping.py); None: off


@dataclass(frozen=True)
class HPOSettings(Section):
    grid: Any  # a dict of lists, or a list of such dicts (scikit-learn ParameterGrid)
    metric: str
    search: str
    halving: dict     # factor, resource, min_resources (see rfe_lib/search/halving.py)
    random: dict      # n_candidates
    carry: dict | None  # top, refresh; None: every round searches fully
    shards: Any  # an integer or "auto"
    max_configs: int
    threads: int


@dataclass(frozen=True)
class RFESettings(Section):
    step: Any  # an integer, or a fraction in (0, 1)
    min_features: int
    select: str
    importance: str
    repeats: int      # the whole elimination R times (rfe_lib/repeats.py)
    shuffles: int     # permutation importance's shuffles
    lofo_below: int
    stop: dict | None  # patience, tolerance (see rfe_lib/stopping.py); None: every round runs


@dataclass(frozen=True)
class JobSettings(Section):
    shards: Any
    threads: int


@dataclass(frozen=True)
class EvaluationSettings(Section):
    tolerances: list


@dataclass(frozen=True)
class PlotSettings(Section):
    top_features: int
    dpi: int
    target_unit: str | None
    ranked_configs: int


@dataclass(frozen=True)
class ExcelSettings(Section):
    top_configs: int
    predictions: bool


@dataclass(frozen=True)
class BudgetSettings(Section):
    hours: float | None   # the time box; None: none
    cores: int | None     # the cores the box assumes; None: the invocation's -j cores
    cluster_cores: int    # the SLURM allocation of the presets table's cluster column
    wave_seconds: float   # scheduling latency of one wave of cluster jobs


@dataclass(frozen=True)
class Settings:
    """Every setting of a run, by section (the keys of the config file)."""

    run_name: str
    data: DataSettings
    features: FeatureSettings
    split: SplitSettings
    model: ModelSettings
    hpo: HPOSettings
    rfe: RFESettings
    importance: JobSettings
    evaluation: EvaluationSettings
    target_angle: str | None
    plots: PlotSettings
    excel: ExcelSettings
    budget: BudgetSettings

    # Sections the plan does not depend on: how results are shown, and the time box (which chooses among presets
    # made from the plan, rfe_lib/plan/presets.py).
    PRESENTATION: ClassVar[tuple[str, ...]] = ("plots", "excel", "evaluation", "budget")
    # Single keys the plan does not depend on either: the run's folder name, and which round is selected after
    # the elimination. A second experiment that changes only these reuses the first one's plan (no data read, no
    # scikit-learn import, no calibration fit when the workflow is parsed).
    PLAN_FREE: ClassVar[tuple[tuple[str, ...], ...]] = (("run_name",), ("rfe", "select"))

    @classmethod
    def from_config(cls, config: dict, written: bool = False, fill: bool = False) -> "Settings":
        """Check ``config`` against the schema, fill in its defaults (one pass), and build the settings (the
        cross-key rules of :meth:`check` are checked too). ``written``: ``config`` is the file as the user wrote it
        (the workflow's), so the rules about which keys it writes are checked too; not for a resolved config
        (:meth:`to_config`), which has every key. ``fill``: fill the defaults into ``config`` too, in place, as
        Snakemake's ``validate`` does (the workflow's config, which the workbook's Config sheet lists)."""
        from .schema import with_defaults

        full = with_defaults(config, written=written)
        if fill:
            config.update(full)
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            is_section = isinstance(kind, type) and issubclass(kind, Section)
            values[f.name] = kind.from_dict(full[f.name]) if is_section else full[f.name]
        settings = cls(**values)
        settings.check()
        return settings

    def to_config(self) -> dict:
        """The resolved configuration: every key, defaults filled in."""
        return {f.name: (v.to_dict() if isinstance(v := getattr(self, f.name), Section) else v)
                for f in dataclasses.fields(self)}

    def check(self, n_features: int | None = None, *, features_before: int | None = None,
              min_fit_rows: int | None = None, with_nan: tuple = ()) -> None:
        """Every rule that involves more than one key (the schema checks keys one at a time). The plan
        (:func:`rfe_lib.plan.make_plan`) passes what it learnt from the data file, and the rules that depend on it
        are checked too: ``n_features`` (round 0's features, after ``features.correlated``), ``features_before`` (the
        features before it), ``min_fit_rows`` (the fitting rows of the smallest CV fold: the search's rules that
        need the data or the estimator) and ``with_nan`` (the features with missing values)."""
        s = self.split
        if s.test_fraction + s.val_fraction >= 0.9:
            raise RFEError(f"split.test_fraction + split.val_fraction = {s.test_fraction + s.val_fraction:g}: "
                           "they must leave at least 10% of the rows for training")
        if self.rfe.repeats > 1 and s.method == "time":
            raise RFEError(f"rfe.repeats: {self.rfe.repeats} with split.method: time: a time split has one set of test, "
                           "validation and training rows (the latest, the span before, the rest), so repeats would "
                           "all be the same run; use rfe.repeats: 1, or split.method: group (whole days or sites)")
        if self.rfe.repeats > 1 and self.budget.hours is not None:
            raise RFEError(f"budget.hours with rfe.repeats: {self.rfe.repeats}: the time box estimates one elimination, "
                           "not repeats of it; set the budget keys yourself (the plan's presets table shows them) "
                           "or use rfe.repeats: 1")
        if self.model.early_stopping is not None:
            from .early_stopping import SUPPORTED

            if self.model.estimator not in SUPPORTED:
                raise RFEError(f"model.early_stopping works with {', '.join(SUPPORTED)}, not model.estimator "
                               f"'{self.model.estimator}': choose one of those estimators or remove model.early_stopping")
        need = {"group": "group_column", "time": "time_column"}
        for method, key in need.items():
            if s.method == method and getattr(s, key) is None:
                raise RFEError(f"split.method: {method} needs split.{key}: name the column that holds each row's "
                               f"{method}")
            if s.method != method and getattr(s, key) is not None:
                raise RFEError(f"split.{key} is set but split.method is {s.method}: set split.method: {method} "
                               f"to use it, or remove split.{key}")
        if s.method != "time" and (s.gap != 0 or s.time_folds != "blocked"):
            raise RFEError(f"split.gap and split.time_folds apply to split.method: time only (split.method is "
                           f"{s.method}); remove them or set split.method: time")
        split_cols = {c for c in (s.group_column, s.time_column) if c is not None}
        for key, col in (("data.target", self.data.target), ("data.id_column", self.data.id_column)):
            if col in split_cols:
                raise RFEError(f"{key} '{col}' is also the split column (split.group_column/time_column): "
                               "choose another column")
        tol = self.evaluation.tolerances
        if len(set(tol)) != len(tol):
            raise RFEError(f"evaluation.tolerances has duplicates: {tol}")
        from .grid import grid_size

        self.check_search(grid_size(self.hpo.grid), min_fit_rows)
        if with_nan:
            from .models import allows_nan

            spec = self.model_spec()
            if not allows_nan(spec):
                raise RFEError(
                    f"features {', '.join(with_nan)} have missing values and {spec.estimator.rpartition('.')[2]} "
                    "cannot handle them; set features.impute: median (fitted on training rows only) or drop those "
                    "columns")
        c = self.features.correlated
        if (n_features is not None and features_before is not None and c["action"] != "report"
                and n_features <= self.rfe.min_features):
            raise RFEError(
                f"features.correlated ({c['action']} at threshold {c['threshold']:g}) leaves {n_features} of "
                f"{features_before} features, not more than rfe.min_features ({self.rfe.min_features}): raise the "
                "threshold, use action: report, or lower rfe.min_features"
            )
        if n_features is not None and self.rfe.min_features >= n_features:
            raise RFEError(
                f"rfe.min_features ({self.rfe.min_features}) must be below the number of features ({n_features}): "
                "there is nothing to eliminate. Lower rfe.min_features or add features."
            )

    def check_search(self, n_configs: int, min_fit_rows: int | None = None, accepted: dict | None = None) -> None:
        """The search's rules (part of :meth:`check`): ``hpo.random`` against the grid and ``hpo.max_configs``;
        with ``min_fit_rows`` (the data's), ``hpo.halving`` against the estimator, the grid and the data (this
        imports the estimator, unless ``accepted`` gives its parameters and defaults: the plan's record).
        :func:`rfe_lib.search.search_strategy` runs them too, for settings made without :meth:`check` (the budget
        presets). Only ``hpo.carry.top`` is checked by the strategy itself, against its
        pool (:meth:`rfe_lib.search.SearchStrategy.pool_len`, the pool size's one definition)."""
        h = self.hpo
        if h.search == "random":
            n = h.random["n_candidates"]
            if n > n_configs:
                raise RFEError(f"hpo.random.n_candidates ({n}) is larger than the grid ({n_configs} configurations): "
                               "lower it, or use hpo.search: grid")
            if n > h.max_configs:
                raise RFEError(f"hpo.random.n_candidates ({n}) is above hpo.max_configs ({h.max_configs}): lower it, "
                               "or raise hpo.max_configs in the config file if you mean it")
        if h.search == "halving" and min_fit_rows is not None:
            self._check_halving(min_fit_rows, accepted)

    def _check_halving(self, min_fit_rows: int, accepted: dict | None = None) -> None:
        from .grid import grid_list
        from .search.halving import ITERATION_PARAMS, full_resource

        spec = self.model_spec()
        resource, full, unit, accepted = full_resource(self.hpo, spec, min_fit_rows, accepted)
        if resource != "n_samples":
            short = spec.estimator.rpartition(".")[2]
            if resource not in accepted:
                raise RFEError(f"hpo.halving.resource: {short} has no parameter '{resource}'; use n_samples or one of "
                               f"{', '.join(p for p in ITERATION_PARAMS if p in accepted) or 'its integer parameters'}")
            if any(resource in g for g in grid_list(self.hpo.grid)):
                raise RFEError(f"hpo.halving.resource '{resource}' is also searched by hpo.grid: halving sets it itself; "
                               "fix it in model.params instead")
            if isinstance(full, bool) or not isinstance(full, int) or full < 1:
                raise RFEError(f"hpo.halving.resource '{resource}' must be a positive integer parameter of {short}, "
                               f"but its value is {full!r}")
        low = self.hpo.halving["min_resources"]
        if low != "auto" and low > full:
            raise RFEError(f"hpo.halving.min_resources ({low}) is larger than the full resource, {full} {unit}: "
                           "lower it")

    # ---------------------------------------------------------------------------- views for the modules

    def data_spec(self):
        """What :mod:`rfe_lib.data` and :mod:`rfe_lib.features` need: the data and features sections."""
        from .data import DataSpec

        d, f = self.data, self.features
        return DataSpec(path=d.path, target=d.target, features=None if d.features is None else tuple(d.features),
                        drop=tuple(d.drop), id_column=d.id_column, weight_column=d.weight_column,
                        cyclic=dict(f.cyclic), angles=dict(f.angles), derived={k: dict(v) for k, v in f.derived.items()},
                        split_columns=self.split_columns())

    def split_columns(self) -> dict:
        """``{key: column}`` of the column a group or time split reads (empty for a stratified split)."""
        from .split import split_column

        col = split_column(self.split.to_dict())
        return {} if col is None else {col[0]: col[1]}

    def model_spec(self):
        """Everything needed to build a model: the model section, imputation, the target's unit and the seed."""
        from .models import ModelSpec

        m = self.model
        return ModelSpec(estimator=m.estimator, params=dict(m.params), scale=m.scale, impute=self.features.impute,
                         angle_unit=self.target_angle, allowed_modules=tuple(m.allowed_modules), seed=self.split.seed,
                         threads=self.hpo.threads, early_stopping=m.early_stopping)

    def plan_key(self, *extra) -> str:
        """A short hash of every setting the plan depends on (all but :attr:`PRESENTATION` and
        :attr:`PLAN_FREE`), and of ``extra``."""
        config = {k: v for k, v in self.to_config().items() if k not in self.PRESENTATION}
        for *section, key in self.PLAN_FREE:
            node = config
            for name in section:
                node = node[name]
            node.pop(key)
        blob = json.dumps([config, *extra], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

