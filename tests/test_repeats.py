"""Repeats of the whole elimination (rfe.repeats): the outer curve, the chosen size, stability, the consensus set and
the final model, each recomputed here with plain numpy, pandas and scikit-learn from the repeats' own files.

One repeated run of the small configuration with every budget on (2 repeats, 3 rounds each) is shared by the module; a standalone run
with repeat 1's seeds checks that a repeat is that run, and a run killed in the middle of repeat 1 and resumed checks
crash safety."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from _reliability import (ANY, assert_same_artifacts, artifacts, files_under, hook_env, kill_mid_write, planned_jobs,
                          run, stale_temporaries, start)
from conftest import (BUDGETS, SMALL_CONFIG, TARGET, deep_update, layout, make_workdir, matching, run_dir,
                      settings_of, snakemake)
from rfe_lib.repeats import (choose_size, consensus_size, outer_curve, stability_table, stability_warning, survival)

R = 2
# Every budget at once (conftest.BUDGETS: halving rungs, the carried search, permutation then LOFO, temp and atemp as
# one correlated group, early stopping's checkpoints), repeated twice.
REPEATED = deep_update(BUDGETS, {"rfe": {"repeats": R}})


# ------------------------------------------------------------------ the pure functions, on hand-made tables

def _rounds(*losses_by_size):
    return pd.DataFrame({"n_features": [n for n, _ in losses_by_size], "val_loss": [v for _, v in losses_by_size]})


def test_outer_curve_is_mean_and_standard_error_over_repeats_of_the_sizes_all_reached():
    rounds = {0: _rounds((6, 10.0), (5, 9.0), (4, 9.5), (3, 12.0)),
              1: _rounds((6, 11.0), (5, 8.0), (4, 10.5)),  # stopped early: never reached 3 features
              2: _rounds((6, 12.0), (5, 8.5), (4, 9.0), (3, 13.0))}
    curve, note = outer_curve(rounds)
    assert curve["n_features"].tolist() == [6, 5, 4] and "3 features" in note
    for n, v in [(6, [10.0, 11.0, 12.0]), (5, [9.0, 8.0, 8.5]), (4, [9.5, 10.5, 9.0])]:
        row = curve.set_index("n_features").loc[n]
        assert row["loss_mean"] == pytest.approx(np.mean(v))
        assert row["loss_se"] == pytest.approx(np.std(v, ddof=1) / math.sqrt(3))  # not the standard deviation
        assert row["repeats"] == 3
    assert outer_curve({0: rounds[0], 2: rounds[2]})[1] is None


def test_choose_size_best_and_one_se():
    curve = pd.DataFrame({"n_features": [6, 5, 4, 3], "loss_mean": [10.0, 9.0, 9.4, 9.9],
                          "loss_se": [0.5, 0.5, 0.3, 0.2], "repeats": 3})
    assert choose_size(curve, "best") == 5 and choose_size(curve, "validation") == 5
    assert choose_size(curve, "one_se") == 4  # 9.4 <= 9.0 + 0.5 < 9.9
    tie = curve.assign(loss_mean=[9.0, 9.0, 9.4, 9.9])
    assert choose_size(tie, "best") == 5  # ties: fewer features


def test_stability_shares_survival_and_consensus_tie_break():
    # Three repeats, rounds of 4 -> 3 -> 2 features. At 2 features: a in all three, b in two, c and d in one each.
    rf = {0: [list("abcd"), list("abc"), list("ab")],
          1: [list("abcd"), list("abd"), list("ad")],
          2: [list("abcd"), list("abc"), list("bc")]}
    members = {0: {}, 1: {}, 2: {}}
    table = stability_table(rf, members, 2).set_index("feature")
    expected_share = {f: sum(f in rs[2] for rs in rf.values()) / 3 for f in "abcd"}
    expected_last = {f: np.mean([max(r for r, fs in enumerate(rs) if f in fs) for rs in rf.values()]) for f in "abcd"}
    for f in "abcd":
        assert table.at[f, "share"] == pytest.approx(expected_share[f])
        assert table.at[f, "mean_survival_round"] == pytest.approx(expected_last[f])
    assert table.index[table["consensus"]].tolist() == ["a", "b"]
    # c and d tie on share (1/3) and on mean survival round (4/3): the name decides, c before d
    assert table.loc[["c", "d"], "rank"].tolist() == [3, 4]
    long = survival(rf, members, [4, 3, 2]).set_index(["feature", "n_features"])["share"]
    assert long[("d", 3)] == pytest.approx(1 / 3) and long[("a", 4)] == 1.0


def test_a_correlated_group_counts_as_its_members():
    rf = {0: [["g (+1)", "x", "y"], ["g (+1)", "x"]], 1: [["g2", "h", "x", "y"], ["h", "x"]]}
    members = {0: {"g (+1)": ["g", "h"]}, 1: {}}  # repeat 0 grouped g and h; repeat 1 did not
    table = stability_table(rf, members, 2).set_index("feature")
    assert table.at["h", "share"] == 1.0 and table.at["g", "share"] == 0.5 and table.at["x", "share"] == 1.0
    assert consensus_size(rf, members, 2) == 3  # median of 3 members (repeat 0) and 2 (repeat 1), rounded half up
    assert table.index[table["consensus"]].tolist() == ["h", "x", "g"]  # g: in one repeat of two


def test_the_warning_fires_on_a_low_median_share():
    stable = pd.DataFrame({"feature": list("ab"), "share": [1.0, 0.6], "consensus": True})
    assert stability_warning(stable) is None
    assert "not stable" in stability_warning(stable.assign(share=[0.6, 0.2]))


# ------------------------------------------------------------------ a real repeated run

@pytest.fixture(scope="module")
def repeated(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("repeated")
    make_workdir(workdir, REPEATED)
    snakemake(workdir, "-j", "2")
    return workdir


def _rmse(pred, which):
    part = pred[pred["set"] == which]
    return float(np.sqrt(np.mean((part["y_pred"].to_numpy() - part["y_true"].to_numpy()) ** 2)))


@pytest.mark.slow
def test_every_repeat_shares_the_test_rows_and_never_touches_them(repeated):
    run = layout(repeated)
    splits = {i: pd.read_parquet(run.repeat(i).file("split")) for i in range(R)}
    final = pd.read_parquet(run.final().file("split"))
    test = set(splits[0].loc[splits[0]["set"] == "test", "row"])
    assert len(test) == round(0.15 * 2000)
    for i, split in splits.items():
        assert set(split.loc[split["set"] == "test", "row"]) == test
        assert not test & set(split.loc[split["set"].isin(["train", "val"]), "row"])
        assert (split.loc[split["row"].isin(test), "fold"] == -1).all()  # no test row in any CV fold
    assert not splits[0]["set"].equals(splits[1]["set"])  # each repeat drew its own training and validation rows
    assert set(final.loc[final["set"] == "train", "row"]) == set(range(2000)) - test
    assert set(final.loc[final["set"] == "test", "row"]) == test
    assert (final["fold"] >= 0).sum() == 2000 - len(test)


@pytest.mark.slow
def test_the_curve_size_shares_and_consensus_recomputed_from_the_repeats_files(repeated):
    run = layout(repeated)
    val_loss = {}  # (repeat, n_features) -> validation RMSE, from the predictions
    features = {}  # repeat -> the features of each round, a correlated group as its members
    for i in range(R):
        rep = run.repeat(i)
        corr = pd.read_parquet(rep.file("correlated"))
        groups = {g: sorted(part["feature"]) for g, part in corr[corr["eliminated_as"] != corr["feature"]]
                  .groupby("eliminated_as")}
        n_rounds = len(matching(rep.round_file("*", "predictions")))
        assert n_rounds == 3 and groups  # temp and atemp are one feature of every repeat
        features[i] = []
        for r in range(n_rounds):
            names = pd.read_parquet(rep.round_file(r, "features"))["feature"].tolist()
            pred = pd.read_parquet(rep.round_file(r, "predictions"))
            val_loss[(i, len(names))] = _rmse(pred, "val")
            features[i].append((len(names), sorted(m for f in names for m in groups.get(f, [f]))))
    sizes = sorted({n for _, n in val_loss}, reverse=True)
    expected = pd.DataFrame([{"n_features": n,
                              "loss_mean": np.mean([val_loss[(i, n)] for i in range(R)]),
                              "loss_se": np.std([val_loss[(i, n)] for i in range(R)], ddof=1) / math.sqrt(R),
                              "repeats": R} for n in sizes])
    curve = pd.read_parquet(run.file("curve"))
    pd.testing.assert_frame_equal(curve, expected, check_exact=False, rtol=1e-9, check_dtype=False)

    chosen = int(expected.sort_values(["loss_mean", "n_features"]).iloc[0]["n_features"])  # rfe.select: best
    final = pd.read_parquet(run.file("final_summary"))
    assert final.at[0, "n_features"] == chosen
    assert final.at[0, "loss_estimate"] == pytest.approx(expected.set_index("n_features").at[chosen, "loss_mean"])

    everyone = sorted({m for rounds in features.values() for _, ms in rounds for m in ms})
    at = {i: next(ms for n, ms in features[i] if n == chosen) for i in range(R)}
    share = {f: sum(f in at[i] for i in range(R)) / R for f in everyone}
    last = {f: np.mean([max(r for r, (_, ms) in enumerate(features[i]) if f in ms) for i in range(R)])
            for f in everyone}
    ranked = sorted(everyone, key=lambda f: (-share[f], -last[f], f))  # by survival, never by importance
    stability = pd.read_parquet(run.file("stability"))
    assert stability["feature"].tolist() == ranked
    assert stability["share"].tolist() == pytest.approx([share[f] for f in ranked])
    size = int(np.floor(np.median([len(at[i]) for i in range(R)]) + 0.5))  # members of the chosen rounds
    selected = pd.read_parquet(run.file("selected"))
    assert selected["feature"].tolist() == ranked[:size] and len(selected) == final.at[0, "n_consensus"]
    assert pd.read_parquet(run.final().round_file(0, "features"))["feature"].tolist() == ranked[:size]


@pytest.mark.slow
def test_the_final_model_is_the_consensus_set_fitted_on_every_non_test_row(repeated):
    import json

    run = layout(repeated)
    final = run.final()
    raw = pd.read_parquet(repeated / "data.parquet")
    table = pd.read_parquet(run.repeat(0).file("table"))
    fmap = pd.read_parquet(final.file("feature_map"))
    consensus = pd.read_parquet(final.round_file(0, "features"))["feature"].tolist()
    cols = fmap.loc[fmap["feature"].isin(consensus), "column"].tolist()  # in feature-map order, as every fit
    split = pd.read_parquet(final.file("split"))
    train, test = (split["set"] == "train").to_numpy(), (split["set"] == "test").to_numpy()
    best = json.loads(pd.read_parquet(final.round_file(0, "best"))["params"].item())
    model = HistGradientBoostingRegressor(**{**SMALL_CONFIG["model"]["params"], **best},
                                          random_state=SMALL_CONFIG["split"]["seed"])
    y = raw["bikers"].to_numpy(dtype=float)
    X = table[cols].to_numpy(dtype=float)
    pred = model.fit(X[train], y[train]).predict(X[test])
    rmse = float(np.sqrt(np.mean((pred - y[test]) ** 2)))
    metrics = pd.read_parquet(final.round_file(0, "metrics")).set_index("set")
    assert metrics.at["test", "rmse"] == pytest.approx(rmse, rel=1e-9)
    assert metrics.at["val", "n"] == 0 and metrics.at["train", "n"] == train.sum()
    summary = pd.read_parquet(run.file("final_summary"))
    assert summary.at[0, "test_loss"] == pytest.approx(rmse, rel=1e-9)
    assert summary.at[0, "honesty_gap"] == pytest.approx(rmse - summary.at[0, "loss_estimate"], rel=1e-9)


@pytest.mark.slow
def test_the_repeated_run_shows_its_answer(repeated):
    from openpyxl import load_workbook

    run = layout(repeated)
    for name in ("outer_curve", "stability_heatmap", "consensus_shares", "final_pred_vs_actual", "final_abs_error_cdf"):
        assert Path(run.plot(name)).read_bytes().startswith(b"\x89PNG")
    sheets = load_workbook(run.file("workbook"), read_only=True).sheetnames
    assert sheets[:5] == ["Final", "Consensus", "Curve", "Stability", "Repeats"]
    description = Path(run.file("description")).read_text()
    chosen = int(pd.read_parquet(run.file("final_summary")).at[0, "n_features"])
    assert f"**{chosen} features**" in description and "test rows" in description


@pytest.mark.slow
def test_the_final_models_figures_show_its_test_rows_as_recomputed_here(repeated):
    """The final model's two figures, drawn again from the run's files: one panel of test rows only, whose legend's
    RMSE and row count are those of its predictions; the cumulative |error| of its training and test rows, whose
    shares within each tolerance are recomputed here with numpy."""
    from rfe_lib.figures.draw import draw
    from rfe_lib.figures.registry import summary_options
    from rfe_lib.figures.style import fmt

    run = layout(repeated)
    final = run.final()
    inputs = {"final_predictions": final.round_file(0, "predictions"), "final_metrics": final.round_file(0, "metrics")}
    options = summary_options(settings_of(REPEATED), "LOFO importance")
    pred = pd.read_parquet(inputs["final_predictions"])
    test = pred[pred["set"] == "test"]
    rmse = float(np.sqrt(np.mean((test["y_pred"] - test["y_true"]) ** 2)))

    fig = draw("final_pred_vs_actual", inputs, options)
    assert len(fig.axes) == 1 and fig.axes[0].get_title(loc="left") == "Test"
    (points,) = fig.axes[0].collections
    assert len(points.get_offsets()) == len(test)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(f"RMSE {fmt(rmse)}" in t and f"n = {len(test):,}" in t for t in legend), (legend, rmse)

    fig = draw("final_abs_error_cdf", inputs, options)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert [t.split(":")[0] for t in legend] == ["training", "test"]
    tolerances = SMALL_CONFIG["evaluation"]["tolerances"]
    for name, part in (("training", pred[pred["set"] == "train"]), ("test", test)):
        within = [100 * np.mean(np.abs(part["y_pred"] - part["y_true"]) <= t) for t in sorted(tolerances)]
        assert next(t for t in legend if t.startswith(name)) == f"{name}: " + "   ".join(
            f"≤{t:g}: {w:.0f}%" for t, w in zip(sorted(tolerances), within))


@pytest.mark.slow
def test_a_weighted_repeated_run_says_so_on_its_sheets_and_front_page(repeated):
    """With data.weight_column, the sheets that show losses carry a ``losses`` column and the description a
    "Weighted losses" line, as a single run's do (test_weights.py); the run here is unweighted, so its own workbook
    and description have neither, and the weighted ones are made from its files."""
    from openpyxl import load_workbook

    from rfe_lib.report.texts import render_description, repeats_context
    from rfe_lib.report.workbook import repeats_sheets

    run = layout(repeated)
    final = run.final()
    inputs = {name: run.file(name) for name in ("final_summary", "selected", "curve", "stability", "validation")}
    inputs |= {name: final.round_file(0, name) for name in ("metrics", "results", "best")}
    inputs |= {"rounds": [run.repeat(i).file("rounds") for i in range(R)], "data": repeated / "data.parquet"}
    shown = ("Final", "Curve", "Repeats", "Final metrics", "Final HPO")
    kwargs = dict(config=REPEATED, run_dir=run.root, workflow_dir=Path(__file__).resolve().parents[1])
    weighted = repeats_sheets(inputs, weights="w", **kwargs)
    assert {name for name, sheet in weighted.items() if "losses" in sheet} == set(shown)
    assert all(set(weighted[name]["losses"]) == {"weighted by the column 'w'"} for name in shown)
    assert not any("losses" in sheet for sheet in repeats_sheets(inputs, **kwargs).values())
    book = load_workbook(run.file("workbook"), read_only=True)
    assert "losses" not in [c.value for c in next(book["Final"].iter_rows(max_row=1))]

    facts = {"run_name": "x", "target": "bikers", "n_rows": 100, "repeats": R, "folds": 3, "schedule": [9, 3],
             "estimator": "HistGradientBoostingRegressor", "n_configs": 4, "metric": "rmse"}
    template = Path(__file__).resolve().parents[1] / "workflow" / "report" / "repeats.rst"
    assert "weighted by\nthe column ``w``" in render_description(template, repeats_context(run.root, {**facts, "weights": "w"}))
    assert "Weighted" not in render_description(template, repeats_context(run.root, facts))
    assert "Weighted" not in Path(run.file("description")).read_text()


@pytest.mark.slow
def test_a_repeat_is_the_standalone_run_with_its_seeds(repeated, tmp_path):
    """Repeat 1 equals a run of its own with split.seed + 1 and the test rows drawn with the run's seed."""
    seed = SMALL_CONFIG["split"]["seed"]
    make_workdir(tmp_path, deep_update(BUDGETS, {"split": {"seed": seed + 1, "test_seed": seed}}))
    snakemake(tmp_path, "-j", "2", TARGET.file("selected"))
    repeat, alone = artifacts(layout(repeated).repeat(1).root), artifacts(run_dir(tmp_path))
    assert len(repeat) > 20 and set(repeat) <= set(alone)
    for rel, value in repeat.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, alone[rel], check_exact=True, obj=rel)
        elif rel.endswith(".joblib"):
            assert value["params"] == alone[rel]["params"] and value["columns"] == alone[rel]["columns"], rel
        else:
            assert value == alone[rel], rel


@pytest.mark.slow
def test_a_repeated_run_killed_mid_repeat_resumes_to_the_same_result(repeated, tmp_path):
    workdir = tmp_path / "work"
    make_workdir(workdir, REPEATED)
    env, (marker,) = hook_env(tmp_path, pause=[str(ANY.repeat(1).importance_shard(1, 0))])
    proc = start(workdir, "-j", "2", env=env, out=tmp_path / "killed.out")
    kill_mid_write(workdir, proc, marker, "an importance shard of repeat 1")
    run(workdir, "--unlock")
    run(workdir, "-j", "2")
    assert_same_artifacts(run_dir(repeated), run_dir(workdir))
    assert stale_temporaries(run_dir(workdir)) == [] and planned_jobs(workdir) == []
    # the same files, but benchmark records: a job killed after its output was whole and before Snakemake wrote its
    # benchmark file is complete, so the resumed run does not rerun it (logs and benchmarks are not artifacts)
    def files(root):
        return {f for f in files_under(root) if not {"logs", "benchmarks"} & set(f.split("/")[:2])}

    assert files(run_dir(workdir)) == files(run_dir(repeated))


def test_bad_repeat_counts_are_refused_before_anything_is_written(tmp_path):
    for bad in (0, 101, "two"):
        work = tmp_path / f"r{bad}"
        make_workdir(work, {"rfe": {"repeats": bad}})
        proc = snakemake(work, "-n", check=False)
        assert proc.returncode != 0 and "rfe.repeats" in proc.stdout + proc.stderr, bad
        assert not (work / "results").exists()


def test_repeats_with_a_time_split_or_a_time_box_are_refused():
    from rfe_lib import RFEError

    with pytest.raises(RFEError, match="split.method: time"):
        settings_of(deep_update(REPEATED, {"data": {"features": ["hour", "temp", "hum"]},
                                           "split": {"method": "time", "time_column": "day"}}))
    with pytest.raises(RFEError, match="budget.hours"):
        settings_of(deep_update(REPEATED, {"budget": {"hours": 3}}))


def test_repeat_settings_shift_the_seed_and_keep_the_test_seed():
    from rfe_lib.repeats import repeat_settings

    s = settings_of(REPEATED)
    r2 = repeat_settings(s, 2)
    assert r2.split.seed == s.split.seed + 2 and r2.split.test_seed == s.split.seed
    assert r2.model_spec().seed == s.split.seed + 2  # the models' seed follows, as in a standalone run
    fixed = repeat_settings(settings_of(deep_update(REPEATED, {"split": {"test_seed": 5}})), 1)
    assert fixed.split.test_seed == 5


def test_runs_that_differ_only_in_seed_share_their_test_rows():
    from rfe_lib.split import make_split

    y = np.random.default_rng(0).gamma(2.0, 50.0, 1000)
    args = dict(test_fraction=0.2, val_fraction=0.2, folds=3, n_bins=5)
    a, b = make_split(y, seed=7, **args), make_split(y, seed=8, test_seed=7, **args)
    assert a["set"].eq("test").equals(b["set"].eq("test"))
    assert not a["set"].equals(b["set"]) and not a["fold"].equals(b["fold"])
    assert make_split(y, seed=7, test_seed=7, **args).equals(a)  # test_seed = seed: the split of a single run


def test_group_splits_that_differ_only_in_seed_share_their_test_groups():
    from rfe_lib.split import make_split

    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(60), 20)
    y = rng.gamma(2.0, 50.0, len(groups))
    args = dict(test_fraction=0.2, val_fraction=0.2, folds=3, n_bins=5, method="group", groups=groups)
    a, b = make_split(y, seed=7, **args), make_split(y, seed=8, test_seed=7, **args)
    assert a["set"].eq("test").equals(b["set"].eq("test")) and not a["set"].equals(b["set"])
    final = make_split(y, seed=7, **{**args, "val_fraction": 0.0})
    assert final["set"].eq("test").equals(a["set"].eq("test")) and set(final["set"]) == {"train", "test"}
