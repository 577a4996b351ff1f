"""Figures: every expected PNG of a real run is a real picture; plot jobs stay light (a round's figures never
import pandas); the figure functions handle angle targets, odd grids and failed configurations, and read Parquet
columns as pandas would."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, layout, make_workdir, planned_rules, settings_of, snakemake, write_config
from rfe_lib.figures import registry

SCHEDULE = [5, 4, 3]  # SMALL_CONFIG: 5 features, step 1, min 3


def _image(path):
    import matplotlib.image as mpimg

    return mpimg.imread(path)


def assert_sane_png(path) -> None:
    """A PNG of a sane size, with real content (not blank, not one flat colour)."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert 5_000 < path.stat().st_size < 1_500_000, (path, path.stat().st_size)
    img = _image(path)
    h, w = img.shape[:2]
    assert 250 <= h <= 2500 and 500 <= w <= 2500, (path, img.shape)
    gray = img[..., :3].mean(axis=2)
    inked = float(np.mean(gray < 0.9))  # share of pixels that are not (near) white
    assert 0.02 < inked < 0.8, (path, inked)
    assert len(np.unique((gray * 255).astype(np.uint8))) > 20, path  # text, lines and colours


def expected_pngs(run):
    paths = [run.plot(f.name) for f in registry.SUMMARY_FIGURES]
    for r, n in enumerate(SCHEDULE):
        paths += [run.plot(name, r) for name, _, _ in registry.round_figures(n, settings_of())]
    return paths


# ------------------------------------------------------------------------------------------ a real run

@pytest.mark.slow
def test_every_expected_png_exists_and_is_a_picture(small_run):
    run = layout(small_run)
    expected = expected_pngs(run)
    assert len(expected) == 3 + 13 + 13 + 12
    for path in expected:
        assert_sane_png(path)
    made = sorted(run.plots_dir.rglob("*.png"))
    assert made == sorted(expected)  # nothing unexpected either
    assert not list(run.plots_dir.rglob(".*rfe-tmp*"))  # no temporary left behind


@pytest.mark.slow
def test_plot_jobs_import_no_modelling_code(small_run):
    """What a figure job imports, measured in a fresh interpreter drawing every round figure of a round as the jobs
    do: matplotlib, but not pandas (a third of a job's time), scikit-learn or the modelling modules."""
    from types import SimpleNamespace

    from rfe_lib.importance.lofo import LOFO

    run = layout(small_run)
    settings = settings_of()
    names = [name for name, _, _ in registry.round_figures(4, settings)]
    plan = SimpleNamespace(eliminate=[1, 1, 0])
    options = registry.round_options(settings, plan, 1, LOFO())
    inputs = {key: str(registry.input_path(run, key, 1)) for key in registry.INPUTS}
    code = f"""
import json, sys, time
t0 = time.perf_counter()
from rfe_lib.job import run
from rfe_lib.figures.draw import draw
import_seconds = time.perf_counter() - t0
for name in {names!r}:
    draw(name, {inputs!r}, {options!r})
print(json.dumps({{"modules": sorted(sys.modules), "import_seconds": import_seconds}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    info = json.loads(out.stdout.splitlines()[-1])
    modules = set(info["modules"])
    assert "matplotlib" in modules and "pyarrow" in modules
    assert not {m for m in modules if m == "pandas" or m.startswith("pandas.")}
    assert "rfe_lib.report" not in modules
    assert not {m for m in modules if m == "sklearn" or m.startswith("sklearn.")}
    assert not {m for m in modules if m.startswith("scipy")}
    assert not modules & {"rfe_lib.models", "rfe_lib.cv", "rfe_lib.search", "rfe_lib.importance", "rfe_lib.training",
                          "rfe_lib.settings", "matplotlib.pyplot", "joblib"}


@pytest.mark.slow
def test_dry_run_plans_one_figure_job_per_round_and_only_redraws_what_changed(small_run, tmp_path):
    # a list-of-dicts grid and fewer top features: known at parse time, so the DAG lists every PNG
    grid = [{"learning_rate": [0.1, 0.2], "max_leaf_nodes": [7]}, {"learning_rate": [0.3], "max_leaf_nodes": [15]}]
    make_workdir(tmp_path, {"hpo": {"grid": grid}, "plots": {"top_features": 2}})
    counts = planned_rules(tmp_path)
    # one job per round draws its errors, top 2 features, importance and hyperparameter figures
    assert {k: v for k, v in counts.items() if k.startswith("figures")} == {"figures": 3, "figures_summary": 1}
    assert counts["workbook"] == 1 and counts["report_tables"] == 1 and counts["report_texts"] == 1
    # a round with fewer features than plots.top_features has a rule of its own (exactly its PNGs: 12, not 13)
    write_config(tmp_path, {"hpo": {"grid": grid}, "plots": {"top_features": 4}}, name="top4.yaml")
    counts = planned_rules(tmp_path, configfile="top4.yaml")
    assert counts["figures"] == 2 and counts["figures_12"] == 1
    # on a finished run, a plot setting redraws only the figure jobs that use it, not the summary figures
    # (the workbook's Config sheet shows every setting, so it is remade too)
    write_config(small_run, {"plots": {"ranked_configs": 3}}, name="ranked.yaml")
    assert planned_rules(small_run, configfile="ranked.yaml") == {"figures": 2, "figures_12": 1, "workbook": 1,
                                                                   "all": 1}



@pytest.mark.slow
def test_figure_jobs_are_one_job_group_that_the_slurm_profile_bundles(tmp_path):
    """A cluster profile bundles the figure jobs (profiles/slurm: group-components figures=2); a dry run lists the
    bundles as it would submit them. (With early stopping there is no group, since Snakemake can put a job twice into
    a bundle after a checkpoint: workflow/rules/common.smk. A dry run cannot see past a checkpoint: the SLURM test
    checks that case.)"""
    make_workdir(tmp_path)
    out = snakemake(tmp_path, "-n", "--group-components", "figures=2")
    text = out.stdout + out.stderr
    blocks = re.split(r"^\[[^\]]+\] ", text, flags=re.M)
    groups = [re.findall(r"^\s+rule (figures\w*):$", b, re.M) for b in blocks if b.startswith("Group job figures")]
    assert sorted(len(g) for g in groups) == [2, 2], text[-3000:]  # 3 rounds' figure jobs and the summary's
    figure_jobs = [rule for rule, n in planned_rules(tmp_path).items() if rule.startswith("figures") for _ in range(n)]
    assert sorted(r for g in groups for r in g) == sorted(figure_jobs) and len(figure_jobs) == 4


# ------------------------------------------------------------------------------- the figure functions

def _predictions(n=600, angle=False, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 2 * math.pi, n) if angle else rng.gamma(2.0, 50.0, n)
    noise = rng.normal(0, 0.3 if angle else 15.0, n)
    pred = y + noise
    err = pred - y
    if angle:
        pred = np.mod(pred, 2 * math.pi)
        err = (pred - y + math.pi) % (2 * math.pi) - math.pi
    sets = rng.choice(["train", "val", "test"], n, p=[0.6, 0.2, 0.2]).astype(object)
    return {"row": np.arange(n), "set": sets, "y_true": y, "y_pred": pred, "error": err}


def _metrics(pred, angle_unit=None):
    """The metrics table of ``pred``, as the figures take it: column name -> array."""
    from rfe_lib.metrics import metric_row

    rows = [{"set": s, **metric_row(pred["y_true"][pred["set"] == s], pred["y_pred"][pred["set"] == s], [10, 25],
                                    angle_unit)} for s in sorted(set(pred["set"]))]
    return {name: np.array([row[name] for row in rows], dtype=object if name == "set" else None) for name in rows[0]}


def _draw_and_check(fig, tmp_path, name):
    from rfe_lib.figures.style import save

    path = tmp_path / f"{name}.png"
    save(fig, path, dpi=80)
    assert_sane_png(path)
    return fig


def test_angle_target_error_axes_are_wrapped_degrees(tmp_path):
    from rfe_lib.figures import errors as plots
    from rfe_lib.figures.style import Target

    pred = _predictions(angle=True)
    target = Target("heading", angle="radians")
    tol = [0.1, 0.5]  # radians
    fig = _draw_and_check(plots.residual_histogram(pred, tol, target, 0), tmp_path, "hist")
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert -180.0 <= lo < -math.degrees(0.5) and math.degrees(0.5) < hi <= 180.0  # every tolerance band shows
    assert "°" in ax.get_xlabel() and "wrapped" in ax.get_xlabel()
    fig = _draw_and_check(plots.abs_error_cdf(pred, tol, target, 0), tmp_path, "cdf")
    assert fig.axes[0].get_xlim()[1] <= 180.0
    tol_lines = sorted(round(line.get_xdata()[0], 6) for line in fig.axes[0].lines if line.get_linestyle() == "--")
    assert tol_lines == [round(math.degrees(t), 6) for t in tol]
    fig = _draw_and_check(plots.predicted_vs_actual(pred, _metrics(pred, "radians"), target, 0), tmp_path, "pva")
    # predictions are drawn on the turn nearest the truth: every point within 180 degrees of the diagonal
    for ax in fig.axes:
        x, y = ax.collections[0].get_offsets().T
        assert np.all(np.abs(y - x) <= 180.0 + 1e-9)
    _draw_and_check(plots.residuals_vs_predicted(pred, tol, target, 0), tmp_path, "rvp")


def _rounds_table():
    """A summary/rounds.parquet as the summarize job writes it: CV falls round after round, validation does not."""
    n = np.array([9, 7, 5, 3])
    cv = np.array([12.4, 10.1, 8.8, 9.6])
    val = np.array([12.6, 12.5, 12.7, 14.0])
    return pd.DataFrame({"round": [0, 1, 2, 3], "n_features": n, "cv_mean": cv, "cv_std": [1.0, 1.2, 0.9, 1.5],
                         "cv_folds": 5, "val_loss": val, "optimism": val - cv, "val_rmse": val,
                         "test_rmse": val + 0.3, "val_r2": [0.5, 0.52, 0.49, 0.4], "test_r2": [0.48, 0.5, 0.47, 0.41]})


@pytest.mark.parametrize("rule, selected, starred_at", [("best", 2, "cv_mean"), ("validation", 1, "val_loss")])
def test_loss_vs_features_shows_every_rounds_optimism_and_stars_the_loss_that_chose(tmp_path, rule, selected,
                                                                                       starred_at):
    from rfe_lib.figures.style import Target
    from rfe_lib.figures.summary import loss_vs_features

    rounds = _rounds_table()
    fig = _draw_and_check(loss_vs_features(rounds, selected, Target("logS"), "rmse", rule), tmp_path, rule)
    ax, ax_opt, ax_r2 = fig.axes[:3]
    assert "optimism" in ax_opt.get_ylabel() and "validation − CV" in ax_opt.get_ylabel()
    bars = sorted((p.get_x() + p.get_width() / 2, p.get_height()) for p in ax_opt.patches)
    expected = rounds.sort_values("n_features")
    np.testing.assert_allclose([x for x, _ in bars], expected["n_features"])
    np.testing.assert_allclose([h for _, h in bars], expected["optimism"], rtol=1e-12)
    labels = [t.get_text() for t in ax_opt.texts]
    assert labels == [fmt_(v) for v in expected["optimism"]]
    star = next(c for c in ax.collections if c.get_label().startswith("selected: round"))
    row = rounds.set_index("round").loc[selected]
    np.testing.assert_allclose(star.get_offsets()[0], [row["n_features"], row[starred_at]])
    assert f"rule {rule}" in star.get_label()


def fmt_(value):
    from rfe_lib.figures.style import fmt

    return fmt(value)


def test_cyclic_feature_values_are_recovered_from_sin_cos():
    from rfe_lib.features import decode as feature_values

    hours = np.arange(24, dtype=float)
    table = {"hour_sin": np.sin(2 * math.pi * hours / 24), "hour_cos": np.cos(2 * math.pi * hours / 24)}
    np.testing.assert_allclose(feature_values(table, "cyclic", "hour", period=24), hours, atol=1e-9)
    deg = np.array([0.0, 90.0, 359.5, 180.0])
    table = {"w_sin": np.sin(np.radians(deg)), "w_cos": np.cos(np.radians(deg))}
    np.testing.assert_allclose(feature_values(table, "angle", "w"), deg, atol=1e-9)


def test_residuals_vs_feature_boxes_for_few_values_points_for_many(tmp_path):
    from rfe_lib.figures import residuals as plots
    from rfe_lib.figures.style import Target

    pred = _predictions(n=900)
    target = Target("y", unit="kWh")
    n = len(pred["row"])
    few = np.random.default_rng(1).integers(1, 5, n).astype(float)
    fig = _draw_and_check(plots.residuals_vs_feature(pred, few, "weathersit", target, rank=1, importance=(1.0, 0.2),
                                                    metric="rmse"),
                          tmp_path, "few")
    assert [t.get_text().split("\n")[0] for t in fig.axes[0].get_xticklabels()] == ["1", "2", "3", "4"]
    many = np.random.default_rng(2).normal(size=n)
    many[:10] = np.nan  # missing values are left out and said so
    fig = _draw_and_check(plots.residuals_vs_feature(pred, many, "temp", target, rank=2, importance=(0.5, 0.1),
                                                    metric="rmse"),
                          tmp_path, "many")
    assert "[kWh]" in fig.axes[0].get_ylabel()
    assert any("missing value" in t.get_text() for t in fig.axes[0].texts)


def _hpo_results(n_folds=3):
    """A list-of-dicts grid with a categorical parameter, a parameter missing from one sub-grid, and failures."""
    rows, cid = [], 0
    rng = np.random.default_rng(0)
    for loss in ("squared_error", "absolute_error"):
        for lr in (0.01, 0.1, 1.0):
            for leaves in (7, 15, 31):
                rows.append({"loss": loss, "learning_rate": lr, "max_leaf_nodes": leaves})
    rows += [{"loss": "squared_error", "learning_rate": 0.5, "max_leaf_nodes": None}]
    out = []
    for params in rows:
        folds = 10 + 3 * abs(math.log10(params["learning_rate"]) + 1) + (params["loss"] == "absolute_error") + \
            rng.normal(0, 0.3, n_folds)
        failed = cid in (4, 11)
        row = {"config_id": cid, "params": json.dumps(params), **{f"param_{k}": v for k, v in params.items()},
               **{f"fold_{k}": (None if failed else float(v)) for k, v in enumerate(folds)},
               "mean": None if failed else float(np.mean(folds)),
               "std": None if failed else float(np.std(folds, ddof=1)),
               "fit_seconds": 0.1, "error": "ValueError: boom" if failed else None}
        out.append(row)
        cid += 1
    df = pd.DataFrame(out)
    df["param_max_leaf_nodes"] = df["param_max_leaf_nodes"].astype("Int64")
    return df


def _as_read(frame: pd.DataFrame, tmp_path) -> dict:
    """``frame`` as a round figure reads it: written to Parquet, read back column by column without pandas."""
    from rfe_lib.columns import read_columns

    path = tmp_path / "table.parquet"
    frame.to_parquet(path)
    return read_columns(path)


def test_hpo_figures_handle_categorical_missing_and_failed_configurations(tmp_path):
    from rfe_lib.columns import take
    from rfe_lib.figures import hpo as plots
    from rfe_lib.figures.style import Target

    frame = _hpo_results()
    results = _as_read(frame, tmp_path)
    assert np.isnan(results["param_max_leaf_nodes"][-1])  # an integer column with a null: floats, NaN
    target = Target("y")
    influence = plots.parameter_influence(results)
    assert list(influence)[:1] == ["learning_rate"]  # the strongest main effect
    fig = _draw_and_check(plots.hpo_parameter(results, "loss", target, "rmse", 0), tmp_path, "cat")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["absolute_error", "squared_error"]
    assert any("2 failed configurations" in t.get_text() for t in fig.axes[0].texts)
    fig = _draw_and_check(plots.hpo_parameter(results, "max_leaf_nodes", target, "rmse", 0), tmp_path, "missing")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["(not set)", "7", "15", "31"]
    _draw_and_check(plots.hpo_heatmap(results, target, "rmse", 0), tmp_path, "heat")
    fig = _draw_and_check(plots.hpo_ranked(results, target, "rmse", 0, ranked_configs=8), tmp_path, "ranked")
    assert "best 8 of 17" in fig.axes[0].get_xlabel()
    ok = frame[frame["error"].isna()].sort_values("mean")
    assert fig.axes[0].get_xticklabels()[0].get_text() == str(ok["config_id"].iloc[0])
    # one varying parameter: the heat map explains itself instead of failing
    single = take(results, (results["param_loss"] == "squared_error") & (results["param_max_leaf_nodes"] == 7))
    fig = _draw_and_check(plots.hpo_heatmap(single, target, "rmse", 0), tmp_path, "heat_single")
    assert "fewer than two parameters" in fig.axes[0].texts[0].get_text()


def test_parquet_columns_are_read_without_pandas_as_pandas_reads_them(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rfe_lib.columns import is_missing, read_columns

    table = pa.table({"i": pa.array([1, 2, 3]), "i_null": pa.array([1, None, 3]), "f": pa.array([1.5, None, 2.0]),
                      "s": pa.array(["a", None, "c"], pa.large_string()), "b": pa.array([True, False, True]),
                      "b_null": pa.array([True, None, False]), "cat": pa.array(["x", "y", "x"]).dictionary_encode()})
    path = tmp_path / "mixed.parquet"
    pq.write_table(table, path, row_group_size=2)  # two row groups: chunked columns
    got = read_columns(path)
    expected = table.to_pandas()  # pandas' reading, the reference
    assert list(got) == list(expected.columns)
    for name, values in got.items():
        want = expected[name].to_numpy()
        assert values.dtype == (object if name == "cat" else want.dtype), name
        assert is_missing(values).tolist() == expected[name].isna().tolist(), name
        assert [v for v, m in zip(values.tolist(), is_missing(values)) if not m] == expected[name].dropna().tolist()
    assert list(read_columns(path, ["s", "i"])) == ["s", "i"]
    assert list(read_columns(path, lambda c: c.startswith("i") or c == "missing")) == ["i", "i_null"]


def test_sample_picks_the_rows_pandas_picks():
    from rfe_lib.figures.style import sample

    for n in (10, 20_000, 20_001, 50_000):
        expected = pd.DataFrame(index=np.arange(n)).sample(n=min(n, 20_000), random_state=0).sort_index().index
        np.testing.assert_array_equal(sample(n, 20_000), expected.to_numpy())


def test_sorting_and_ties_are_those_of_pandas_mergesort():
    from rfe_lib.figures import common
    from rfe_lib.figures.hpo import parameter_influence

    rng = np.random.default_rng(3)
    imp = pd.DataFrame({"feature": [f"f{i}" for i in rng.permutation(30)],
                        "importance_mean": rng.integers(-2, 3, 30).astype(float), "importance_std": 0.1})
    imp.loc[[4, 9], "importance_mean"] = [np.nan, -0.0]
    expected = imp.sort_values(["importance_mean", "feature"], ascending=[False, True], kind="mergesort")
    got = common.by_importance({c: imp[c].to_numpy() for c in imp})
    assert got["feature"].tolist() == expected["feature"].tolist()

    res = pd.DataFrame({"config_id": rng.permutation(40), "mean": rng.integers(0, 4, 40).astype(float),
                        "error": [None] * 40, "param_a": rng.integers(0, 3, 40), "param_b": rng.integers(0, 3, 40)})
    res.loc[[3, 7], "error"] = "boom"
    res.loc[[3, 12], "mean"] = np.nan
    ok = res[res["error"].isna() & res["mean"].notna()].sort_values(["mean", "config_id"], kind="mergesort")
    got = common.ok_configs({c: res[c].to_numpy() for c in res})
    assert got["config_id"].tolist() == ok["config_id"].tolist()
    # equal influence: the parameters keep the order of their columns
    res["param_b"] = res["param_a"]
    assert list(parameter_influence({c: res[c].to_numpy() for c in res})) == ["a", "b"]


def test_registry_names_figures_and_finds_them_by_name():
    grid = [{"alpha": [1, 2], "fit_intercept": [True]}, {"alpha": [3], "l1_ratio": [0.1, 0.9], "fit_intercept": [True]}]
    settings = settings_of({"model": {"estimator": "sklearn.linear_model.ElasticNet", "params": {}},
                            "hpo": {"grid": grid}, "plots": {"top_features": 4}})
    assert registry.varying_params(grid) == ("alpha", "l1_ratio")  # fit_intercept has one value: nothing to compare
    names = [name for name, _, _ in registry.round_figures(2, settings)]
    assert names == ["pred_vs_actual", "residuals_vs_pred", "residual_hist", "abs_error_cdf", "residuals_top1",
                     "residuals_top2", "importance", "hpo_param_alpha", "hpo_param_l1_ratio", "hpo_heatmap",
                     "hpo_ranked"]
    for name in names:  # every name leads back to its figure and arguments
        fig, args = registry.figure(name)
        assert fig.name.format(**args) == name
    assert registry.figure("residuals_top12")[1] == {"k": 12}
    assert registry.figure("hpo_param_l1_ratio")[1] == {"param": "l1_ratio"}
    assert registry.title("residuals_top3") == "residuals vs top feature 3"
    one = settings_of({"hpo": {"grid": {"learning_rate": [0.1, 0.2], "max_leaf_nodes": [15]}}, "plots": {"top_features": 0}})
    assert "hpo_heatmap" not in [name for name, _, _ in registry.round_figures(3, one)]
    with pytest.raises(ValueError, match="unknown figure"):
        registry.figure("lofo")


def test_every_figure_has_a_draw_function_and_a_caption_that_renders():
    import jinja2

    from rfe_lib.figures.draw import MODULES

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    options = {"target": "y", "unit": None, "angle": None, "round": 2, "metric": "rmse", "tolerances": [1, 5],
               "cyclic": {}, "n_eliminated": 1, "ranked_configs": 40, "importance_title": "LOFO importance",
               "importance_definition": "a definition", "importance_axis": "an axis", "threshold": 0.95,
               "action": "group"}
    for fig in registry.ROUND_FIGURES + registry.SUMMARY_FIGURES + registry.REPEAT_FIGURES:
        module, _, function = fig.draw.partition(":")
        assert callable(getattr(MODULES[module], function)), fig.draw
        assert set(fig.needs) <= set(registry.INPUTS) | {"rounds", "selected", "eliminated", "last_importance",
                                                          "correlated", "curve", "survival", "stability",
                                                          "final_summary", "final_predictions", "final_metrics"}
        name = fig.name.format(k=1, param="alpha")
        text = env.from_string(registry.caption_template(name)).render(
            snakemake=SimpleNamespace(params=SimpleNamespace(options=options), wildcards=SimpleNamespace(r="002")))
        assert len(text.strip()) > 40 and "{" not in text, (name, text)
