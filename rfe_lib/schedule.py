"""The round schedule and shard counts: fixed from the feature count and the settings alone, so the whole DAG
(every round's jobs) is known when the workflow is parsed."""

from __future__ import annotations

import math

from . import RFEError


def n_eliminated(n_features: int, step, min_features: int) -> int:
    """How many features leave a round that has ``n_features``: ``step`` (or that fraction of the
    current count, at least 1), never going below ``min_features``."""
    if isinstance(step, bool) or step <= 0:
        raise RFEError(f"rfe.step must be a positive integer or a fraction in (0, 1), got {step!r}")
    if isinstance(step, float) and not step.is_integer():
        if not 0 < step < 1:
            raise RFEError(f"rfe.step as a fraction must lie in (0, 1), got {step!r}")
        k = max(1, math.floor(step * n_features))
    else:
        k = int(step)
    return max(0, min(k, n_features - min_features))


def round_schedule(n_features: int, step, min_features: int) -> list[int]:
    """Feature counts of every round, from ``n_features`` down to ``min_features`` (one round if there is nothing
    to eliminate: :meth:`rfe_lib.settings.Settings.check` refuses that for a run).

    >>> round_schedule(12, 1, 3)
    [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    >>> round_schedule(100, 0.5, 10)
    [100, 50, 25, 13, 10]
    """
    counts = [n_features]
    while True:
        k = n_eliminated(counts[-1], step, min_features)
        if k == 0:
            return counts
        counts.append(counts[-1] - k)


# ``auto`` shards: a shard is a process (Python, scikit-learn and the data to load: about as long as ten small fits),
# so a shard gets at least this many fits. Decided from the plan's fit counts, never from timings, so every machine
# (and every cluster job that re-parses the workflow) cuts the work the same way.
MIN_FITS_PER_SHARD = 10


def resolve_shards(requested, n_items: int, cpus: int, fits_per_item: int = 1) -> int:
    """Shard count: ``auto`` means one per CPU, but no more than leaves each shard :data:`MIN_FITS_PER_SHARD` fits;
    never more shards than items, never fewer than one. An explicit count is kept (capped by the items)."""
    if requested == "auto":
        wanted = min(cpus, n_items * fits_per_item // MIN_FITS_PER_SHARD)
    else:
        wanted = int(requested)
    return max(1, min(wanted, n_items))


def shard_items(items, shard: int, n_shards: int):
    """The items of one shard: item ``i`` (in the given order) belongs to shard ``i % n_shards``. Round-robin spreads
    the expensive corners of a grid, or a run of wide features, over every shard. A ``range`` stays a ``range``."""
    return items[shard::n_shards]
