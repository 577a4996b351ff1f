"""Bad input (issue 6): one clear message, before any job starts, and nothing left behind.

Most cases run the parse-time checks in-process, in the order the workflow runs them when it is parsed
(workflow/rules/common.smk: ``Settings.from_config``, the config's one validation, then ``make_plan``), and
assert on the message. A representative subset runs the real ``snakemake`` command and checks what the user sees:
the message, no Python traceback, no ``results/`` folder and no cached plan.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import SMALL_CONFIG, deep_update, small_frame, write_config
from _reliability import parse_time_checks, run
from rfe_lib import RFEError
from rfe_lib.layout import RESULTS



@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return small_frame(300)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def refused(config: dict, *fragments: str) -> str:
    with pytest.raises(RFEError) as info:
        parse_time_checks(config)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    return message


def config(**overrides) -> dict:
    return deep_update(SMALL_CONFIG, overrides)


def write(frame: pd.DataFrame, name: str = "data.parquet") -> str:
    if name.endswith(".csv"):
        frame.to_csv(name, index=False)
    else:
        frame.to_parquet(name, index=False)
    return name


def test_the_good_config_passes(in_tmp, frame):
    write(frame)
    plan = parse_time_checks(SMALL_CONFIG)
    assert plan.schedule == [5, 4, 3]


# ------------------------------------------------------------------------------------------- the data file

def test_missing_data_file(in_tmp):
    refused(SMALL_CONFIG, "data.path: file 'data.parquet' does not exist", "relative to the directory")


@pytest.mark.parametrize("name", ["data.parquet", "data.csv"])
def test_empty_file(in_tmp, name):
    Path(name).write_bytes(b"")
    refused(config(data={"path": name}), f"'{name}' is empty (0 bytes)")


def test_csv_with_a_header_and_no_rows(in_tmp, frame):
    Path("data.csv").write_text(",".join(frame.columns) + "\n")
    refused(config(data={"path": "data.csv"}), "'data.csv' has a header but no data rows")


def test_unreadable_csv_binary(in_tmp):
    Path("data.csv").write_bytes(bytes(range(256)) * 20)
    refused(config(data={"path": "data.csv"}), "data.path: could not read 'data.csv'")


def test_unreadable_csv_ragged_rows(in_tmp, frame):
    text = frame.to_csv(index=False) + ",".join(["1"] * (frame.shape[1] + 4)) + "\n"
    Path("data.csv").write_text(text)
    refused(config(data={"path": "data.csv"}), "data.path: could not read 'data.csv'", "Expected")


def test_corrupt_parquet(in_tmp):
    Path("data.parquet").write_bytes(b"PAR1" + bytes(500))
    refused(SMALL_CONFIG, "data.path: could not read 'data.parquet'")


def test_path_the_system_cannot_use(in_tmp):
    refused(config(data={"path": "x" * 5000 + ".parquet"}), "data.path: cannot access")


def test_unsupported_extension(in_tmp, frame):
    frame.to_json("data.json")
    refused(config(data={"path": "data.json"}), "unsupported extension; use .parquet or .csv")


# ------------------------------------------------------------------------------------------- columns and values

def test_target_column_missing(in_tmp, frame):
    write(frame)
    refused(config(data={"target": "biker"}), "data.target 'biker' is not a column of the file",
            "did you mean 'bikers'?")


def test_target_with_nan(in_tmp, frame):
    bad = frame.astype({"bikers": float})
    bad.loc[[3, 7], "bikers"] = np.nan
    write(bad)
    refused(SMALL_CONFIG, "the target has 2 missing (NaN) values")


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_target_with_infinity(in_tmp, frame, value):
    bad = frame.astype({"bikers": float})
    bad.loc[5, "bikers"] = value
    write(bad)
    refused(SMALL_CONFIG, "the target has 1 infinite values")


@pytest.mark.parametrize("value, shown", [(12.0, "12"), (0.0, "0"), (-3.25, "-3.25")])
def test_constant_target(in_tmp, frame, value, shown):
    """A target with one value in every row is refused, whatever the value (0 included), before any split."""
    write(frame.assign(bikers=value))
    message = refused(SMALL_CONFIG, f"the target is constant ({shown} in every row): there is nothing to predict")
    assert "too few rows" not in message  # the constant target is the problem named, not its consequence


def test_a_target_with_two_values_is_not_constant(in_tmp, frame):
    """The refusal is for one value only: half the rows, or a single row, with another value make a target."""
    for n_other in (len(frame) // 2, 1):
        y = np.full(len(frame), 12.0)
        y[:n_other] = 13.0
        write(frame.assign(bikers=y))
        assert parse_time_checks(SMALL_CONFIG).schedule  # accepted


def test_non_numeric_feature(in_tmp, frame):
    bad = frame.copy()
    bad["temp"] = bad["temp"].map(lambda v: f"{v:.2f} C")
    write(bad)
    refused(SMALL_CONFIG, "feature 'temp' is not numeric", "encode it as numbers or list it in data.drop")


def test_non_numeric_feature_in_csv(in_tmp, frame):
    bad = frame.copy()
    bad["hum"] = bad["hum"].astype(str)
    bad.loc[4, "hum"] = "n/a?"
    write(bad, "data.csv")
    refused(config(data={"path": "data.csv"}), "feature 'hum' is not numeric")


def test_all_nan_feature(in_tmp, frame):
    bad = frame.copy()
    bad["hum"] = np.nan
    write(bad)
    refused(SMALL_CONFIG, "feature 'hum' is entirely missing (all NaN)", "data.drop")


def test_infinite_feature(in_tmp, frame):
    bad = frame.copy()
    bad.loc[2, "temp"] = np.inf
    write(bad)
    refused(SMALL_CONFIG, "feature 'temp' has 1 infinite values")


def test_duplicate_column_names_parquet(in_tmp, frame):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = pa.Table.from_arrays([*table.columns, table.column("temp")], names=[*table.column_names, "temp"])
    pq.write_table(table, "data.parquet")
    refused(SMALL_CONFIG, "'data.parquet' has duplicate column names: temp")


def test_duplicate_column_names_csv(in_tmp, frame):
    # pandas would silently rename the second one to 'temp.1': the header is checked first
    header = [c if c != "hum" else "temp" for c in frame.columns]
    frame.set_axis(header, axis=1).to_csv("data.csv", index=False)
    refused(config(data={"path": "data.csv"}), "'data.csv' has duplicate column names: temp")


def test_fewer_rows_than_the_split_needs(in_tmp, frame):
    write(frame.head(20))
    refused(SMALL_CONFIG, "too few rows for the split", "split.folds=3",
            "Lower split.stratify_bins or split.folds, or use more data")


def test_split_too_fine_for_the_data(in_tmp, frame):
    write(frame)
    refused(config(split={"stratify_bins": 50, "folds": 10}), "too few rows for the split")


def test_cyclic_column_absent(in_tmp, frame):
    write(frame)
    refused(config(features={"cyclic": {"hours": 24}}),
            "features.cyclic names 'hours' is not a column of the file", "did you mean 'hour'?")


def test_angle_column_absent(in_tmp, frame):
    write(frame)
    refused(config(features={"angles": {"wind_direction": "degrees"}}),
            "features.angles names 'wind_direction' is not a column of the file")


def test_feature_listed_but_absent(in_tmp, frame):
    write(frame)
    refused(config(data={"features": ["hour", "temp", "humidity"]}),
            "data.features names 'humidity' is not a column of the file")


# ------------------------------------------------------------------------------------------- the configuration

@pytest.mark.parametrize("overrides, fragment", [
    ({"rfe": {"min_feature": 3}}, "unknown config key 'rfe.min_feature'; did you mean 'rfe.min_features'?"),
    ({"split": {"fold": 3}}, "unknown config key 'split.fold'; did you mean 'split.folds'?"),
    ({"hpo_": {}}, "unknown config key 'hpo_'; did you mean 'hpo'?"),
    ({"model": {"estimater": "sklearn.linear_model.Ridge"}},
     "unknown config key 'model.estimater'; did you mean 'model.estimator'?"),
    ({"importance": {"shard": 2}}, "unknown config key 'importance.shard'; did you mean 'importance.shards'?"),
    ({"lofo": {"shards": 2}}, "unknown config key 'lofo': it is now called 'importance' (same settings)"),
])
def test_misspelt_key_suggests_the_right_one(in_tmp, frame, overrides, fragment):
    write(frame)
    refused(config(**overrides), "invalid configuration", fragment)


@pytest.mark.parametrize("overrides, fragment", [
    ({"split": {"folds": "five"}}, "config key 'split.folds' must be of type integer, got 'five' (str)"),
    ({"split": {"folds": 3.0}}, "config key 'split.folds' must be of type integer, got 3.0 (float)"),
    ({"split": {"test_fraction": "0.2"}}, "config key 'split.test_fraction' must be of type number"),
    ({"model": {"scale": "yes"}}, "config key 'model.scale' must be of type boolean"),
    ({"data": {"features": "hour"}}, "config key 'data.features' must be of type ['array', 'null']"),
    ({"hpo": {"shards": "many"}},
     "config key 'hpo.shards' has an invalid value 'many'; expected an integer >= 1 or 'auto'"),
    ({"rfe": {"select": "smallest"}}, "config key 'rfe.select' must be one of ['best', 'one_se', 'validation'], got 'smallest'"),
    ({"split": {"seed": 2**40}}, "config key 'split.seed' has an invalid value 1099511627776"),
    ({"split": {"test_fraction": float("nan")}}, "config key 'split.test_fraction' must be a finite number, got nan"),
])
def test_wrong_type(in_tmp, frame, overrides, fragment):
    write(frame)
    refused(config(**overrides), "invalid configuration", fragment)


def test_non_string_key(in_tmp, frame):
    write(frame)
    bad = config()
    bad["features"]["cyclic"] = {1: 24}
    refused(bad, "config key 'features.cyclic.1' must be a string, got 1 (int); quote it")


@pytest.mark.parametrize("grid", [{}, [], [{}], [{}, {}]])
def test_empty_grid(in_tmp, frame, grid):
    write(frame)
    bad = config()
    bad["hpo"]["grid"] = grid
    refused(bad, "hpo.grid is empty")


def test_grid_parameter_with_no_values(in_tmp, frame):
    write(frame)
    bad = config()
    bad["hpo"]["grid"] = {"max_iter": [], "learning_rate": [0.1]}
    refused(bad, "hpo.grid.max_iter: give a non-empty list of values, got []")


def test_grid_parameter_the_estimator_does_not_accept(in_tmp, frame):
    write(frame)
    bad = config()
    bad["hpo"]["grid"] = {"learning_rat": [0.1], "max_leaf_nodes": [7]}
    refused(bad, "hpo.grid.learning_rat: HistGradientBoostingRegressor has no parameter 'learning_rat'",
            "did you mean 'learning_rate'?", "it accepts: ")


def test_grid_parameter_checked_against_the_estimator_of_the_config(in_tmp, frame):
    write(frame)
    bad = config(model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    bad["hpo"]["grid"] = [{"alpha": [0.1, 1.0]}, {"max_iter": [10], "max_leaf_nodes": [3]}]
    message = refused(bad, "hpo.grid[1].max_leaf_nodes: Ridge has no parameter 'max_leaf_nodes'")
    assert "alpha" not in message.split("it accepts")[0]


def test_fixed_parameter_the_estimator_does_not_accept(in_tmp, frame):
    write(frame)
    refused(config(model={"params": {"max_iters": 30}}),
            "model.params.max_iters: HistGradientBoostingRegressor has no parameter 'max_iters'",
            "did you mean 'max_iter'?")


def test_grid_value_the_estimator_rejects(in_tmp, frame):
    write(frame)
    bad = config()
    bad["hpo"]["grid"] = {"learning_rate": [0.1, -1.0], "max_leaf_nodes": [7]}
    refused(bad, "hpo.grid.learning_rate: The 'learning_rate' parameter of HistGradientBoostingRegressor",
            "Got -1.0 instead")


@pytest.mark.parametrize("estimator, fragment", [
    ("sklearn.ensemble.NoSuchRegressor", "module 'sklearn.ensemble' has no 'NoSuchRegressor'"),
    ("sklearn.ensemble.RandomForestRegresor", "did you mean 'sklearn.ensemble.RandomForestRegressor'?"),
    ("sklearn.no_such_module.Ridge", "cannot import module 'sklearn.no_such_module'"),
    ("Ridge", "must be a dotted class path such as 'sklearn.linear_model.Ridge'"),
    ("sklearn..Ridge", "must be a dotted class path"),
])
def test_estimator_that_cannot_be_imported(in_tmp, frame, estimator, fragment):
    write(frame)
    refused(config(model={"estimator": estimator}), "model.estimator", fragment)


@pytest.mark.parametrize("estimator", [
    "sklearn.ensemble.RandomForestClassifier",   # a classifier
    "sklearn.preprocessing.StandardScaler",      # a transformer
    "sklearn.cluster.KMeans",                    # a clusterer
    "sklearn.metrics.mean_squared_error",        # a function
    "sklearn.linear_model",                      # a module
])
def test_estimator_that_is_not_a_regressor(in_tmp, frame, estimator):
    write(frame)
    refused(config(model={"estimator": estimator}), f"model.estimator '{estimator}' is not a scikit-learn regressor")


@pytest.mark.parametrize("min_features", [5, 6, 50])
def test_min_features_not_below_the_feature_count(in_tmp, frame, min_features):
    write(frame)
    refused(config(rfe={"min_features": min_features}),
            f"rfe.min_features ({min_features}) must be below the number of features (5)")


def test_min_features_counts_features_not_columns(in_tmp, frame):
    # hour is one feature with two model columns (sin, cos): 5 features, 6 columns
    write(frame)
    plan = parse_time_checks(config(rfe={"min_features": 4}))
    assert plan.schedule == [5, 4] and plan.n_columns == 6


@pytest.mark.parametrize("step", [0, -1, 0.0, 1.5, -0.5, 1.0000001])
def test_step_zero_or_fraction_outside_0_1(in_tmp, frame, step):
    write(frame)
    refused(config(rfe={"step": step}), "config key 'rfe.step' has an invalid value",
            "an integer, or a fraction (0, 1)")


@pytest.mark.parametrize("step, schedule", [(1, [5, 4, 3]), (2, [5, 3]), (0.5, [5, 3]), (0.1, [5, 4, 3])])
def test_valid_steps(in_tmp, frame, step, schedule):
    write(frame)
    assert parse_time_checks(config(rfe={"step": step})).schedule == schedule


# ------------------------------------------------------------------------------------------- through the real CLI

CLI_CASES = {
    "missing data file": (None, {}, "data.path: file 'data.parquet' does not exist"),
    "misspelt key": ("frame", {"rfe": {"min_feature": 3}},
                     "unknown config key 'rfe.min_feature'; did you mean 'rfe.min_features'?"),
    "grid parameter not accepted": ("frame", {"hpo": {"grid": {"learning_rat": [0.1]}}},
                                    "HistGradientBoostingRegressor has no parameter 'learning_rat'"),
    "target with NaN": ("nan_target", {}, "the target has 1 missing (NaN) values"),
    "constant target": ("constant_target", {}, "the target is constant (5 in every row): there is nothing to predict"),
    "too few rows": ("few_rows", {}, "too few rows for the split"),
    "estimator outside the allow-list": ("frame", {"model": {"estimator": "os.system"}},
                                         "model.estimator 'os.system' is not under an allowed module prefix"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_refuses_with_the_message_only(case, tmp_path, frame):
    data, overrides, fragment = CLI_CASES[case]
    if data == "frame":
        frame.to_parquet(tmp_path / "data.parquet", index=False)
    elif data == "nan_target":
        frame.astype({"bikers": float}).assign(bikers=lambda d: d["bikers"].mask(d.index == 9)).to_parquet(
            tmp_path / "data.parquet", index=False)
    elif data == "constant_target":
        frame.assign(bikers=5).to_parquet(tmp_path / "data.parquet", index=False)
    elif data == "few_rows":
        frame.head(20).to_parquet(tmp_path / "data.parquet", index=False)
    write_config(tmp_path, overrides)
    if "grid" in str(overrides):  # replace the grid, not merge into it
        cfg = yaml.safe_load((tmp_path / "config.yaml").read_text())
        cfg["hpo"]["grid"] = overrides["hpo"]["grid"]
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))

    proc = run(tmp_path, "-j", "1", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert fragment in proc.stderr, out[-4000:]
    assert "Traceback" not in out and "rfe_lib/" not in out, out[-4000:]
    # Refused before any job: nothing written.
    assert not (tmp_path / RESULTS).exists()
    plan_cache = tmp_path / ".snakemake" / "rfe-plan"
    assert not plan_cache.exists() or not any(plan_cache.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for n in ("config.yaml", "data.parquet", ".snakemake") if (tmp_path / n).exists())
