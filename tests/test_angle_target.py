"""An angle target end to end: CSV input, an angle feature, a derived feature, median imputation, a fractional step."""

import numpy as np
import pandas as pd
import pytest

import yaml

from conftest import ANGLE_CONFIG, TARGET, angle_frame, layout, snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def angle_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("angle")
    angle_frame().to_csv(workdir / "data.csv", index=False)
    (workdir / "config.yaml").write_text(yaml.safe_dump(ANGLE_CONFIG))
    # the summary (rounds and selected) and every table before it: the tests read Parquet only, no figure or workbook
    snakemake(workdir, "-j", "2", TARGET.file("rounds"))
    return layout(workdir)


def test_angle_predictions_are_angles_and_errors_are_wrapped(angle_run):
    pred = pd.read_parquet(angle_run.round_file(0, "predictions"))
    assert pred["y_pred"].between(0, 360, inclusive="left").all()
    wrapped = (pred["y_pred"] - pred["y_true"] + 180) % 360 - 180
    np.testing.assert_allclose(pred["error"], wrapped)
    assert pred["error"].between(-180, 180, inclusive="left").all()
    test = pred[pred["set"] == "test"]
    metrics = pd.read_parquet(angle_run.round_file(0, "metrics")).set_index("set")
    assert metrics.loc["test", "rmse"] == pytest.approx(np.sqrt(np.mean(test["error"] ** 2)))
    assert metrics.loc["test", "within_20"] == pytest.approx(np.mean(np.abs(test["error"]) <= 20))
    assert metrics.loc["test", "mae"] < 40  # the model learns the direction (a constant guess gives ~90)


def test_angle_feature_is_one_feature_and_fraction_step_schedule(angle_run):
    fmap = pd.read_parquet(angle_run.file("feature_map"))
    assert fmap.loc[fmap["feature"] == "wind_dir", "column"].tolist() == ["wind_dir_sin", "wind_dir_cos"]
    assert fmap.loc[fmap["feature"] == "x1x2", "kind"].item() == "derived"
    rounds = pd.read_parquet(angle_run.file("rounds"))
    assert rounds["n_features"].tolist() == [5, 3]  # step 0.5 of 5 removes 2
    validation = pd.read_parquet(angle_run.file("validation"))
    assert ((validation["column"] == "x2") & (validation["check"] == "missing")).any()
    kept = set(pd.read_parquet(angle_run.file("selected"))["feature"])
    assert {"x1", "x2"} <= kept or "x1x2" in kept


def test_every_number_of_the_run_equals_an_independent_recomputation(angle_run):
    """The CV losses (wrapped errors), the importances and eliminations, the final models' predictions, every
    metric and the summary of this run (degrees in [0, 360), imputation, an angle feature, a derived feature),
    recomputed from the raw CSV with scikit-learn (tests/_reference.py): SimpleImputer and HistGradientBoosting
    fitted on the sine and on the cosine of the target, atan2, errors wrapped into [-180, 180)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    import _reference as ref_

    workdir = angle_run.root.parents[1]
    raw = pd.read_csv(workdir / "data.csv")
    rad = np.radians(raw["wind_dir"].to_numpy(dtype=float))
    columns = {"x1": {"x1": raw["x1"].to_numpy(dtype=float)}, "x2": {"x2": raw["x2"].to_numpy(dtype=float)},
               "wind_dir": {"wind_dir_sin": np.sin(rad), "wind_dir_cos": np.cos(rad)},
               "noise": {"noise": raw["noise"].to_numpy(dtype=float)},
               "x1x2": {"x1x2": (raw["x1"] * raw["x2"]).to_numpy(dtype=float)}}
    config = {**ANGLE_CONFIG, "split": {"folds": 5, "seed": 42, "stratify_bins": 10, "test_fraction": 0.15,
                                        "val_fraction": 0.15}}  # the schema's defaults, which this run uses
    run = ref_.Run(workdir, raw, config, columns)
    fixed = ANGLE_CONFIG["model"]["params"]
    model = lambda p: make_pipeline(SimpleImputer(strategy="median"),  # noqa: E731
                                    HistGradientBoostingRegressor(**fixed, **p, random_state=42))
    ref = ref_.recompute(run, model, "rmse", ANGLE_CONFIG["evaluation"]["tolerances"], angle="degrees")
    ref_.check_model_table(run)
    ref_.check_hpo(run, ref)
    ref_.check_importance_and_elimination(run, ref)
    ref_.check_predictions(run, ref)
    ref_.check_metrics(run, ref)
    ref_.check_selection(run, ref_.check_summary(run, ref, "rmse"), "best")
