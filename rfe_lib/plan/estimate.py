"""Time estimates for the plan: one calibration fit when the plan is made, or the benchmark files of finished HPO
shards once a run has some; and the refusal of a grid above ``hpo.max_configs``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .. import RFEError

CALIBRATION_ROWS = 5000
CALIBRATION_CONFIGS = 5  # configurations timed; their mean stands for a fit of the search (3 left a 1.6x miss)


def calibration_configs(n_configs: int, k: int = CALIBRATION_CONFIGS) -> list[int]:
    """The grid indices the calibration times: ``k`` drawn at random (seed 0) without replacement, in order.

    A grid's first configuration is often its cheapest (the smallest trees, the fewest leaves, listed first): the
    seed-shaped benchmark's first of 5,000 fitted in 1.4 s where the search's configurations took 3-10 s, which
    made the time box choose a preset that could not finish in its box. Drawn configurations stand for the
    search's, whose configurations are the grid's (exhaustive, halving) or a uniform sample of them (random)."""
    import numpy as np

    return sorted(np.random.default_rng(0).choice(n_configs, size=min(k, n_configs), replace=False).tolist())


def calibrate(settings, spec, df, fmap, n_train_fit: int) -> tuple[float | None, float | None]:
    """Seconds for one fit of the search on a fold's ``n_train_fit`` rows (for the estimate), and the share of that
    time a fit keeps with a tenth of the columns (for the later rounds' fewer features).

    The seconds are the mean of :data:`CALIBRATION_CONFIGS` fits, one per configuration of
    :func:`calibration_configs`, on a random sample of at most :data:`CALIBRATION_ROWS` rows, engineered alone,
    scaled linearly to ``n_train_fit`` rows: a rough figure, meant to tell an hour from a year. One more fit (the
    first of those configurations, the same rows, a tenth of the columns, at least one) gives ``a`` in ``time(k
    columns) = time(all) * (a + (1 - a) * k / all)``: the part of a fit that does not shrink with the columns. With
    fewer than 10 columns it is not measured (None: later rounds are estimated as round 0).
    """
    from ..grid import Grid

    grid = Grid(settings.hpo.grid)
    configs = [grid[i] for i in calibration_configs(len(grid))]
    times = [_calibration_fit(settings, spec, df, fmap, n_train_fit, params) for params in configs]
    if any(t is None for t in times):
        return None, None
    seconds = sum(times) / len(times)
    if len(fmap) < 10:
        return seconds, None
    few = _calibration_fit(settings, spec, df, fmap, n_train_fit, configs[0], n_columns=max(1, len(fmap) // 10))
    if few is None:
        return seconds, None
    share = max(1, len(fmap) // 10) / len(fmap)
    return seconds, min(1.0, max(0.0, (few / times[0] - share) / (1 - share)))


def _calibration_fit(settings, spec, df, fmap, n_train_fit: int, params: dict,
                     n_columns: int | None = None) -> float | None:
    try:
        import numpy as np
        from threadpoolctl import threadpool_limits

        from ..features import engineer
        from ..models import build_model

        n = min(len(df), n_train_fit, CALIBRATION_ROWS)
        idx = np.sort(np.random.default_rng(0).choice(len(df), size=n, replace=False))
        sample = df.iloc[idx]
        X = engineer(sample, fmap, settings.data_spec()).to_numpy(dtype=float)
        if n_columns is not None:  # the first columns of the feature map
            X = X[:, :n_columns]
        y = sample[settings.data.target].to_numpy(dtype=float)
        model = build_model(spec, params)
        with threadpool_limits(limits=settings.hpo.threads):  # as many threads as a job gets
            t0 = time.perf_counter()
            model.fit(X, y)
            seconds = time.perf_counter() - t0
        return seconds * max(1.0, n_train_fit / n)
    except Exception:  # noqa: BLE001 - an estimate is optional
        return None


def human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def refuse_large_grid(plan, settings, search) -> None:
    """Raise :class:`RFEError` when the search's pool (``search``: the run's strategy) has more configurations than
    ``hpo.max_configs``."""
    from .fits import round_fits, totals

    limit = settings.hpo.max_configs
    if search.pool_len() <= limit:  # random search scores only its sample
        return
    fits = totals(round_fits(plan, settings, [1] * plan.n_rounds, search))
    per_fit = plan.seconds_per_fit
    cores = os.cpu_count() or 1
    estimate = (f"; one fit takes about {per_fit:.2g} s here, so about {human(per_fit * fits['total'])} of CPU "
                f"time ({human(per_fit * fits['total'] / cores)} on this machine's {cores} cores)"
                if per_fit is not None else "")
    raise RFEError(
        f"hpo.grid has {plan.n_configs} configurations, above hpo.max_configs = {limit}: "
        f"{plan.n_configs} configurations x {plan.n_folds} folds x {plan.n_rounds} rounds = {fits['hpo']} HPO fits, "
        f"plus {fits['importance']} importance fits{estimate}. Shrink the grid, or raise hpo.max_configs to "
        f"{plan.n_configs} in the config file if you mean it (Snakemake's --config would pass it as text)."
    )


def estimate_from_benchmarks(plan, settings, search, shards, importance_shards: list[int]) -> float | None:
    """CPU seconds for the whole run, extrapolated from finished HPO shards' benchmark files (seconds per
    fit-equivalent); ``search``: the run's strategy. ``shards``: (benchmark file, shard file) of every HPO shard of rung 0 the run plans; those not
    finished yet are skipped."""
    import csv

    from .fits import round_fits, totals

    seconds, fits = 0.0, 0.0
    for f, shard in shards:
        if not Path(f).is_file():
            continue
        try:
            with open(f) as fh:
                row = next(csv.DictReader(fh, delimiter="\t"))
            fits += _fit_equivalents(shard)
        except (StopIteration, ValueError, KeyError, OSError):
            continue
        seconds += float(row["s"])
    if not fits:
        return None
    return seconds / fits * totals(round_fits(plan, settings, importance_shards, search))["total"]


def _fit_equivalents(shard) -> float:
    """The fit-equivalents a finished HPO shard made (its rows' folds weighted by their resource)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from ..vocab import fold_columns

    table = pq.read_table(shard, columns=["resource_fraction"])
    return float(pc.sum(table.column(0)).as_py() or 0.0) * len(fold_columns(pq.read_schema(shard).names))
