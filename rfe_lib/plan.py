"""The run plan, made when the workflow is parsed.

It validates everything that can be validated before a job starts (the config's meaning, the
estimator and grid, the data file and its columns, the split's feasibility, the grid's size) and
fixes the round schedule, so ``snakemake -n`` lists every job of every round. Reading a large data
file takes a moment, so the plan is cached under ``.snakemake/rfe-plan/``, keyed by the data file's
size and modification time, the config and the code; jobs that re-parse the workflow (on a cluster)
read the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import RFEError, __version__
from .config import n_eliminated, round_schedule
from .data import DataSpec, check_columns, check_path, column_names, file_fingerprint
from .models import ModelSpec, grid_size

PLAN_SECTIONS = ("data", "features", "split", "model", "rfe", "target_angle")


@dataclass
class Plan:
    n_rows: int
    features: list            # round-0 features, in feature-map order
    n_columns: int            # model columns of round 0
    schedule: list            # features per round
    eliminate: list           # features eliminated after each round (0 in the last)
    n_configs: int
    n_folds: int
    warnings: list = field(default_factory=list)
    seconds_per_fit: float | None = None  # calibration: one fit of configuration 0 on a fold's rows (rough)

    @property
    def n_rounds(self) -> int:
        return len(self.schedule)

    def fits(self) -> dict:
        hpo = self.n_configs * self.n_folds * self.n_rounds
        lofo = sum(self.schedule) * self.n_folds
        return {"hpo": hpo, "lofo": lofo, "final": self.n_rounds, "total": hpo + lofo + self.n_rounds}


def _cache_key(config: dict, fingerprint: dict) -> str:
    from importlib.metadata import version  # not ``import sklearn``: that alone costs about 1.5 s per parse

    from .fingerprint import code_fingerprint

    relevant = {k: config.get(k) for k in PLAN_SECTIONS}
    relevant["grid"] = config["hpo"]["grid"]
    relevant["max_configs"] = config["hpo"]["max_configs"]
    blob = json.dumps([relevant, fingerprint, code_fingerprint("plan"), version("scikit-learn"), __version__],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def check_semantics(config: dict) -> None:
    """Config rules that the schema cannot state."""
    split = config["split"]
    if split["test_fraction"] + split["val_fraction"] >= 0.9:
        raise RFEError(f"split.test_fraction + split.val_fraction = {split['test_fraction'] + split['val_fraction']:g}: "
                       "they must leave at least 10% of the rows for training")
    tol = config["evaluation"]["tolerances"]
    if len(set(tol)) != len(tol):
        raise RFEError(f"evaluation.tolerances has duplicates: {tol}")


CALIBRATION_ROWS = 5000


def _calibrate(config, spec: ModelSpec, df, fmap, n_train_fit: int) -> float | None:
    """Seconds for one fit of the grid's first configuration on a fold's ``n_train_fit`` rows (for the estimate).

    The fit runs on a random sample of at most :data:`CALIBRATION_ROWS` rows, engineered alone, and its
    time is scaled linearly to ``n_train_fit`` rows: a rough figure, meant to tell an hour from a year.
    """
    try:
        import numpy as np
        from threadpoolctl import threadpool_limits

        from .data import DataSpec as _DS
        from .features import engineer
        from .models import Grid, build_model

        n = min(len(df), n_train_fit, CALIBRATION_ROWS)
        idx = np.sort(np.random.default_rng(0).choice(len(df), size=n, replace=False))
        sample = df.iloc[idx]
        X = engineer(sample, fmap, _DS.from_config(config)).to_numpy(dtype=float)
        y = sample[config["data"]["target"]].to_numpy(dtype=float)
        model = build_model(spec, Grid(config["hpo"]["grid"])[0])
        with threadpool_limits(limits=config["hpo"].get("threads", 1)):  # as many threads as a job gets
            t0 = time.perf_counter()
            model.fit(X, y)
            seconds = time.perf_counter() - t0
        return seconds * max(1.0, n_train_fit / n)
    except Exception:  # noqa: BLE001 - an estimate is optional
        return None


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def make_plan(config: dict, cache_dir: str | os.PathLike | None = None) -> Plan:
    """Validate the run and fix its schedule; raise :class:`RFEError` naming any problem."""
    from .models import allows_nan, check_grid

    check_semantics(config)
    spec = DataSpec.from_config(config)
    check_path(spec.path)
    fingerprint = file_fingerprint(spec.path)
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"{_cache_key(config, fingerprint)}.json"
        if cache_file.is_file():
            try:
                return Plan(**json.loads(cache_file.read_text()))
            except (ValueError, TypeError):
                pass

    names = column_names(spec.path)
    from .data import raise_for_errors

    raise_for_errors(check_columns(names, spec), spec.path)
    from .features import check_derived

    problems = check_derived(spec)
    if problems:
        raise RFEError("invalid derived features:\n  - " + "\n  - ".join(problems))
    mspec = ModelSpec.from_config(config)
    check_grid(mspec, config["hpo"]["grid"])

    from .data import read_table, validate_table
    from .features import feature_map
    from .split import check_split_feasible

    df = read_table(spec.path)
    rows, kept = validate_table(df, spec)
    raise_for_errors(rows, spec.path)
    fmap = feature_map(kept, spec)
    features = list(dict.fromkeys(r["feature"] for r in fmap))
    warnings = [f"{r['column'] or 'table'}: {r['check']}: {r['detail']}" for r in rows if r["status"] in ("warning", "dropped")]
    with_nan = [r["column"] for r in rows if r["check"] == "missing" and r["status"] == "warning" and r["column"] in kept]
    if with_nan and not allows_nan(mspec):
        raise RFEError(
            f"features {', '.join(with_nan)} have missing values and {mspec.estimator.rpartition('.')[2]} cannot "
            "handle them; set features.impute: median (fitted on training rows only) or drop those columns"
        )
    s = config["split"]
    check_split_feasible(df[spec.target].to_numpy(dtype=float), s["test_fraction"], s["val_fraction"],
                         s["folds"], s["stratify_bins"])
    r = config["rfe"]
    schedule = round_schedule(len(features), r["step"], r["min_features"])
    plan = Plan(
        n_rows=len(df), features=features, n_columns=len(fmap), schedule=schedule,
        eliminate=[n_eliminated(n, r["step"], r["min_features"]) for n in schedule],
        n_configs=grid_size(config["hpo"]["grid"]), n_folds=s["folds"], warnings=warnings,
    )
    n_train = int(len(df) * (1 - s["test_fraction"] - s["val_fraction"]))
    plan.seconds_per_fit = _calibrate(config, mspec, df, fmap, int(n_train * (s["folds"] - 1) / s["folds"]))
    limit = config["hpo"]["max_configs"]
    if plan.n_configs > limit:
        per_fit = plan.seconds_per_fit
        fits = plan.fits()
        estimate = (f"; one fit takes about {per_fit:.2g} s here, so about {_human(per_fit * fits['total'])} of CPU "
                    f"time ({_human(per_fit * fits['total'] / (os.cpu_count() or 1))} on this machine's "
                    f"{os.cpu_count() or 1} cores)" if per_fit is not None else "")
        raise RFEError(
            f"hpo.grid has {plan.n_configs} configurations, above hpo.max_configs = {limit}: "
            f"{plan.n_configs} configurations x {plan.n_folds} folds x {plan.n_rounds} rounds = {fits['hpo']} HPO fits, "
            f"plus {fits['lofo']} LOFO fits{estimate}. Shrink the grid, or raise hpo.max_configs "
            f"(for example --config 'hpo={{max_configs: {plan.n_configs}}}' or in the config file) if you mean it."
        )
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(asdict(plan)))
        os.replace(tmp, cache_file)
    return plan


def estimate_from_benchmarks(plan: Plan, bench_dir, n_hpo_shards: int) -> float | None:
    """CPU seconds for the whole run, extrapolated from finished HPO shards' benchmark files."""
    import csv

    files = sorted(Path(bench_dir).glob("round_*/hpo_shard_*.tsv")) if Path(bench_dir).is_dir() else []
    seconds, configs = 0.0, 0
    for f in files:
        try:
            with open(f) as fh:
                row = next(csv.DictReader(fh, delimiter="\t"))
            shard = int(f.stem.rsplit("_", 1)[1])
        except (StopIteration, ValueError, KeyError, OSError):
            continue
        seconds += float(row["s"])
        configs += len(range(shard, plan.n_configs, n_hpo_shards))
    if not configs:
        return None
    per_config = seconds / configs
    per_fit = per_config / plan.n_folds
    fits = plan.fits()
    return per_config * plan.n_configs * plan.n_rounds + per_fit * (fits["lofo"] + fits["final"])


def _schedule_text(schedule, head: int = 5, tail: int = 3) -> str:
    """``12 -> 11 -> 10``, shortened in the middle for long runs."""
    counts = list(map(str, schedule))
    if len(counts) > head + tail + 1:
        counts = counts[:head] + ["..."] + counts[-tail:]
    return " -> ".join(counts)


def describe(plan: Plan, config: dict, hpo_shards: int, lofo_shards: list, estimate: float | None) -> str:
    fits = plan.fits()
    lines = [
        f"RFE plan for run '{config['run_name']}': {plan.n_rows} rows, {len(plan.features)} features "
        f"({plan.n_columns} model columns), {plan.n_rounds} rounds: {_schedule_text(plan.schedule)} features",
        f"  grid: {plan.n_configs} configurations (limit hpo.max_configs = {config['hpo']['max_configs']}) "
        f"x {plan.n_folds} folds x {plan.n_rounds} rounds = {fits['hpo']} HPO fits in {hpo_shards} shards/round; "
        f"LOFO: {fits['lofo']} fits in up to {max(lofo_shards)} shards/round; {fits['total']} fits in all",
    ]
    cores = os.cpu_count() or 1
    if estimate is not None:
        lines.append(f"  estimated CPU time from finished HPO shards' benchmarks: {_human(estimate)} "
                     f"(about {_human(estimate / cores)} on {cores} cores)")
    elif plan.seconds_per_fit is not None:
        cpu = plan.seconds_per_fit * fits["total"]
        lines.append(f"  estimated CPU time from a calibration fit ({plan.seconds_per_fit:.2g} s per fit): {_human(cpu)} "
                     f"(about {_human(cpu / cores)} on {cores} cores; rough, before job start-up)")
    for w in plan.warnings:
        lines.append(f"  note: {w}")
    return "\n".join(lines)
