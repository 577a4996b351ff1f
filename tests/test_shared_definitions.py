"""Definitions written once and read everywhere (issue 17): the successful configuration, metric labels, and the
direction of the imports between the report and the figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rfe_lib.columns import read_columns
from rfe_lib.fingerprint import PACKAGE_DIR, _imports, _module_file
from rfe_lib.metrics import EVALUATION_METRICS, LOSSES, METRIC_LABELS, metric_label, metric_row
from rfe_lib.schema import load_schema
from rfe_lib.vocab import succeeded


# ------------------------------------------------------------------------------ the successful configuration

def results_with_a_failure() -> pd.DataFrame:
    """Two rungs of a search. Config 2 failed in the last rung but its row has the lowest mean (a stand-in for a
    partial result); config 4 has no error and no mean. Every reader must leave both out: the best is config 1."""
    rows = [(0, 0, 5.0, None), (1, 0, 4.0, None), (2, 0, 3.0, None), (3, 0, 6.0, None), (4, 0, 7.0, None),
            (0, 1, 4.5, None), (1, 1, 3.5, None), (2, 1, 0.1, "ValueError: boom"), (4, 1, np.nan, None)]
    df = pd.DataFrame(rows, columns=["config_id", "rung", "mean", "error"])
    df["error"] = df["error"].astype("string")
    df["std"] = 0.1
    df["params"] = [json.dumps({"alpha": float(c)}) for c in df["config_id"]]
    df["param_alpha"] = df["config_id"].astype(float)
    df["resource_fraction"] = np.where(df["rung"] == 1, 1.0, 0.5)
    for k in range(2):
        df[f"fold_{k}"] = df["mean"]
    return df


def test_the_successful_configuration_is_one_definition_for_tables_and_figure_columns(tmp_path):
    df = results_with_a_failure()
    expected = [True, True, True, True, True, True, True, False, False]  # written out by hand
    assert succeeded(df).tolist() == expected
    df.to_parquet(tmp_path / "r.parquet")
    assert succeeded(read_columns(tmp_path / "r.parquet")).tolist() == expected  # the figures' numpy columns
    assert succeeded({"mean": np.array([1.0, np.nan])}).tolist() == [True, False]  # no error column: none failed


def test_a_failed_configuration_is_left_out_everywhere(tmp_path):
    from rfe_lib.figures.common import failed_note, ok_configs
    from rfe_lib.figures.hpo import hpo_rungs
    from rfe_lib.figures.style import Target
    from rfe_lib.report.tables import hpo_table
    from rfe_lib.search.results import best_config, ranked, ranking

    df = results_with_a_failure()
    # the search's results: ranking (rung first), the last rung's ranking and the best configuration
    # 1 and 0 succeeded in rung 1; the others by their last successful rung (0): 2 (3.0), 3 (6.0), 4 (7.0)
    assert ranking(df) == [1, 0, 2, 3, 4]
    assert ranked(df)["config_id"].tolist() == [1, 0]
    assert best_config(df)["config_id"].tolist() == [1]
    # the workbook's HPO sheet: the last rung's rows without config 2 (counted as failed), then rung 0's
    table = hpo_table({0: df}, {0: best_config(df)}, top=10)
    assert table[table["rung"] == 1]["config_id"].tolist() == [1, 0]
    assert table[table["rung"] == 1]["n_failed"].unique().tolist() == [1]
    assert 2 in table[table["rung"] == 0]["config_id"].tolist()  # it did not fail in rung 0
    # the figures: their view of the last rung, and the halving figure's note
    df.to_parquet(tmp_path / "r.parquet")
    columns = read_columns(tmp_path / "r.parquet")
    ok = ok_configs(columns)
    assert ok["config_id"].tolist() == [1, 0]
    assert failed_note(columns, ok).startswith("2 failed configurations")
    failed_only = read_columns(tmp_path / "r.parquet")
    failed_only["error"] = np.array(["x"] * len(failed_only["error"]), dtype=object)
    fig = hpo_rungs(failed_only, Target("y"), "rmse")
    assert "no successful configuration" in [t.get_text() for ax in fig.axes for t in ax.texts]


# ------------------------------------------------------------------------------------------- metric labels

def test_every_metric_the_schema_allows_has_one_label_read_by_figures_and_report():
    from rfe_lib.figures.style import metric_name
    from rfe_lib.report.texts import rst_label

    allowed = load_schema()["properties"]["hpo"]["properties"]["metric"]["enum"]
    assert sorted(allowed) == sorted(LOSSES)
    for metric in (*allowed, *EVALUATION_METRICS):
        assert metric in METRIC_LABELS, f"{metric} has no label in rfe_lib.metrics.METRIC_LABELS"
        assert metric_name(metric) == metric_label(metric) == METRIC_LABELS[metric]
    assert rst_label("median_ae") == "median \\|error\\|"  # a | would start a substitution in reStructuredText
    # metric_row (eval/metrics.parquet's columns) computes exactly the metrics that have labels, in their order
    row = metric_row([1.0, 2.0, 4.0], [1.5, 2.0, 3.0], tolerances=[1.0])
    assert [k for k in row if k not in ("n", "within_1")] == list(EVALUATION_METRICS)
    assert list(metric_row([], [], tolerances=[1.0])) == list(row)


# ------------------------------------------------------------------------------- the import graph's direction

def _graph() -> dict[str, set[str]]:
    """rfe_lib's modules and the rfe_lib modules each imports (relative imports at any depth, as the code
    fingerprints read them)."""
    graph = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"
        graph[name] = _imports(name, _module_file(name).read_text()) - {name, "__init__"}
    return graph


def test_the_report_reads_the_figure_registry_and_no_figure_imports_the_report():
    graph = _graph()
    assert "figures.registry" in graph["report.texts"]  # the direction: report -> figures
    backwards = {(m, i) for m, imports in graph.items() if m.startswith("figures") for i in imports
                 if i == "report" or i.startswith("report.")}
    assert backwards == set(), f"figure modules import the report: {sorted(backwards)}"


def test_no_import_cycle_runs_through_a_subpackage():
    """Collapsed to rfe_lib's top-level parts (a subpackage is one node), no cycle passes through a subpackage
    (figures, report, search, importance, plan): each depends on the others in one direction only."""
    graph = _graph()
    top = {}
    for module, imports in graph.items():
        top.setdefault(module.split(".")[0], set()).update(i.split(".")[0] for i in imports)
    packages = {m.split(".")[0] for m in graph if "." in m}
    for node in top:
        top[node].discard(node)

    def reaches(start, goal):
        seen, todo = set(), [start]
        while todo:
            n = todo.pop()
            for m in top.get(n, ()):
                if m == goal:
                    return True
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return False

    cycles = sorted((a, b) for a in packages for b in top[a] if reaches(b, a))
    assert cycles == [], f"import cycles through subpackages: {cycles}"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-n", "0"]))
