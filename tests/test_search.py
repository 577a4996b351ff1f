"""Budgeted hyperparameter search (issue 12): successive halving, random search and carrying the ranking from round to
round, each recomputed independently with plain numpy / scikit-learn on the same folds and row subsamples."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import ParameterGrid, ParameterSampler

from conftest import TARGET, artifact, layout, make_workdir, model_spec, settings_of, snakemake
from rfe_lib import RFEError
from rfe_lib.cv import TrainingData
from rfe_lib.layout import RESULTS
from rfe_lib.search import search_strategy
from rfe_lib.search.results import grid_edges, merge_shards, ranking, search_results
from rfe_lib.search.shards import run_shard

ALPHAS = [0.01, 0.1, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]


def strategy(hpo: dict, n_configs: int, min_fit_rows: int = 100, model=None):
    """The search of the small test config with ``hpo`` (its grid replacing the config's) and ``model``."""
    import dataclasses

    settings = settings_of({"hpo": hpo, **({"model": model} if model else {})})
    settings = dataclasses.replace(settings, hpo=dataclasses.replace(settings.hpo, grid=hpo["grid"]))
    if model:
        settings = dataclasses.replace(settings, model=dataclasses.replace(settings.model, params=model["params"]))
    return search_strategy(settings, SimpleNamespace(n_configs=n_configs, min_fit_rows=min_fit_rows))


def data(n=240, p=5, seed=0, subsample_seed=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ np.arange(1, p + 1) + 0.5 * X[:, 0] ** 2 + rng.normal(scale=2.0, size=n)
    fold = np.arange(n) % 3
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    return TrainingData(X=X, y=y, columns=[f"c{j}" for j in range(p)], folds=folds, subsample_seed=subsample_seed)


def subsample(fit, fraction, seed, k):
    """The rows of fold k a rung with ``fraction`` of the rows fits on, as documented (recomputed here)."""
    if fraction >= 1:
        return fit
    m = math.ceil(fraction * len(fit))
    return fit[np.sort(np.random.default_rng([seed, k]).permutation(len(fit))[:m])]


def direct_loss(X, y, folds, make, fraction, seed):
    out = []
    for k, (fit, held) in enumerate(folds):
        rows = subsample(fit, fraction, seed, k)
        pred = make().fit(X[rows], y[rows]).predict(X[held])
        out.append(float(np.sqrt(np.mean((pred - y[held]) ** 2))))
    return np.mean(out), out


def run_search(d, search, spec, n_shards, tmp_path, tag):
    """Every rung of round 0 of ``search`` on ``d``, each cut into ``n_shards`` shards; the merged results."""
    paths = []
    pool = search.pool(0)
    previous = None
    for g, rung in enumerate(search.rungs(0)):
        candidates = search.candidates(0, g, pool, previous)
        mine = [tmp_path / f"{tag}_{g}_{s}.parquet" for s in range(n_shards)]
        for s, path in enumerate(mine):
            run_shard(d, spec, search.grid, candidates, "rmse", s, n_shards, path, rung=rung, rung_index=g)
        previous = merge_shards(mine)
        paths += mine
    return search_results(paths, search, 0)


# ------------------------------------------------------------------------------------------------- halving

def test_halving_rungs_follow_the_factor_and_the_resource():
    s = strategy({"search": "halving", "grid": {"alpha": ALPHAS}, "halving": {"resource": "n_samples",
                                                                               "min_resources": 20}},
                 9, min_fit_rows=180, model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    rungs = s.rungs(0)
    assert [g.n_candidates for g in rungs] == [9, 3, 1]  # 1 + log3(9) rungs; 180 / 20 allows 3 too
    assert [g.resource_fraction for g in rungs] == pytest.approx([1 / 9, 1 / 3, 1.0])
    assert [g.rows for g in rungs] == pytest.approx([1 / 9, 1 / 3, 1.0]) and rungs[-1].full
    # the resource limits the rungs: 180 / 60 leaves room for one halving only
    s = strategy({"search": "halving", "grid": {"alpha": ALPHAS}, "halving": {"resource": "n_samples",
                                                                               "min_resources": 60}},
                 9, min_fit_rows=180, model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    assert [(g.n_candidates, g.resource_fraction) for g in s.rungs(0)] == [(9, pytest.approx(1 / 3)), (3, 1.0)]
    # an iteration resource: auto picks max_iter for boosting, its values are whole iterations
    s = strategy({"search": "halving", "grid": {"learning_rate": [0.05, 0.1, 0.2] * 1}, "halving": {"factor": 2}},
                 27, model={"estimator": "sklearn.ensemble.HistGradientBoostingRegressor",
                            "params": {"max_iter": 100}})
    rungs = s.rungs(0)
    assert s.resource == "max_iter" and s.min_resources == 25  # 100 / factor**2
    assert [g.params["max_iter"] for g in rungs] == [25, 50, 100]
    assert [g.n_candidates for g in rungs] == [27, 14, 7]
    assert s.fits(0, 5) == {"fits": (27 + 14 + 7) * 5, "fit_equivalents": pytest.approx((27 / 4 + 14 / 2 + 7) * 5),
                            "exhaustive": 27 * 5}


@pytest.mark.parametrize("n_shards", [1, 3])
def test_halving_by_rows_equals_plain_scikit_learn_on_the_same_subsamples(tmp_path, n_shards):
    d = data()
    search = strategy({"search": "halving", "grid": {"alpha": ALPHAS},
                       "halving": {"resource": "n_samples", "min_resources": 18}},
                      len(ALPHAS), min_fit_rows=160, model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    results, best = run_search(d, search, model_spec("sklearn.linear_model.Ridge"), n_shards, tmp_path, "h")
    # by hand: 160 / 18 rows leave room for one halving (3 <= 8.9 < 9), so 2 rungs on 1/3 and all of the rows; a
    # third of fold 0's 160 fitting rows is 53.3, rounded up to 54
    hand = [1 / 3, 1.0]
    assert [g.rows for g in search.rungs(0)] == pytest.approx(hand, rel=1e-15)
    assert len(d.fit_rows(0, hand[0])) == 54 and len(d.fit_rows(0, hand[1])) == 160
    # recomputed: rung by rung, the survivors are the best 1/3 of the rung before (ties by id), on nested subsamples
    alive = list(range(len(ALPHAS)))
    for g, rung in enumerate(search.rungs(0)):
        here = results[results["rung"] == g].set_index("config_id")
        assert sorted(here.index) == alive, g
        means = {}
        for cid in alive:
            mean, folds = direct_loss(d.X, d.y, d.folds, lambda: Ridge(alpha=ALPHAS[cid]), hand[g], 7)
            np.testing.assert_allclose(here.loc[cid, ["fold_0", "fold_1", "fold_2"]].to_numpy(float), folds, rtol=1e-12)
            assert here.loc[cid, "resource_fraction"] == pytest.approx(hand[g])
            means[cid] = mean
        if g + 1 < len(search.rungs(0)):
            alive = sorted(sorted(alive, key=lambda c: (means[c], c))[: search.rungs(0)[g + 1].n_candidates])
    assert best["config_id"].item() == min(alive, key=lambda c: (means[c], c))
    assert best["resource_fraction"].item() == 1.0  # the best's per-fold losses are those of full fits
    # the subsamples are nested: a row in the third of the rows is in every larger share
    small, large = d.fit_rows(0, 1 / 9), d.fit_rows(0, 1 / 3)
    assert set(small) <= set(large) and len(large) == math.ceil(len(d.folds[0][0]) / 3)


def test_halving_results_do_not_depend_on_the_shard_count(tmp_path):
    search = strategy({"search": "halving", "grid": {"alpha": ALPHAS}, "halving": {"resource": "n_samples"}},
                      len(ALPHAS), min_fit_rows=160, model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    spec = model_spec("sklearn.linear_model.Ridge")
    a = run_search(data(), search, spec, 1, tmp_path, "a")[0].drop(columns="fit_seconds")
    b = run_search(data(), search, spec, 4, tmp_path, "b")[0].drop(columns="fit_seconds")
    pd.testing.assert_frame_equal(a, b)


def test_halving_by_iterations_equals_plain_scikit_learn(tmp_path):
    d = data(n=150)
    grid = {"learning_rate": [0.05, 0.1, 0.3, 0.6]}
    search = strategy({"search": "halving", "grid": grid, "halving": {"factor": 2, "min_resources": 5}}, 4,
                      model={"estimator": "sklearn.ensemble.HistGradientBoostingRegressor",
                             "params": {"max_iter": 20}})
    spec = model_spec("sklearn.ensemble.HistGradientBoostingRegressor", params={"max_iter": 20, "random_state": 0})
    results, best = run_search(d, search, spec, 2, tmp_path, "i")
    assert [g.params for g in search.rungs(0)] == [{"max_iter": 5}, {"max_iter": 10}, {"max_iter": 20}]
    for _, row in results.iterrows():
        lr = json.loads(row["params"])["learning_rate"]
        iters = search.rungs(0)[row["rung"]].params["max_iter"]
        _, folds = direct_loss(d.X, d.y, d.folds, lambda: HistGradientBoostingRegressor(
            max_iter=iters, learning_rate=lr, random_state=0), 1.0, 0)
        np.testing.assert_allclose(row[["fold_0", "fold_1", "fold_2"]].to_numpy(float), folds, rtol=1e-12)
        assert json.loads(row["params"]) == {"learning_rate": lr}  # the config's own parameters, not the rung's
    assert best["rung"].item() == 2


def test_halving_rounds_a_resource_that_does_not_divide_evenly(tmp_path):
    """max_iter 30, factor 3, 9 configurations: 3 rungs whose shares 1/9, 1/3, 1 of 30 iterations are 3.33.., 10, 30.
    Rung 0 fits round(30 / 9) = 3 whole iterations, so its share of the resource is 3 / 30 = 0.1, not 1/9. The
    expected values here are written by hand, not taken from the code's rungs."""
    d = data(n=150)
    rates = [0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8]
    search = strategy({"search": "halving", "grid": {"learning_rate": rates}}, 9,
                      model={"estimator": "sklearn.ensemble.HistGradientBoostingRegressor", "params": {"max_iter": 30}})
    assert (search.resource, search.min_resources, search.max_resources) == ("max_iter", 3, 30)  # floor(30 / 3**2)
    rungs = search.rungs(0)
    assert [g.n_candidates for g in rungs] == [9, 3, 1]
    assert [g.params for g in rungs] == [{"max_iter": 3}, {"max_iter": 10}, {"max_iter": 30}]
    assert [g.resource_fraction for g in rungs] == [0.1, pytest.approx(1 / 3, abs=1e-15), 1.0]
    assert rungs[0].resource_fraction != pytest.approx(1 / 9)
    assert search.fits(0, 3) == {"fits": (9 + 3 + 1) * 3, "fit_equivalents": pytest.approx((0.9 + 1 + 1) * 3),
                                 "exhaustive": 27}
    spec = model_spec("sklearn.ensemble.HistGradientBoostingRegressor", params={"max_iter": 30, "random_state": 0})
    results, best = run_search(d, search, spec, 2, tmp_path, "odd")
    hand = {0: (3, 0.1), 1: (10, 1 / 3), 2: (30, 1.0)}  # rung -> (iterations, share of the resource)
    assert sorted(results.groupby("rung").size().items()) == [(0, 9), (1, 3), (2, 1)]
    for _, row in results.iterrows():
        iters, share = hand[row["rung"]]
        assert row["resource_fraction"] == pytest.approx(share, rel=1e-12)
        lr = json.loads(row["params"])["learning_rate"]
        _, folds = direct_loss(d.X, d.y, d.folds, lambda: HistGradientBoostingRegressor(
            max_iter=iters, learning_rate=lr, random_state=0), 1.0, 0)
        np.testing.assert_allclose(row[["fold_0", "fold_1", "fold_2"]].to_numpy(float), folds, rtol=1e-12)
    assert best["rung"].item() == 2 and best["resource_fraction"].item() == 1.0


# ------------------------------------------------------------------------------------------ random, carry

def test_random_search_samples_the_configurations_parameter_sampler_samples():
    grid = {"alpha": ALPHAS, "fit_intercept": [True, False], "tol": [1e-4, 1e-3]}
    s = strategy({"search": "random", "grid": grid, "random": {"n_candidates": 7}}, 36,
                 model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    configs = list(ParameterGrid(grid))
    seed = settings_of().split.seed  # the run's split.seed
    expected = sorted(configs.index(c) for c in ParameterSampler(grid, n_iter=7, random_state=seed))
    assert s.pool(0) == expected and s.rungs(0)[0].n_candidates == 7
    assert s.fits(0, 5)["fit_equivalents"] == 35 and s.fits(0, 5)["exhaustive"] == 180


def test_carry_searches_the_previous_rounds_best_and_refreshes():
    s = strategy({"grid": {"alpha": ALPHAS}, "carry": {"top": 3, "refresh": 3}}, 9,
                 model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    assert [s.searches_fully(r) for r in range(7)] == [True, False, False, True, False, False, True]
    assert s.rungs(1)[0].n_candidates == 3 and s.rungs(3)[0].n_candidates == 9
    # the previous round's ranking: highest rung first, then the lowest mean, ties by id; failures left out
    previous = pd.DataFrame({"config_id": [0, 1, 2, 3, 4, 5, 1, 3], "rung": [0, 0, 0, 0, 0, 0, 1, 1],
                             "mean": [1.0, 5.0, 0.5, 4.0, 0.5, None, 9.0, 8.0],
                             "error": [None, None, None, None, None, "boom", None, None]})
    assert ranking(previous) == [3, 1, 2, 4, 0]
    # the best (3), its neighbours on the grid (alphas 2 and 4), then the ranking: the best 3 of these
    assert s.pool(1, previous) == [3, 2, 4]
    # the failed configuration 5 is a neighbour of 4 but is not carried; a never-scored neighbour (6) may be
    previous_4 = previous.assign(mean=[1.0, 5.0, 0.5, 4.0, 0.5, None, 9.0, 0.1], rung=[0, 0, 0, 0, 1, 0, 1, 1])
    assert ranking(previous_4) == [3, 4, 1, 2, 0]
    assert s.pool(1, previous_4) == [3, 2, 4]
    previous_5 = previous.assign(config_id=[0, 1, 2, 3, 4, 5, 1, 4])
    assert ranking(previous_5)[:2] == [4, 1] and s.pool(1, previous_5) == [4, 3, 1]
    assert s.pool(3, previous) == list(range(9))  # a refresh round searches fully
    auto = strategy({"search": "halving", "grid": {"alpha": ALPHAS * 1}, "carry": {}}, 200,
                    model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    assert auto.carry_top == 20 and auto.carry_refresh == 0  # 10% of 200, at least 3**2
    # halving over a carried pool would rank it after a few trees: carried rounds score it on the full resource
    halving = strategy({"search": "halving", "grid": {"alpha": ALPHAS}, "halving": {"resource": "n_samples"},
                        "carry": {"top": 9, "refresh": 3}}, 27, min_fit_rows=1800,
                       model={"estimator": "sklearn.linear_model.Ridge", "params": {}})
    assert [(g.n_candidates, g.resource_fraction) for g in halving.rungs(1)] == [(9, 1.0)]
    assert [(g.n_candidates, g.resource_fraction) for g in halving.rungs(3)] == [
        (27, pytest.approx(1 / 9)), (9, pytest.approx(1 / 3)), (3, 1.0)]
    assert halving.fits(1, 5) == {"fits": 45, "fit_equivalents": 45.0, "exhaustive": 135}


def test_a_carried_pool_is_the_best_its_grid_neighbours_then_the_ranking():
    """Recomputed from ParameterGrid: a neighbour differs from the best in one parameter, by one listed value."""
    from rfe_lib.grid import grid_neighbors
    from rfe_lib.search.base import carried_pool

    grid = [{"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [4, 8, 16], "l2": [0.0, 1.0]}, {"alpha": [1, 2]}]
    configs = list(ParameterGrid(grid))

    def one_step(a, b):
        if set(a) != set(b):
            return False
        sub = next(g for g in grid if set(g) == set(a))
        steps = [abs(sub[k].index(a[k]) - sub[k].index(b[k])) for k in a]
        return sorted(steps) == [0] * (len(steps) - 1) + [1]

    for i, c in enumerate(configs):
        assert sorted(grid_neighbors(grid, i)) == [j for j, d in enumerate(configs) if one_step(c, d)], c
    best = configs.index({"learning_rate": 0.1, "max_leaf_nodes": 8, "l2": 1.0})  # in the middle: 5 neighbours
    ranked = [best, 0, 17, 3]
    neighbours = [j for j, d in enumerate(configs) if one_step(configs[best], d)]
    pool = carried_pool(ranked, grid, 8)
    assert pool[0] == best and sorted(pool[1:6]) == neighbours and pool[6:] == [0, 17]
    assert carried_pool(ranked, grid, 3)[0] == best and len(carried_pool(ranked, grid, 3)) == 3
    # a neighbour that the previous round scored and saw fail is left out
    failed = neighbours[0]
    assert failed not in carried_pool(ranked, grid, 9, scored={*ranked, failed})
    assert carried_pool([18], grid, 4) == [18, 19]  # the second sub-grid: alpha 1's one neighbour, nothing else ranked


def test_halving_takes_the_estimators_defaults_from_the_plans_record_without_importing_it():
    """Every parse after the first reads the plan from its cache: halving's resource then comes from the plan's record
    of the estimator's parameters, and the estimator's library is not imported (about a CPU-second per parse)."""
    import dataclasses

    from rfe_lib.plan import estimator_params
    from rfe_lib.search import known_params
    from rfe_lib.search.halving import full_resource

    spec = model_spec("sklearn.ensemble.HistGradientBoostingRegressor")
    record = estimator_params(spec)
    assert record["params"]["max_iter"] == HistGradientBoostingRegressor().max_iter
    assert known_params(SimpleNamespace(estimator_params=record), spec) == record["params"]
    assert known_params(SimpleNamespace(estimator_params=record), model_spec("sklearn.linear_model.Ridge")) is None
    assert known_params(SimpleNamespace(), spec) is None  # a plan cached before the record existed
    hpo = settings_of({"hpo": {"search": "halving"}}).hpo
    ghost = dataclasses.replace(spec, estimator="nowhere_to_import.Booster")  # importing it would fail
    assert full_resource(hpo, ghost, 500, record["params"])[:2] == ("max_iter", 100)
    with pytest.raises(RFEError, match="nowhere_to_import"):  # without the record it imports the estimator
        full_resource(hpo, ghost, 500)


def test_grid_edges_name_the_parameter_and_the_edge():
    best = pd.DataFrame({"params": [json.dumps({"alpha": 1000.0, "fit_intercept": True, "tol": 0.001})]})
    grid = {"alpha": [10.0, 100.0, 1000.0], "fit_intercept": [True, False], "tol": [1e-4, 1e-3]}
    assert grid_edges(best, grid) == ["alpha = 1000 (the largest of 10, 100, 1000)"]  # two values: never an edge
    best = pd.DataFrame({"params": [json.dumps({"alpha": 100.0})]})
    assert grid_edges(best, {"alpha": [10.0, 100.0, 1000.0]}) == []


@pytest.mark.parametrize("hpo, message", [
    ({"search": "halving", "halving": {"factor": 1.5}}, "hpo.halving.factor"),
    ({"search": "halving", "halving": {"resource": "n_samples", "min_resources": 100000}},
     "hpo.halving.min_resources (100000) is larger than the full resource"),
    ({"search": "halving", "halving": {"resource": "learning_rate"}},
     "hpo.halving.resource 'learning_rate' is also searched by hpo.grid"),
    ({"search": "halving", "halving": {"resource": "n_trees"}}, "has no parameter 'n_trees'"),
    ({"search": "random", "random": {"n_candidates": 5}}, "hpo.random.n_candidates (5) is larger than the grid (4"),
    ({"search": "random", "random": {"n_candidates": 3}, "max_configs": 2}, "above hpo.max_configs (2)"),
    ({"carry": {"top": 9}}, "hpo.carry.top (9) is larger than the 4 configurations"),
])
def test_bad_search_settings_are_refused_when_the_workflow_is_parsed(tmp_path, hpo, message):
    make_workdir(tmp_path, {"hpo": hpo}, n_rows=600)
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-2000:]
    assert not (tmp_path / RESULTS).exists()


# ------------------------------------------------------------------------------------------ a real run

GRID = {"learning_rate": [0.05, 0.1, 0.3], "max_leaf_nodes": [7, 15, 31]}


@pytest.fixture(scope="module")
def halving_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("halving")
    make_workdir(workdir, {"hpo": {"grid": GRID, "search": "halving", "shards": 2,
                                   "halving": {"resource": "n_samples"}, "carry": {"top": 3, "refresh": 2}}})
    proc = snakemake(workdir, "-j", "2")
    return workdir, proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_halving_run_recomputed_from_its_own_split(halving_run):
    workdir, log = halving_run
    run = layout(workdir)
    assert "budgeted search: halving (factor 3, resource n_samples" in log and "fit-equivalents" in log
    split = pd.read_parquet(run.file("split"))
    table = pd.read_parquet(run.file("table"))
    fmap = pd.read_parquet(run.file("feature_map"))
    train = split[split["set"] == "train"]
    X, y, fold = table.iloc[train["row"].to_numpy()][fmap["column"].tolist()].to_numpy(), train["y"].to_numpy(), \
        train["fold"].to_numpy()
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    res = pd.read_parquet(run.round_file(0, "results"))
    configs = list(ParameterGrid(GRID))
    assert sorted(res.loc[res["rung"] == 0, "config_id"]) == list(range(9))
    means = {}
    for _, row in res.iterrows():
        params = configs[row["config_id"]]
        mean, per_fold = direct_loss(X, y, folds, lambda: HistGradientBoostingRegressor(
            max_iter=30, random_state=7, **params), row["resource_fraction"], 7)
        np.testing.assert_allclose(row[["fold_0", "fold_1", "fold_2"]].to_numpy(float), per_fold, rtol=1e-9)
        means[(row["rung"], row["config_id"])] = mean
    last = res["rung"].max()
    assert last >= 1 and (res.loc[res["rung"] == last, "resource_fraction"] == 1.0).all()
    first = sorted(range(9), key=lambda c: (means[(0, c)], c))
    assert sorted(res.loc[res["rung"] == 1, "config_id"]) == sorted(first[: (res["rung"] == 1).sum()])
    assert (res["rung"] == 1).sum() == 3
    # round 1 carries round 0's best (the last rung first) and its neighbours on the grid, 3 in all: one step of
    # learning_rate down and up, then of max_leaf_nodes; round 2 searches fully again (refresh: 2)
    r1 = pd.read_parquet(run.round_file(1, "results"))
    ranked = res[res["error"].isna()].sort_values(["rung", "mean", "config_id"], ascending=[False, True, True])
    best = configs[ranked["config_id"].iloc[0]]
    steps = [{**best, k: GRID[k][GRID[k].index(best[k]) + d]} for k in sorted(GRID) for d in (-1, 1)
             if 0 <= GRID[k].index(best[k]) + d < len(GRID[k])]
    expected = [configs.index(best)] + [configs.index(c) for c in steps][:2]
    assert sorted(r1.loc[r1["rung"] == 0, "config_id"]) == sorted(expected)
    # ... and scores them on the full resource in one rung (issue 19: no halving over a carried pool), each
    # per-fold loss recomputed with plain scikit-learn on round 1's features and every fitting row of each fold
    assert (r1["rung"] == 0).all() and (r1["resource_fraction"] == 1.0).all() and len(r1) == 3
    kept = set(pd.read_parquet(run.round_file(1, "features"))["feature"])
    cols = fmap.loc[fmap["feature"].isin(kept), "column"].tolist()
    X1 = table.iloc[train["row"].to_numpy()][cols].to_numpy()
    for _, row in r1.iterrows():
        _, per_fold = direct_loss(X1, y, folds, lambda: HistGradientBoostingRegressor(
            max_iter=30, random_state=7, **configs[row["config_id"]]), 1.0, 7)
        np.testing.assert_allclose(row[["fold_0", "fold_1", "fold_2"]].to_numpy(float), per_fold, rtol=1e-9)
    rounds = pd.read_parquet(run.file("rounds"))
    assert rounds["full_search"].tolist() == [True, False, True]
    n_folds = 3
    assert rounds.loc[0, "hpo_fit_equivalents"] == pytest.approx(res["resource_fraction"].sum() * n_folds)
    assert rounds.loc[0, "hpo_configs"] == 9 and rounds.loc[1, "hpo_configs"] == 3
    assert rounds.loc[1, "hpo_fit_equivalents"] == 3 * n_folds  # three full fits per fold
    # the figure of the rungs, in the rounds that halve (a carried round has one rung; its figures' rule is named
    # apart from the other rounds' though both variants have as many figures)
    assert [run.plot("hpo_rungs", r).is_file() for r in range(3)] == [True, False, True]


@pytest.mark.slow
def test_a_halving_run_gives_the_same_results_with_other_shard_counts(halving_run, tmp_path):
    workdir, _ = halving_run
    make_workdir(tmp_path, {"hpo": {"grid": GRID, "search": "halving", "shards": 1,
                                    "halving": {"resource": "n_samples"}, "carry": {"top": 3, "refresh": 2}},
                            "importance": {"shards": 2}, "plots": {"top_features": 0}})
    snakemake(tmp_path, "-j", "2", TARGET.file("rounds"))
    for key, r in (("results", 0), ("results", 1), ("results", 2), ("rounds", None)):
        a, b = artifact(layout(workdir), key, r), artifact(layout(tmp_path), key, r)
        drop = [c for c in ("fit_seconds",) if c in a]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop), check_exact=True, obj=f"{key} of round {r}")


# ------------------------------------------------------------------------------------------ the strategy seam

def test_a_strategy_that_overrides_only_the_pool_size_is_consistent_everywhere():
    """The pool size has one definition (``pool_len``): a new strategy that overrides only it gets a full pool of
    that many ids, rungs, fit counts, a carried pool and an ``hpo.max_configs`` check that all agree with it; one
    whose ``full_pool`` disagrees with it is refused rather than miscounted."""
    import dataclasses

    from rfe_lib.plan.estimate import refuse_large_grid
    from rfe_lib.search import SearchStrategy

    @dataclasses.dataclass(frozen=True)
    class FirstThird(SearchStrategy):  # a toy: the first third of the grid
        name = "first_third"

        def pool_len(self) -> int:
            return self.n_configs // 3

    settings = settings_of({"hpo": {"max_configs": 20, "carry": {"top": "auto", "refresh": 0}}})
    data = {"seed": 7, "min_fit_rows": 100, "model": settings.model_spec()}
    toy = FirstThird.from_settings(settings.hpo, 60, data)
    assert toy.pool(0) == list(range(20))
    assert [g.n_candidates for g in toy.rungs(0)] == [20]
    assert toy.fits(0, 3) == {"fits": 60, "fit_equivalents": 60, "exhaustive": 180}
    assert toy.carry_top == 9  # auto: max(10% of 20, factor**2), from the pool of 20, not the grid of 60
    assert toy.fits(1, 3)["fits"] == 27
    with pytest.raises(RFEError, match=r"hpo.carry.top \(21\) is larger than the 20 configurations"):
        FirstThird.from_settings(dataclasses.replace(settings.hpo, carry={"top": 21, "refresh": 0}), 60, data)
    # hpo.max_configs limits what the strategy scores (20), not the grid (60)
    plan = SimpleNamespace(n_configs=60, n_folds=3, n_rounds=3, schedule=[5, 4, 3], seconds_per_fit=None,
                           min_fit_rows=100)
    refuse_large_grid(plan, settings, toy)
    small = dataclasses.replace(settings, hpo=dataclasses.replace(settings.hpo, max_configs=19))
    with pytest.raises(RFEError, match="above hpo.max_configs = 19"):
        refuse_large_grid(plan, small, toy)

    @dataclasses.dataclass(frozen=True)
    class Inconsistent(SearchStrategy):  # overrides which ids, not how many
        name = "inconsistent"

        def full_pool(self):
            return range(0, self.n_configs, 2)

    with pytest.raises(RFEError, match=r"full_pool\(\) gives 30 configurations but pool_len\(\) says 60"):
        Inconsistent.from_settings(settings.hpo, 60, data).pool(0)
