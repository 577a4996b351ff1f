"""Errors, losses and evaluation metrics (numpy only).

For an angle target every error is wrapped into [-half, half) where half is 180 (degrees) or pi
(radians) *before* any metric is computed, so a prediction of 359 degrees for 1 degree is an error of
-2, not 358.

With sample weights (``data.weight_column``) every loss and metric is weighted: means are ``np.average`` with the
weights, medians and percentiles are weighted quantiles (the smallest value whose cumulative weight reaches the
share, numpy's ``inverted_cdf``), ``r2`` compares weighted sums of squares, and ``within_<t>`` is the weighted share.
Without weights (``weights=None``) the unweighted formulas run unchanged.
"""

from __future__ import annotations

import math

import numpy as np

LOSSES = ("rmse", "mae", "mse", "median_ae")  # what hpo.metric may name: a loss, lower is better
# Every metric of a set of predictions (metric_row's columns, in that order, besides n and within_<t>)
EVALUATION_METRICS = ("rmse", "mae", "r2", "bias", "median_ae", "p90_ae", "p95_ae")
# How figures and the report name a loss or a metric
METRIC_LABELS = {"rmse": "RMSE", "mae": "MAE", "mse": "MSE", "median_ae": "median |error|", "r2": "R²",
                 "bias": "bias", "p90_ae": "90th pct |error|", "p95_ae": "95th pct |error|"}
ANGLE_UNITS = ("degrees", "radians")


def half_turn(unit: str | None) -> float | None:
    """Half a turn in the target's unit: 180 for degrees, pi for radians, None for a plain target."""
    if unit is None:
        return None
    if unit == "degrees":
        return 180.0
    if unit == "radians":
        return math.pi
    raise ValueError(f"angle unit must be one of {', '.join(ANGLE_UNITS)}, got {unit!r}")


def circular_mean(angles, unit: str, weights=None) -> float:
    """The mean direction of ``angles`` (in ``unit``): the angle of the (weighted) mean of their unit vectors."""
    scale = math.pi / half_turn(unit)
    angles = np.asarray(angles, dtype=float) * scale
    if weights is not None:
        return math.atan2(np.average(np.sin(angles), weights=weights),
                          np.average(np.cos(angles), weights=weights)) / scale
    return math.atan2(np.sin(angles).mean(), np.cos(angles).mean()) / scale


def weighted_quantile(values, q: float, weights) -> float:
    """The ``q`` quantile of ``values`` under ``weights``: the smallest value whose cumulative weight reaches ``q``
    of the total (numpy's ``inverted_cdf``; with equal weights, the lower of the two middle values for a median)."""
    return float(np.quantile(np.asarray(values, dtype=float), q, weights=np.asarray(weights, dtype=float),
                             method="inverted_cdf"))


def wrap(values, half: float):
    """Wrap angles or angle differences into [-half, half)."""
    values = np.asarray(values, dtype=float)
    return (values + half) % (2.0 * half) - half


def errors(y_true, y_pred, angle_unit: str | None = None):
    """Signed errors ``y_pred - y_true``, wrapped for an angle target."""
    err = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    half = half_turn(angle_unit)
    return wrap(err, half) if half is not None else err


def loss_from_errors(err, metric: str, weights=None) -> float:
    """The loss named ``metric`` (lower is better) of an error vector (weighted with ``weights``)."""
    err = np.asarray(err, dtype=float)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if metric == "rmse":
            return float(np.sqrt(np.average(err**2, weights=w)))
        if metric == "mse":
            return float(np.average(err**2, weights=w))
        if metric == "mae":
            return float(np.average(np.abs(err), weights=w))
        if metric == "median_ae":
            return weighted_quantile(np.abs(err), 0.5, w)
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(LOSSES)}")
    if metric == "rmse":
        return float(np.sqrt(np.mean(err**2)))
    if metric == "mse":
        return float(np.mean(err**2))
    if metric == "mae":
        return float(np.mean(np.abs(err)))
    if metric == "median_ae":
        return float(np.median(np.abs(err)))
    raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(LOSSES)}")


def loss(y_true, y_pred, metric: str, angle_unit: str | None = None, weights=None) -> float:
    return loss_from_errors(errors(y_true, y_pred, angle_unit), metric, weights)


def metric_label(metric: str) -> str:
    """The name people read for ``metric`` (``rmse`` -> ``RMSE``); an unknown name as it is."""
    return METRIC_LABELS.get(metric, metric)


def tolerance_column(tol: float) -> str:
    """Column name for the fraction of rows within tolerance ``tol``: ``within_10``, ``within_2.5``."""
    return f"within_{float(tol):g}"


def metric_row(y_true, y_pred, tolerances, angle_unit: str | None = None, weights=None) -> dict:
    """Every evaluation metric of one set of predictions, as a dict of floats (weighted with ``weights``; ``n``
    counts rows)."""
    if weights is not None and len(weights):
        return _weighted_metric_row(np.asarray(y_true, dtype=float), y_pred, tolerances, angle_unit,
                                    np.asarray(weights, dtype=float))
    y_true = np.asarray(y_true, dtype=float)
    err = errors(y_true, y_pred, angle_unit)
    abs_err = np.abs(err)
    n = len(err)
    row = {"n": n}
    if n == 0:
        nan = float("nan")
        row.update(dict.fromkeys(EVALUATION_METRICS, nan))
        row.update({tolerance_column(t): nan for t in tolerances})
        return row
    half = half_turn(angle_unit)
    if half is None:
        deviations = y_true - y_true.mean()
    else:  # deviations from the circular mean, wrapped like the errors
        deviations = wrap(y_true - circular_mean(y_true, angle_unit), half)
    ss_tot = float(np.sum(deviations**2))
    ss_res = float(np.sum(err**2))
    row.update(
        rmse=float(np.sqrt(np.mean(err**2))),
        mae=float(abs_err.mean()),
        r2=1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        bias=float(err.mean()),
        median_ae=float(np.median(abs_err)),
        p90_ae=float(np.percentile(abs_err, 90)),
        p95_ae=float(np.percentile(abs_err, 95)),
    )
    row.update({tolerance_column(t): float(np.mean(abs_err <= t)) for t in tolerances})
    return row


def _weighted_metric_row(y_true, y_pred, tolerances, angle_unit, w) -> dict:
    err = errors(y_true, y_pred, angle_unit)
    abs_err = np.abs(err)
    half = half_turn(angle_unit)
    if half is None:
        deviations = y_true - np.average(y_true, weights=w)
    else:
        deviations = wrap(y_true - circular_mean(y_true, angle_unit, w), half)
    ss_tot = float(np.sum(w * deviations**2))
    ss_res = float(np.sum(w * err**2))
    row = {"n": len(err),
           "rmse": float(np.sqrt(np.average(err**2, weights=w))),
           "mae": float(np.average(abs_err, weights=w)),
           "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
           "bias": float(np.average(err, weights=w)),
           "median_ae": weighted_quantile(abs_err, 0.5, w),
           "p90_ae": weighted_quantile(abs_err, 0.9, w),
           "p95_ae": weighted_quantile(abs_err, 0.95, w)}
    row.update({tolerance_column(t): float(np.average(abs_err <= t, weights=w)) for t in tolerances})
    return row
