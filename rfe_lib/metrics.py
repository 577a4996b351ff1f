"""Errors, losses and evaluation metrics (numpy only).

For an angle target every error is wrapped into [-half, half) where half is 180 (degrees) or pi
(radians) *before* any metric is computed, so a prediction of 359 degrees for 1 degree is an error of
-2, not 358.
"""

from __future__ import annotations

import math

import numpy as np

LOSSES = ("rmse", "mae", "mse", "median_ae")
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


def circular_mean(angles, unit: str) -> float:
    """The mean direction of ``angles`` (in ``unit``): the angle of the mean of their unit vectors."""
    scale = math.pi / half_turn(unit)
    angles = np.asarray(angles, dtype=float) * scale
    return math.atan2(np.sin(angles).mean(), np.cos(angles).mean()) / scale


def wrap(values, half: float):
    """Wrap angles or angle differences into [-half, half)."""
    values = np.asarray(values, dtype=float)
    return (values + half) % (2.0 * half) - half


def errors(y_true, y_pred, angle_unit: str | None = None):
    """Signed errors ``y_pred - y_true``, wrapped for an angle target."""
    err = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    half = half_turn(angle_unit)
    return wrap(err, half) if half is not None else err


def loss_from_errors(err, metric: str) -> float:
    """The loss named ``metric`` (lower is better) of an error vector."""
    err = np.asarray(err, dtype=float)
    if metric == "rmse":
        return float(np.sqrt(np.mean(err**2)))
    if metric == "mse":
        return float(np.mean(err**2))
    if metric == "mae":
        return float(np.mean(np.abs(err)))
    if metric == "median_ae":
        return float(np.median(np.abs(err)))
    raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(LOSSES)}")


def loss(y_true, y_pred, metric: str, angle_unit: str | None = None) -> float:
    return loss_from_errors(errors(y_true, y_pred, angle_unit), metric)


def tolerance_column(tol: float) -> str:
    """Column name for the fraction of rows within tolerance ``tol``: ``within_10``, ``within_2.5``."""
    return f"within_{float(tol):g}"


def metric_row(y_true, y_pred, tolerances, angle_unit: str | None = None) -> dict:
    """Every evaluation metric of one set of predictions, as a dict of floats."""
    y_true = np.asarray(y_true, dtype=float)
    err = errors(y_true, y_pred, angle_unit)
    abs_err = np.abs(err)
    n = len(err)
    row = {"n": n}
    if n == 0:
        nan = float("nan")
        row.update(rmse=nan, mae=nan, r2=nan, bias=nan, median_ae=nan, p90_ae=nan, p95_ae=nan)
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
