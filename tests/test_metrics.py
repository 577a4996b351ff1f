import math

import numpy as np
import pytest

from rfe_lib import metrics


def test_wrap_into_half_open_interval():
    v = metrics.wrap([180, -180, 359, -181, 540, 0.5], 180.0)
    assert np.allclose(v, [-180, -180, -1, 179, -180, 0.5])
    assert np.all(v >= -180) and np.all(v < 180)


def test_angle_errors_are_wrapped():
    err = metrics.errors([1, 359, 90], [359, 1, 270], angle_unit="degrees")
    assert np.allclose(err, [-2, 2, -180])
    rad = metrics.errors([0.1], [2 * math.pi - 0.1], angle_unit="radians")
    assert np.allclose(rad, [-0.2])


def test_losses_match_definitions():
    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0, 1.0, 8.0])
    err = p - y
    assert metrics.loss(y, p, "rmse") == pytest.approx(np.sqrt(np.mean(err**2)))
    assert metrics.loss(y, p, "mse") == pytest.approx(np.mean(err**2))
    assert metrics.loss(y, p, "mae") == pytest.approx(np.mean(np.abs(err)))
    assert metrics.loss(y, p, "median_ae") == pytest.approx(np.median(np.abs(err)))
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.loss(y, p, "r2")


def test_metric_row_values_and_tolerances():
    y = np.array([0.0, 10.0, 20.0, 30.0])
    p = np.array([5.0, 10.0, 50.0, 28.0])
    row = metrics.metric_row(y, p, [5, 10])
    assert row["n"] == 4
    assert row["bias"] == pytest.approx(np.mean(p - y))
    assert row["within_5"] == pytest.approx(3 / 4)
    assert row["within_10"] == pytest.approx(3 / 4)
    assert row["r2"] == pytest.approx(1 - np.sum((p - y) ** 2) / np.sum((y - y.mean()) ** 2))
    assert row["p90_ae"] == pytest.approx(np.percentile(np.abs(p - y), 90))


def test_metric_row_for_angles_uses_wrapped_errors():
    row = metrics.metric_row([359.0, 1.0], [1.0, 359.0], [3], angle_unit="degrees")
    assert row["mae"] == pytest.approx(2.0)
    assert row["within_3"] == 1.0


def test_tolerance_column_names():
    assert metrics.tolerance_column(10) == "within_10"
    assert metrics.tolerance_column(2.5) == "within_2.5"
