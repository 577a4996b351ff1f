"""The numbers a user acts on, recomputed independently (tests/_reference.py: plain numpy, pandas, scipy and
scikit-learn, never rfe_lib) from the raw data of real runs, and compared with every artifact that holds them:
each configuration's CV losses, each feature's importance, the eliminations, the final model's predictions, every
metric, every value of summary/rounds.parquet and the selected round.

The runs, each covering what the others do not:

- ``small``: the shared small run (HistGradientBoosting, a cyclic feature, rmse, rfe.select: best).
- ``ridge``: Ridge on data with missing values, ``features.impute: median`` and ``model.scale: true`` (the
  reference is ``Pipeline(SimpleImputer, StandardScaler, Ridge)`` fitted inside each fold; the features differ in
  scale by a factor of 10^5, so a model without the scaler, or with one fitted on other rows, gives other losses),
  hpo.metric mse, rfe.select: one_se. The data make the three rules disagree and the one_se round worse on the
  validation rows than round 0, so the run carries the selection warning into the workbook and the report.
- ``angle_deg`` and ``angle_rad``: angle targets with Ridge, in degrees in [-180, 180) and in radians in [0, 2 pi),
  both centred on the wrap point, so an unwrapped error or an arithmetic mean as the constant predictor changes
  every loss; the last round has one feature, whose importance is measured against the circular-mean constant
  predictor; hpo.metric mae and median_ae; rfe.select: validation.

The HistGradientBoosting angle run in degrees in [0, 360) is checked the same way in tests/test_angle_target.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import _reference as ref_
from _reference import Run, cyclic, stratification_problems
from conftest import SMALL_CONFIG, TARGET, snakemake

pytestmark = pytest.mark.slow

RIDGE_CONFIG = {
    "run_name": "t",
    "data": {"path": "data.parquet", "target": "y", "features": None},
    "features": {"impute": "median"},
    "split": {"test_fraction": 0.2, "val_fraction": 0.2, "stratify_bins": 4, "folds": 3, "seed": 5},
    "model": {"estimator": "sklearn.linear_model.Ridge", "scale": True},
    "hpo": {"grid": {"alpha": [0.3, 30.0]}, "metric": "mse", "shards": 1},
    "rfe": {"step": 2, "min_features": 3, "select": "one_se"},
    "importance": {"shards": 1},
    "evaluation": {"tolerances": [1, 3]},
}


def ridge_frame(seed: int = 8, n: int = 240) -> pd.DataFrame:
    """Three informative features in very different units, four noise features, missing values in three."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n) * 1000.0
    x2 = rng.normal(size=n) * 0.01
    x3 = rng.normal(size=n)
    noise = {f"n{k}": rng.normal(size=n) * s for k, s in zip(range(1, 5), (1.0, 50.0, 0.1, 5.0))}
    y = 0.003 * x1 + 200 * x2 + 0.35 * x3 + rng.normal(scale=1.5, size=n)
    df = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, **noise, "y": y})
    for col, k in (("x1", 25), ("n2", 15), ("x3", 10)):
        df.loc[rng.choice(n, k, replace=False), col] = np.nan
    return df


def angle_config(unit: str, metric: str, tolerances) -> dict:
    return {
        "run_name": "t",
        "data": {"path": "data.parquet", "target": "direction", "features": None},
        "split": {"test_fraction": 0.2, "val_fraction": 0.2, "stratify_bins": 4, "folds": 3, "seed": 11},
        "model": {"estimator": "sklearn.linear_model.Ridge"},
        "hpo": {"grid": {"alpha": [0.1, 10.0]}, "metric": metric, "shards": 1},
        "rfe": {"step": 2, "min_features": 1, "select": "validation"},
        "importance": {"shards": 1},
        "evaluation": {"tolerances": tolerances},
        "target_angle": unit,
    }


def directions(unit: str, nonnegative: bool, centre: float, n: int = 300, seed: int = 4) -> pd.DataFrame:
    """A direction centred on ``centre`` degrees (the wrap point of its range), in ``unit``."""
    rng = np.random.default_rng(seed)
    x1, x2, noise = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    deg = centre + 35 * x1 + 15 * x2 + rng.normal(scale=10, size=n)
    deg = np.mod(deg, 360) if nonnegative else (deg + 180) % 360 - 180
    return pd.DataFrame({"x1": x1, "x2": x2, "noise": noise,
                         "direction": deg if unit == "degrees" else np.radians(deg)})


def numeric_columns(raw: pd.DataFrame, target: str) -> dict:
    return {c: {c: raw[c].to_numpy(dtype=float)} for c in raw.columns if c != target}


def _run(tmp_path_factory, name, frame, config, *targets) -> Run:
    workdir = tmp_path_factory.mktemp(name)
    frame.to_parquet(workdir / "data.parquet", index=False)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    snakemake(workdir, "-j", "2", *(targets or (TARGET.file("selected"),)))
    return Run(workdir, frame, config, numeric_columns(frame, config["data"]["target"]))


# Each case: the run, its reference recomputation, the loss, the angle unit and the rule.
CASES = ["small", "ridge", "angle_deg", "angle_rad"]


@pytest.fixture(scope="module")
def small(small_run):
    raw = pd.read_parquet(small_run / "data.parquet")
    s, c = cyclic(raw["hour"], 24)
    columns = {"hour": {"hour_sin": s, "hour_cos": c}}
    columns.update({f: {f: raw[f].to_numpy(dtype=float)} for f in SMALL_CONFIG["data"]["features"][1:]})
    run = Run(small_run, raw, SMALL_CONFIG, columns)
    fixed, seed = SMALL_CONFIG["model"]["params"], SMALL_CONFIG["split"]["seed"]
    model = lambda p: HistGradientBoostingRegressor(**fixed, **p, random_state=seed)  # noqa: E731
    # LOFO of this run is recomputed in tests/test_workflow.py (round 0); the refits here are the expensive part
    return run, ref_.recompute(run, model, "rmse", SMALL_CONFIG["evaluation"]["tolerances"], lofo=False), "rmse", \
        None, "best"


@pytest.fixture(scope="module")
def ridge(tmp_path_factory):
    run = _run(tmp_path_factory, "ridge", ridge_frame(), RIDGE_CONFIG, TARGET.file("selected"),
               TARGET.file("workbook"), TARGET.file("description"))
    model = lambda p: make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), Ridge(**p))  # noqa: E731
    return run, ref_.recompute(run, model, "mse", RIDGE_CONFIG["evaluation"]["tolerances"]), "mse", None, "one_se"


@pytest.fixture(scope="module")
def angle_deg(tmp_path_factory):
    config = angle_config("degrees", "mae", [5, 20])
    run = _run(tmp_path_factory, "angle_deg", directions("degrees", nonnegative=False, centre=180), config)
    ref = ref_.recompute(run, lambda p: Ridge(**p), "mae", [5, 20], angle="degrees")
    return run, ref, "mae", "degrees", "validation"


@pytest.fixture(scope="module")
def angle_rad(tmp_path_factory):
    config = angle_config("radians", "median_ae", [0.1, 0.35])
    run = _run(tmp_path_factory, "angle_rad", directions("radians", nonnegative=True, centre=0), config)
    ref = ref_.recompute(run, lambda p: Ridge(**p), "median_ae", [0.1, 0.35], angle="radians")
    return run, ref, "median_ae", "radians", "validation"


@pytest.fixture(scope="module", params=CASES)
def case(request):
    return request.getfixturevalue(request.param)


def test_model_table_is_the_raw_data_with_missing_values_left_for_the_folds(case):
    run, *_ = case
    ref_.check_model_table(run)


def test_cv_loss_of_every_configuration_and_round(case):
    run, ref, *_ = case
    ref_.check_hpo(run, ref)


@pytest.mark.parametrize("name", ["ridge", "angle_deg", "angle_rad"])  # small: tests/test_workflow.py, round 0
def test_importance_of_every_feature_and_the_eliminations(request, name):
    run, ref, *_ = request.getfixturevalue(name)
    ref_.check_importance_and_elimination(run, ref)


def test_final_model_predicts_as_a_scikit_learn_refit_of_the_chosen_configuration(case):
    run, ref, *_ = case
    ref_.check_predictions(run, ref)


def test_every_metric_of_every_set_from_the_raw_data(case):
    run, ref, *_ = case
    ref_.check_metrics(run, ref)


def test_every_value_of_the_summary_and_the_selected_round(case):
    run, ref, metric, _, rule = case
    expected = ref_.check_summary(run, ref, metric)
    ref_.check_selection(run, expected, rule)


def test_split_is_stratified_in_sets_and_folds(case):
    run, *_ = case
    s = run.config["split"]
    fractions = {"test": s["test_fraction"], "val": s["val_fraction"],
                 "train": 1 - s["test_fraction"] - s["val_fraction"]}
    assert stratification_problems(run.split, run.y_all, s["stratify_bins"], fractions, s["folds"]) == []


def test_angle_predictions_lie_in_the_targets_range(angle_deg, angle_rad):
    for (run, _, _, unit, _), lo, hi in ((angle_deg, -180.0, 180.0), (angle_rad, 0.0, 2 * np.pi)):
        assert run.y_all.min() < lo + 0.1 * (hi - lo) and run.y_all.max() > hi - 0.1 * (hi - lo)  # both ends
        pred = run.read("predictions", 0)["y_pred"]
        assert pred.between(lo, hi, inclusive="left").all(), unit


def test_the_rules_disagree_on_the_ridge_run_and_its_warning_reaches_the_workbook_and_report(ridge):
    """The ridge data were chosen so that best, one_se and validation pick three different rounds, and the one_se
    round does worse on the validation rows than all features: the warning must reach the summarize log, the
    workbook's Summary sheet and the report's front page."""
    run, ref, metric, _, rule = ridge
    expected = ref_.expected_rounds(ref, run, metric)
    assert len({ref_.choose(expected, r) for r in ("best", "one_se", "validation")}) == 3
    r = ref_.choose(expected, rule)
    assert expected.loc[r, "val_loss"] > expected.loc[0, "val_loss"]
    warning = run.read("selected")["warning"].iloc[0]
    assert "WARNING " + warning in run.layout.log("summarize").read_text()
    summary = pd.read_excel(run.layout.file("workbook"), sheet_name="Summary")
    assert summary.loc[summary["selected"], "warning"].tolist() == [warning]
    assert summary.loc[~summary["selected"], "warning"].isna().all()
    text = run.layout.file("description").read_text()
    assert f".. warning::\n\n   {warning}\n" in text
    assert "has the fewest features within one standard error of the lowest CV loss" in text
    _assert_valid_rst(text)


def _assert_valid_rst(text: str) -> None:
    """The description renders as reStructuredText without errors or warnings (docutils, as Snakemake's report)."""
    import re

    import docutils.core

    body = text.replace("{% raw %}", "").replace("{% endraw %}", "")
    # the links to the report's categories, which Snakemake's report defines
    body += "\n" + "".join(f".. _{name}: #\n" for name in set(re.findall(r"`([^`<]+)`_", body)))
    html = docutils.core.publish_string(body, writer="html", settings_overrides={"report_level": 2}).decode()
    assert "System Message" not in html and 'class="admonition warning"' in html
