"""Budget presets and the time box (issue 19): the presets table computed from the plan's own counts, checked
against counts worked out by hand for a small grid; the time box's choice; a refused box writes nothing; a real
run under a box says which preset it used."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import TARGET, layout, make_workdir, settings_of, snakemake, write_config
from rfe_lib import RFEError
from rfe_lib.plan.presets import ENV, DATA_WAVES, SUMMARY_WAVES, Machine, budget_plan, choose, presets, waves

ALPHAS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
GRID = {"alpha": ALPHAS, "fit_intercept": [True, False], "tol": [1e-4, 1e-3, 1e-2]}  # 27 configurations


def small(overrides=None, budget=None):
    """Ridge on a 27-configuration grid, 3 folds, rounds of 5 -> 4 -> 3 features, LOFO, one shard per job; a plan
    with 1,800 fitting rows in the smallest fold and one second per fit."""
    import dataclasses

    cfg = {"model": {"estimator": "sklearn.linear_model.Ridge", "params": {}},
           "hpo": {"random": {"n_candidates": 12}, "halving": {"resource": "n_samples"}},
           "rfe": {"lofo_below": 4}, **(overrides or {})}
    if budget is not None:
        cfg["budget"] = budget
    s = settings_of(cfg)
    s = dataclasses.replace(s, hpo=dataclasses.replace(s.hpo, grid=GRID))
    plan = SimpleNamespace(n_configs=27, min_fit_rows=1800, schedule=[5, 4, 3], n_folds=3, seconds_per_fit=1.0,
                           n_rounds=3)
    return plan, s


ONE_CORE = Machine(1, 0.0, job_seconds=0.0, label="1 core")

# Worked out by hand (3 folds, rounds of 5, 4 and 3 features):
#  HPO fit-equivalents: exhaustive 27 x 3 x 3 = 243; grid+carry (top auto = max(ceil(2.7), 3**2) = 9):
#  27 x 3 + 9 x 3 x 2 = 135; halving+carry (rows 200 -> 1800, factor 3: rungs of 27 at 1/9, 9 at 1/3, 3 at 1 in
#  round 0, carried rounds 9 full fits): (3 + 3 + 3) x 3 + 9 x 3 x 2 = 81 in 117 + 54 = 171 fits; random+carry
#  (12 sampled, top max(ceil(1.2), 9) = 9): 12 x 3 + 9 x 3 x 2 = 90.
#  Importance: LOFO 3 x (5 + 4 + 3) = 36 fits; auto (lofo_below 4: permutation with one shard in round 0,
#  3 fits; LOFO after, 12 + 9) = 24. Each round's model: 3 fits.
EXPECTED = {  # name: (fits, fit-equivalents)
    "exhaustive": (243 + 36 + 3, 243 + 36 + 3),
    "exhaustive, importance auto": (243 + 24 + 3, 243 + 24 + 3),
    "grid+carry": (135 + 36 + 3, 135 + 36 + 3),
    "grid+carry, importance auto": (135 + 24 + 3, 135 + 24 + 3),
    "halving+carry": (171 + 36 + 3, 81 + 36 + 3),
    "halving+carry, importance auto": (171 + 24 + 3, 81 + 24 + 3),
    "random+carry": (90 + 36 + 3, 90 + 36 + 3),
    "random+carry, importance auto": (90 + 24 + 3, 90 + 24 + 3),
}


def test_presets_table_counts_fits_as_worked_out_by_hand():
    plan, s = small()
    table = presets(plan, s, 1, [ONE_CORE])
    assert [p.name for p in table] == list(EXPECTED)
    assert {p.name: p.fits for p in table} == {k: v[0] for k, v in EXPECTED.items()}
    assert {p.name: p.fit_equivalents for p in table} == pytest.approx({k: v[1] for k, v in EXPECTED.items()})
    # one core, one second per fit, no start-up: the wall time is the fit-equivalents in seconds
    assert [p.wall[0] for p in table] == pytest.approx([e[1] for e in EXPECTED.values()])
    # waves: data jobs, per round the rungs, importance (beside the model) and elimination, then the summary
    by_name = {p.name: p for p in table}
    assert by_name["exhaustive"].waves == DATA_WAVES + 3 * (1 + 2) + SUMMARY_WAVES
    assert by_name["halving+carry"].waves == DATA_WAVES + (3 + 2) + 2 * (1 + 2) + SUMMARY_WAVES
    assert by_name["halving+carry"].config_lines() == ["hpo: {search: halving, carry: {top: auto, refresh: 0}}"]
    assert by_name["grid+carry, importance auto"].config_lines() == [
        "hpo: {search: grid, carry: {top: auto, refresh: 0}}", "rfe: {importance: auto}"]


def test_wall_time_follows_the_critical_path_on_many_cores():
    plan, s = small({"hpo": {"random": {"n_candidates": 12}, "halving": {"resource": "n_samples"}, "shards": 4}})
    exhaustive = next(p for p in presets(plan, s, 1, [ONE_CORE]) if p.name == "exhaustive")
    # shards for 4 CPUs: each rung of 27 configurations in 4 jobs, each round's importance (LOFO, one shard)
    # beside its model: 2 jobs
    w = waves(plan, exhaustive.settings, 4)
    assert w == [(0.0, 1)] * 3 + [(81.0, 4), (16.0, 2), (0.0, 1), (81.0, 4), (13.0, 2), (0.0, 1),
                                  (81.0, 4), (10.0, 2), (0.0, 1), (0.0, 1)]
    many = Machine(64, wave_seconds=30.0, job_seconds=2.0, shard_cpus=4)
    table = presets(plan, s, 1, [many])
    expected = sum(-(-jobs // 64) * (fe / jobs + 2.0) + 30.0 for fe, jobs in w)
    assert table[0].wall[0] == pytest.approx(expected)


@pytest.mark.parametrize("seconds, chosen", [
    (300, "exhaustive"),                        # 282 s fits
    (280, "exhaustive, importance auto"),       # 270 s
    (200, "grid+carry"),                        # 174 s; exhaustive with auto is 270 s
    (110, "halving+carry, importance auto"),    # 108 s; halving+carry with LOFO is 120 s
    (100, None),                                # the fastest, random+carry with auto, is 117 s
])
def test_the_time_box_takes_the_least_aggressive_preset_that_fits(seconds, chosen):
    plan, s = small()
    table = presets(plan, s, 1, [ONE_CORE])
    pick = choose(table, seconds / 3600, 0)
    assert (pick.name if pick else None) == chosen


def test_budget_plan_applies_the_choice_and_says_why(monkeypatch):
    monkeypatch.setenv(ENV, "")  # budget_plan exports its choice (for the jobs); undone after the test
    plan, s = small(budget={"hours": 190 / 3600, "cores": 1})
    b = budget_plan(plan, s, cores=1, cpus=1)
    # the box counts 1.1 s of start-up per job: 16 jobs with one shard per job (3 data jobs; per round a search
    # job, an importance job beside the model, the elimination; the summary), so 17.6 s: grid+carry takes
    # 174 + 17.6 = 191.6 s, above the box; with importance auto 162 + 17.6 = 179.6 s
    assert b.chosen.name == "grid+carry, importance auto" and b.chosen.wall[-1] == pytest.approx(179.6)
    assert b.settings.hpo.carry == {"top": "auto", "refresh": 0} and b.settings.hpo.search == "grid"
    assert b.settings.rfe.importance == "auto"
    assert b.why == ("budget: grid+carry, importance auto, the least aggressive preset whose estimate (about 3 min "
                     "on 1 cores) fits in 0.0528 h; exhaustive would take about 5 min")
    assert "* grid+carry, importance auto " in b.text and "rfe: {importance: auto}" in b.text
    with pytest.raises(RFEError, match="no preset fits in 0.0167 h on 1 cores") as err:
        budget_plan(plan, small(budget={"hours": 60 / 3600})[1], cores=1, cpus=1)
    assert "random+carry, importance auto" in str(err.value) and "hpo: {search: random" in str(err.value)
    # no box: the table is shown when the exhaustive search would take over an hour, and the settings are kept
    assert budget_plan(plan, s.__class__(**{**s.__dict__, "budget": small()[1].budget}), 1, 1).text == ""
    slow = SimpleNamespace(**{**plan.__dict__, "seconds_per_fit": 20.0})
    b = budget_plan(slow, small()[1], 1, 1)
    assert b.chosen is None and b.settings == small()[1] and "presets (the exhaustive search would take about" in b.text


# ------------------------------------------------------------------------------------------ real runs


def test_a_refused_time_box_writes_nothing(tmp_path):
    make_workdir(tmp_path, {"budget": {"hours": 1e-6}}, n_rows=600)
    proc = snakemake(tmp_path, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "budget: no preset fits in 1e-06 h" in out, out[-2000:]
    # the table: the 4-configuration grid allows no random search, and grid+carry (top 9 of 4) is the grid search
    assert "exhaustive" in out and "halving+carry" in out and "config lines" in out and "grid+carry" not in out
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_a_time_box_run_uses_the_chosen_preset_and_says_so(tmp_path):
    """A box just above the second preset's estimate on -j 2: the run uses the preset the table chooses (computed
    here from the run's own cached plan), its HPO results show that preset's search, and the plan, the summary
    and the report's description name it."""
    import os

    import json

    from rfe_lib.plan import Plan
    from rfe_lib.search import search_strategy

    grid = {"learning_rate": [0.05, 0.1, 0.2, 0.3], "max_leaf_nodes": [7, 15, 31]}  # 12 configurations
    overrides = {"hpo": {"grid": grid}, "rfe": {"lofo_below": 4}, "plots": {"top_features": 0}}
    make_workdir(tmp_path, overrides)
    snakemake(tmp_path, "-n", "-j", "2")  # plans the run (and caches the plan with its calibration fit)
    settings = settings_of(overrides)
    (cached,) = (tmp_path / ".snakemake/rfe-plan").glob("*.json")  # the plan the run uses, calibration included
    plan = Plan(**json.loads(cached.read_text()))
    cpus = int(os.environ.get("RFE_AUTO_SHARDS", os.cpu_count() or 1))
    table = presets(plan, settings, cpus, [Machine(2)])
    hours = table[1].wall[0] * 1.0001 / 3600
    expected = choose(table, hours, 0)
    assert expected is not None and expected.name != "exhaustive" and table[0].wall[0] > hours * 3600
    write_config(tmp_path, {**overrides, "budget": {"hours": hours}})  # the same data file: the same plan
    proc = snakemake(tmp_path, "-j", "2", TARGET.file("selected"), TARGET.file("description"))
    assert [cached] == list((tmp_path / ".snakemake/rfe-plan").glob("*.json"))  # the box does not re-plan
    assert f"* {expected.name} " in proc.stderr and f"budget: {expected.name}, the least aggressive" in proc.stderr
    run = layout(tmp_path)
    search = search_strategy(expected.settings, plan)
    for r in range(plan.n_rounds):
        res = pd.read_parquet(run.round_file(r, "results"))
        assert sorted(res.loc[res["rung"] == 0, "config_id"].unique()) == sorted(
            search.pool(r, pd.read_parquet(run.round_file(r - 1, "results")) if r else None))
        assert res["rung"].nunique() == len(search.rungs(r))
    selected = pd.read_parquet(run.file("selected"))
    assert selected["budget"].iloc[0].startswith(f"budget: {expected.name}, the least aggressive")
    assert f"**Time box:** budget: {expected.name}" in run.file("description").read_text()


def test_jobs_that_reparse_take_the_main_process_choice(monkeypatch):
    """A job re-parsing the workflow (other cores, another node) uses the preset the main process exported, not
    one its own cores would choose."""
    plan, s = small(budget={"hours": 190 / 3600, "cores": 1})
    monkeypatch.setenv(ENV, "")
    assert budget_plan(plan, s, cores=1, cpus=1).chosen.name == "grid+carry, importance auto"
    import os

    assert os.environ[ENV] == "grid+carry, importance auto"
    monkeypatch.setenv(ENV, "halving+carry")
    job = budget_plan(plan, s, cores=64, cpus=1, main_process=False)
    assert job.chosen.name == "halving+carry" and job.settings.hpo.search == "halving"


def test_later_rounds_cost_less_by_the_calibrated_column_share():
    """With the plan's column share a (here 0.5), a fit of round r costs a + (1 - a) * n_r / n_0 of a round-0 fit:
    the exhaustive run on one core, one second per round-0 fit, no start-up, worked out by hand."""
    plan, s = small()
    plan.column_fixed_share = 0.5
    exhaustive = presets(plan, s, 1, [ONE_CORE])[0]
    # per round: 81 HPO fits + LOFO (3 x n) + the model; sizes 1, 0.5 + 0.5 * 4/5 = 0.9, 0.5 + 0.5 * 3/5 = 0.8
    assert exhaustive.wall[0] == pytest.approx((81 + 15 + 1) * 1.0 + (81 + 12 + 1) * 0.9 + (81 + 9 + 1) * 0.8)
    assert exhaustive.fit_equivalents == 282  # the table's fit-equivalents stay fits, not seconds


def test_calibration_measures_the_share_a_fit_keeps_with_fewer_columns():
    """The plan's second calibration fit: on a table of 40 columns, a share in [0, 1]; under 10 columns, none."""
    import numpy as np

    from rfe_lib.plan.estimate import calibrate

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(600, 40)), columns=[f"c{j}" for j in range(40)])
    df["bikers"] = df.sum(axis=1)
    s = settings_of({"data": {"features": None}})
    from rfe_lib.features import feature_map

    fmap = feature_map(list(df.columns[:40]), s.data_spec())
    seconds, share = calibrate(s, s.model_spec(), df, fmap, 400)
    assert seconds > 0 and 0.0 <= share <= 1.0
    assert calibrate(s, s.model_spec(), df, fmap[:8], 400)[1] is None


def test_calibration_times_configurations_drawn_from_the_grid(monkeypatch):
    """The estimate's seconds per fit are the mean over configurations drawn at random from the grid, not the
    grid's first (often its cheapest): with a fake fit whose seconds are the configuration's max_leaf_nodes, the
    mean is that of the drawn configurations, recomputed here with numpy and itertools."""
    import itertools

    import numpy as np

    from rfe_lib.plan import estimate

    grid = {"learning_rate": [0.1, 0.2, 0.3], "max_leaf_nodes": [4, 16, 64, 128]}
    s = settings_of({"hpo": {"grid": grid}})
    seen = []

    def fake_fit(settings, spec, df, fmap, n_train_fit, params, n_columns=None):
        seen.append((dict(params), n_columns))
        return float(params["max_leaf_nodes"]) * (0.5 if n_columns else 1.0)

    monkeypatch.setattr(estimate, "_calibration_fit", fake_fit)
    fmap = [{"feature": f"c{j}", "column": f"c{j}"} for j in range(20)]
    seconds, share = estimate.calibrate(s, s.model_spec(), None, fmap, 1000)
    # the grid's configurations in its order (the last key varies fastest), five drawn with seed 0
    configs = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    drawn = sorted(np.random.default_rng(0).choice(len(configs), size=estimate.CALIBRATION_CONFIGS, replace=False).tolist())
    assert [p for p, n in seen if n is None] == [configs[i] for i in drawn]
    assert seconds == pytest.approx(np.mean([configs[i]["max_leaf_nodes"] for i in drawn]))
    assert len({p["max_leaf_nodes"] for p, _ in seen}) > 1  # not one configuration timed three times
    # the column share from the first drawn configuration: 0.5 of its time with 2 of 20 columns
    assert share == pytest.approx((0.5 - 0.1) / 0.9)
