"""An angle target end to end: CSV input, an angle feature, a derived feature, median imputation, a fractional step."""

import numpy as np
import pandas as pd
import pytest

import yaml

from conftest import ANGLE_CONFIG, angle_frame, read_run, snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def angle_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("angle")
    angle_frame().to_csv(workdir / "data.csv", index=False)
    (workdir / "config.yaml").write_text(yaml.safe_dump(ANGLE_CONFIG))
    snakemake(workdir, "-j", "2")
    return read_run(workdir)


def test_angle_predictions_are_angles_and_errors_are_wrapped(angle_run):
    pred = pd.read_parquet(angle_run / "round_000/model/predictions.parquet")
    assert pred["y_pred"].between(0, 360, inclusive="left").all()
    wrapped = (pred["y_pred"] - pred["y_true"] + 180) % 360 - 180
    np.testing.assert_allclose(pred["error"], wrapped)
    assert pred["error"].between(-180, 180, inclusive="left").all()
    test = pred[pred["set"] == "test"]
    metrics = pd.read_parquet(angle_run / "round_000/eval/metrics.parquet").set_index("set")
    assert metrics.loc["test", "rmse"] == pytest.approx(np.sqrt(np.mean(test["error"] ** 2)))
    assert metrics.loc["test", "within_20"] == pytest.approx(np.mean(np.abs(test["error"]) <= 20))
    assert metrics.loc["test", "mae"] < 40  # the model learns the direction (a constant guess gives ~90)


def test_angle_feature_is_one_feature_and_fraction_step_schedule(angle_run):
    fmap = pd.read_parquet(angle_run / "data/feature_map.parquet")
    assert fmap.loc[fmap["feature"] == "wind_dir", "column"].tolist() == ["wind_dir_sin", "wind_dir_cos"]
    assert fmap.loc[fmap["feature"] == "x1x2", "kind"].item() == "derived"
    rounds = pd.read_parquet(angle_run / "summary/rounds.parquet")
    assert rounds["n_features"].tolist() == [5, 3]  # step 0.5 of 5 removes 2
    validation = pd.read_parquet(angle_run / "data/validation.parquet")
    assert ((validation["column"] == "x2") & (validation["check"] == "missing")).any()
    kept = set(pd.read_parquet(angle_run / "summary/selected.parquet")["feature"])
    assert {"x1", "x2"} <= kept or "x1x2" in kept
