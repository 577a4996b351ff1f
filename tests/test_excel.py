"""The Excel workbook of a real run: its sheets hold the values of the Parquet artifacts, formatted for people."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL_CONFIG, artifact, layout

SHEETS = ["Summary", "Selected", "Elimination", "HPO", "Importance", "Metrics", "Config", "Provenance", "Validation"]
N_ROUNDS = 3


def sheet(path, name) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=name, engine="openpyxl")


@pytest.fixture(scope="module")
def workbook(small_run):
    run = layout(small_run)
    return run, run.file("workbook")


@pytest.mark.slow
def test_sheets_headers_and_formats(workbook):
    import openpyxl

    _, path = workbook
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(cell.font.bold for cell in ws[1] if cell.value is not None), ws.title
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
        assert all(8 <= w <= 62 for w in widths), (ws.title, widths)
    summary = wb["Summary"]
    header = [c.value for c in summary[1]]
    within = summary.cell(row=2, column=header.index("test_within_10") + 1)
    assert within.number_format == "0.0%" and 0 <= within.value <= 1
    assert summary.cell(row=2, column=header.index("cv_mean") + 1).number_format == "#,##0.0000"
    assert summary.cell(row=2, column=header.index("round") + 1).number_format == "0"


@pytest.mark.slow
def test_summary_selected_elimination_match_the_parquet(workbook):
    run, path = workbook
    rounds = artifact(run, "rounds")
    selected = artifact(run, "selected")
    s = sheet(path, "Summary")
    assert s["round"].tolist() == rounds["round"].tolist()
    for col in ("n_features", "cv_mean", "cv_std", "val_loss", "optimism", "val_rmse", "test_rmse", "test_r2",
                "test_within_25"):
        np.testing.assert_allclose(s[col], rounds[col], rtol=1e-12, err_msg=col)
    assert s["features"].tolist() == [", ".join(f) for f in rounds["features"]]
    assert s["selected"].tolist() == (rounds["round"] == selected["round"].iloc[0]).tolist()
    # the warning, if any, on the selected round's row only (tests/test_reference.py checks a run that has one)
    warning = selected["warning"].iloc[0]
    expected = [warning if sel and not pd.isna(warning) else None for sel in s["selected"]]
    assert [None if pd.isna(w) else w for w in s["warning"]] == expected

    sel = sheet(path, "Selected")
    assert sel["feature"].tolist() == selected["feature"].tolist()
    assert set(sel["round"]) == {selected["round"].iloc[0]}
    np.testing.assert_allclose(sel["importance_mean"], selected["importance_mean"], rtol=1e-12)

    elim = sheet(path, "Elimination")
    first = artifact(run, "features", 0)["feature"]
    assert sorted(elim["feature"]) == sorted(first)  # every feature once
    for r in range(N_ROUNDS):
        gone = artifact(run, "eliminated", r)
        got = elim[elim["round"] == r]
        assert got["feature"].tolist() == gone["feature"].tolist()
        np.testing.assert_allclose(got["importance_mean"], gone["importance_mean"], rtol=1e-12)
    kept = elim[elim["round"].isna()]["feature"]
    assert sorted(kept) == sorted(artifact(run, "features", N_ROUNDS - 1)["feature"])


@pytest.mark.slow
def test_hpo_importance_metrics_match_the_parquet(workbook):
    run, path = workbook
    hpo, lofo, metrics = sheet(path, "HPO"), sheet(path, "Importance"), sheet(path, "Metrics")
    n_configs = 4  # the small grid: 2 x 2, all shown (excel.top_configs = 10)
    assert len(hpo) == N_ROUNDS * n_configs
    for r in range(N_ROUNDS):
        best = artifact(run, "best", r).iloc[0]
        rows = hpo[hpo["round"] == r]
        top = rows[rows["best"]]
        assert len(top) == 1 and top["rank"].item() == 1
        assert top["config_id"].item() == best["config_id"] and top["params"].item() == best["params"]
        assert top["mean"].item() == pytest.approx(best["mean"], rel=1e-12)
        results = artifact(run, "results", r).sort_values(["mean", "config_id"])
        assert rows["config_id"].tolist() == results["config_id"].tolist()

        imp = artifact(run, "importance", r).set_index("feature")
        got = lofo[lofo["round"] == r].set_index("feature")
        assert sorted(got.index) == sorted(imp.index)
        for col in ("importance_mean", "importance_std", "fold_0", "loss_without"):
            np.testing.assert_allclose(got.loc[imp.index, col], imp[col], rtol=1e-12, err_msg=col)
        gone = set(artifact(run, "eliminated", r)["feature"])
        assert set(got.index[got["eliminated"]]) == gone

        m = artifact(run, "metrics", r).set_index("set")
        got = metrics[metrics["round"] == r].set_index("set")
        assert list(got.index) == ["train", "val", "test"]
        for col in m.columns:
            np.testing.assert_allclose(got[col], m.loc[got.index, col], rtol=1e-12, err_msg=col)


@pytest.mark.slow
def test_config_and_provenance(workbook, small_run):
    run, path = workbook
    cfg = sheet(path, "Config").set_index("key")["value"]
    assert json.loads(cfg["run_name"]) == "t"
    assert json.loads(cfg["hpo.grid.learning_rate"]) == SMALL_CONFIG["hpo"]["grid"]["learning_rate"]
    assert json.loads(cfg["plots.top_features"]) == 4  # the schema's default, resolved
    prov = sheet(path, "Provenance").set_index("item")["value"]
    data = small_run / "data.parquet"
    assert prov["input sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert int(prov["input bytes"]) == data.stat().st_size
    assert prov["version: pandas"] == pd.__version__
    assert prov["version: openpyxl"] and prov["version: scikit-learn"]
    start, end = pd.Timestamp(prov["started"]), pd.Timestamp(prov["finished"])
    assert start <= end and pd.Timedelta(0) < end - start < pd.Timedelta(hours=2)
    # the workflow directory is a git checkout here: a commit hash, perhaps with uncommitted changes
    assert len(prov["workflow commit"].split()[0]) == 40


@pytest.mark.slow
def test_predictions_sheet_only_on_request(workbook, tmp_path):
    from rfe_lib.report.excel import write_workbook
    from rfe_lib.report.workbook import workbook_sheets

    run, path = workbook
    inputs = {"rounds": run.file("rounds"), "selected": run.file("selected"),
              "validation": run.file("validation"), "data": run.root.parents[1] / "data.parquet"}
    for key in ("importance", "eliminated", "metrics", "best", "results", "predictions"):
        inputs[key] = [run.round_file(r, key) for r in range(N_ROUNDS)]
    sheets = workbook_sheets(inputs, config={"run_name": "t"}, top_configs=1, with_predictions=True, run_dir=run.root,
                             workflow_dir=tmp_path)
    out = tmp_path / "with_predictions.xlsx"
    write_workbook(sheets, out)
    r = int(artifact(run, "selected")["round"].iloc[0])
    pred = sheet(out, "Predictions")
    expected = artifact(run, "predictions", r)
    assert len(pred) == len(expected) and set(pred["round"]) == {r}
    np.testing.assert_allclose(pred["y_pred"], expected["y_pred"], rtol=1e-12)
    assert len(sheet(out, "HPO")) == N_ROUNDS  # top_configs = 1
    prov = sheet(out, "Provenance").set_index("item")["value"]
    assert prov["workflow commit"] == "not a git checkout"
    assert "Predictions" not in pd.ExcelFile(path, engine="openpyxl").sheet_names  # the default run: no rows


def test_config_table_flattens_nested_values():
    from rfe_lib.report.tables import config_table

    table = config_table({"a": {"b": [1, 2], "c": {"d": None}}, "grid": [{"x": [1]}], "empty": {}})
    assert table.to_dict("records") == [{"key": "a.b", "value": "[1, 2]"}, {"key": "a.c.d", "value": "null"},
                                        {"key": "grid", "value": '[{"x": [1]}]'}, {"key": "empty", "value": "{}"}]
