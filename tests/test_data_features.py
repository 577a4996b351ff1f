import math

import numpy as np
import pandas as pd
import pytest

from rfe_lib import RFEError
from conftest import data_spec
from rfe_lib.data import read_table, validate_table
from rfe_lib.features import columns_of, engineer, feature_map


def spec(**kw):
    return data_spec(**{"path": "x.parquet", "target": "y", **kw})


def frame():
    return pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "h": [0, 6, 12, 18], "c": [5, 5, 5, 5],
                         "w": [0.0, 90.0, 180.0, 270.0], "y": [1.0, 2.0, 3.0, 4.5]})


def test_validation_keeps_numeric_drops_constant():
    rows, kept = validate_table(frame(), spec())
    assert kept == ["a", "h", "w"]
    dropped = [r for r in rows if r["status"] == "dropped"]
    assert [r["column"] for r in dropped] == ["c"]
    assert not [r for r in rows if r["status"] == "error"]


def test_validation_errors_name_the_problem():
    df = frame().assign(s=["x", "y", "z", "w"])
    df.loc[0, "y"] = np.nan
    rows, _ = validate_table(df, spec())
    errors = " | ".join(r["detail"] for r in rows if r["status"] == "error")
    assert "feature 's' is not numeric" in errors
    assert "target has 1 missing" in errors


def test_missing_values_are_a_warning_not_an_error():
    df = frame()
    df.loc[1, "a"] = np.nan
    rows, kept = validate_table(df, spec())
    assert "a" in kept
    assert any(r["column"] == "a" and r["status"] == "warning" for r in rows)


def test_feature_map_groups_sin_cos_as_one_feature():
    s = spec(cyclic={"h": 24}, angles={"w": "degrees"}, derived={"a2": {"op": "square", "columns": ["a"]}})
    fmap = feature_map(["a", "h", "w"], s)
    assert [(r["feature"], r["column"]) for r in fmap] == [
        ("a", "a"), ("h", "h_sin"), ("h", "h_cos"), ("w", "w_sin"), ("w", "w_cos"), ("a2", "a2")]
    table = engineer(frame(), fmap, s)
    assert np.allclose(table["h_sin"], np.sin(2 * math.pi * np.array([0, 6, 12, 18]) / 24))
    assert np.allclose(table["w_cos"], [1, 0, -1, 0], atol=1e-12)
    assert np.allclose(table["a2"], [1, 4, 9, 16])
    assert columns_of(pd.DataFrame(fmap), ["w", "a"]) == ["a", "w_sin", "w_cos"]


def test_ratio_by_zero_is_missing_not_infinite():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 2.0], "y": [1.0, 2.0]})
    s = spec(derived={"r": {"op": "ratio", "columns": ["a", "b"]}})
    out = engineer(df, feature_map(["a", "b"], s), s)
    assert np.isnan(out["r"][0]) and out["r"][1] == 1.0


def test_read_table_csv_and_parquet_agree(tmp_path):
    df = frame()
    df.to_parquet(tmp_path / "d.parquet", index=False)
    df.to_csv(tmp_path / "d.csv", index=False)
    a, b = read_table(tmp_path / "d.parquet"), read_table(tmp_path / "d.csv")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_read_table_refuses_duplicate_columns(tmp_path):
    (tmp_path / "d.csv").write_text("a,a,y\n1,2,3\n")
    with pytest.raises(RFEError, match="duplicate column names: a"):
        read_table(tmp_path / "d.csv")
