"""Budgeted elimination (issue 13): correlated-feature groups recomputed independently (scipy's Spearman and connected
components on the training rows), and early stopping, in unit tests and real runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import spearmanr

from conftest import layout, make_workdir, small_frame, snakemake
from rfe_lib.correlated import apply, correlated_groups
from rfe_lib.layout import RESULTS
from rfe_lib.stopping import decision

# ------------------------------------------------------------------------------------------ correlated groups


def correlated_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    cols = {"a1": a, "a2": a + rng.normal(scale=0.05, size=n), "a3": -a ** 3,  # a3: monotone in a (|rho| = 1)
            "b1": rng.normal(size=n), "c": rng.normal(size=n)}
    cols["b2"] = cols["b1"] * 2 + rng.normal(scale=0.01, size=n)
    cols["c"][:20] = np.nan  # missing values: pairwise complete rows
    y = 3 * a + cols["b1"] + rng.normal(scale=0.5, size=n)
    return pd.DataFrame(cols), y


def direct_groups(frame, rows, y, threshold):
    """Spearman |rho| on the training rows (pairwise complete) and connected components, with scipy."""
    names = list(frame.columns)
    corr = np.eye(len(names))
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i < j:
                x, z = frame[a].to_numpy()[rows], frame[b].to_numpy()[rows]
                ok = ~np.isnan(x) & ~np.isnan(z)
                corr[i, j] = corr[j, i] = abs(spearmanr(x[ok], z[ok]).statistic)
    n, labels = connected_components(csr_matrix((corr >= threshold) & ~np.eye(len(names), dtype=bool)))
    groups = [sorted(np.array(names)[labels == g]) for g in range(n) if (labels == g).sum() > 1]
    target = {c: abs(spearmanr(frame[c].to_numpy()[rows][~np.isnan(frame[c].to_numpy()[rows])],
                               y[rows][~np.isnan(frame[c].to_numpy()[rows])]).statistic) for c in names}
    return sorted(groups), corr, names, target


@pytest.mark.parametrize("threshold", [0.9, 0.999, 1.0])
def test_groups_are_connected_components_of_spearman_on_training_rows(threshold):
    frame, y = correlated_data()
    rows = np.arange(0, 400, 2)  # the training rows only
    fmap = [{"feature": c, "column": c, "kind": "numeric"} for c in frame.columns]
    got = correlated_groups(frame, rows, y, fmap, threshold)
    expected, corr, names, target = direct_groups(frame, rows, y, threshold)
    assert [sorted(g["feature"]) for _, g in got.groupby("group")] == expected
    assert got["group"].tolist() == sorted(got["group"].tolist())  # ordered by name
    for _, row in got.iterrows():
        i = names.index(row["feature"])
        others = [names.index(f) for f in got.loc[got["group"] == row["group"], "feature"] if f != row["feature"]]
        assert row["max_correlation"] == pytest.approx(max(corr[i, j] for j in others), abs=1e-12)
        assert row["target_correlation"] == pytest.approx(target[row["feature"]], abs=1e-12)


def test_prune_keeps_the_member_most_correlated_with_the_target_and_group_makes_one_feature():
    frame, y = correlated_data()
    rows = np.arange(400)
    fmap = [{"feature": c, "column": c, "kind": "numeric"} for c in frame.columns]
    fmap.append({"feature": "hour", "column": "hour_sin", "kind": "cyclic"})  # sin/cos pairs take no part
    groups = correlated_groups(frame, rows, y, fmap, 0.95)
    _, _, _, target = direct_groups(frame, rows, y, 0.95)
    pruned, table = apply(fmap, groups, "prune")
    for _, members in table.groupby("group"):
        best = min(members["feature"], key=lambda f: (-target[f], f))
        assert members.loc[members["kept"], "feature"].tolist() == [best]
    assert {r["feature"] for r in pruned} == ({"c", "hour"} | set(table.loc[table["kept"], "feature"]))
    grouped, table = apply(fmap, groups, "group")
    names = dict(zip(table["feature"], table["eliminated_as"]))
    assert names["a1"] == names["a2"] == names["a3"] == "a1 (+2)" and names["b1"] == "b1 (+1)"
    assert [r["column"] for r in grouped if r["feature"] == "a1 (+2)"] == ["a1", "a2", "a3"]
    assert apply(fmap, groups, "report")[0] == fmap  # report changes nothing


def test_correlations_are_measured_on_exactly_the_splits_training_rows():
    """The function the job and the plan call (``correlated_feature_map``) with a real split: x2 follows x1 on the
    training rows only, so the pair is a group at threshold 0.9 on those rows and is not on all the rows (a wrong
    choice of rows would be seen). Every correlation is recomputed with scipy on the training rows of the split."""
    from rfe_lib.correlated import correlated_feature_map
    from rfe_lib.split import make_split

    rng = np.random.default_rng(5)
    n = 600
    y = rng.normal(size=n)
    split = make_split(y, test_fraction=0.2, val_fraction=0.2, folds=3, n_bins=4, seed=11)
    assert (split["row"].to_numpy() == np.arange(n)).all()  # one row per table row, in order (y read by position)
    train = split.loc[split["set"] == "train", "row"].to_numpy()
    assert 0.5 * n < len(train) < 0.7 * n
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    x2[train] = x1[train] + rng.normal(scale=0.05, size=len(train))
    z = y + rng.normal(scale=0.3, size=n)  # a third feature, in no group
    table = {"x1": x1, "x2": x2, "z": z}
    fmap = [{"feature": c, "column": c, "kind": "numeric"} for c in table]

    def rho(a, b, rows):
        return abs(spearmanr(a[rows], b[rows]).statistic)

    everything = np.arange(n)
    assert rho(x1, x2, train) >= 0.9 > rho(x1, x2, everything)  # where the choice of rows matters
    out, groups = correlated_feature_map(table, split, fmap, {"threshold": 0.9, "action": "group"})
    assert groups["feature"].tolist() == ["x1", "x2"]
    for _, row in groups.iterrows():
        assert row["max_correlation"] == pytest.approx(rho(x1, x2, train), abs=1e-12)
        assert row["target_correlation"] == pytest.approx(rho(table[row["feature"]], y, train), abs=1e-12)
    assert [r["feature"] for r in out] == ["x1 (+1)", "x1 (+1)", "z"]
    # prune keeps the member more correlated with the target on the training rows
    _, pruned = correlated_feature_map(table, split, fmap, {"threshold": 0.9, "action": "prune"})
    keep = max(["x1", "x2"], key=lambda f: (rho(table[f], y, train), f == "x1"))
    assert pruned.loc[pruned["kept"], "feature"].tolist() == [keep]


@pytest.mark.slow
def test_a_grouped_run_eliminates_correlated_features_together(tmp_path):
    frame = small_frame()  # temp and atemp correlate above 0.95 on Bikeshare
    make_workdir(tmp_path, {"data": {"features": ["hour", "temp", "atemp", "hum", "workingday"]},
                            "features": {"correlated": {"threshold": 0.95, "action": "group"}},
                            "hpo": {"grid": {"learning_rate": [0.1], "max_leaf_nodes": [15]}},
                            "plots": {"top_features": 4}}, frame=frame)
    snakemake(tmp_path, "-j", "2")
    run = layout(tmp_path)
    correlated = pd.read_parquet(run.file("correlated"))
    assert correlated["feature"].tolist() == ["atemp", "temp"]
    # the correlation is Spearman's on the run's own training rows (recomputed from its split and the data file)
    split = pd.read_parquet(run.file("split"))
    train = split.loc[split["set"] == "train", "row"].to_numpy()
    on_train = abs(spearmanr(frame["temp"].to_numpy()[train], frame["atemp"].to_numpy()[train]).statistic)
    on_all = abs(spearmanr(frame["temp"], frame["atemp"]).statistic)
    assert correlated["max_correlation"].tolist() == pytest.approx([on_train] * 2, abs=1e-12)
    assert abs(on_train - on_all) > 1e-6  # all rows would give another value
    on_target = [abs(spearmanr(frame[c].to_numpy()[train], frame["bikers"].to_numpy()[train]).statistic)
                 for c in ("atemp", "temp")]
    assert correlated["target_correlation"].tolist() == pytest.approx(on_target, abs=1e-12)
    fmap = pd.read_parquet(run.file("feature_map"))
    assert fmap.loc[fmap["feature"] == "atemp (+1)", "column"].tolist() == ["temp", "atemp"]
    features = pd.read_parquet(run.round_file(0, "features"))["feature"].tolist()
    assert features == ["hour", "atemp (+1)", "hum", "workingday"]
    rounds = pd.read_parquet(run.file("rounds"))
    assert rounds["n_features"].tolist() == [4, 3]
    gone = rounds.loc[0, "eliminated"]
    assert len(gone) == 1  # one feature left round 0: a group leaves whole
    assert run.plot("correlated_groups").is_file()
    # the group's importance is the LOFO of both columns together: round 1 has no temp/atemp column at all if it left
    if gone[0] == "atemp (+1)":
        assert "atemp (+1)" not in pd.read_parquet(run.round_file(1, "features"))["feature"].tolist()


def test_grouping_that_leaves_too_few_features_is_refused(tmp_path):
    make_workdir(tmp_path, {"data": {"features": ["hour", "temp", "atemp", "hum"]},
                            "features": {"correlated": {"threshold": 0.95, "action": "prune"}}}, n_rows=600)
    proc = snakemake(tmp_path, "-n", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "features.correlated (prune at threshold 0.95) leaves 3 of 4 features" in text
    assert "rfe.min_features (3)" in text and not (tmp_path / RESULTS).exists()


@pytest.mark.parametrize("threshold", [0, 1.5])
def test_a_threshold_outside_0_1_is_refused(tmp_path, threshold):
    make_workdir(tmp_path, {"features": {"correlated": {"threshold": threshold}}}, n_rows=600)
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0 and "features.correlated.threshold" in proc.stdout + proc.stderr


# ------------------------------------------------------------------------------------------ early stopping

def test_stop_after_patience_rounds_above_the_best_plus_tolerance_standard_errors():
    # round 1 is the best (10 +- 2, 4 folds: SE 1); the limit is 10 + 1 * 1 = 11
    history = [(12.0, 2.0, 4), (10.0, 2.0, 4), (11.5, 9.0, 4), (11.0, 0.1, 4), (11.2, 1.0, 4), (11.6, 1.0, 4)]
    verdicts = [decision(history[: i + 1], patience=2, tolerance=1.0) for i in range(len(history))]
    assert [v["rounds_above"] for v in verdicts] == [0, 0, 1, 0, 1, 2]  # 11.0 is not above 11: the count restarts
    assert [v["stop"] for v in verdicts] == [False] * 5 + [True]
    assert verdicts[-1]["best_round"] == 1 and "rounds 4-5" in verdicts[-1]["reason"]
    # the best round's standard error, not its standard deviation, and not the candidate's
    assert decision([(10.0, 2.0, 4), (11.5, 9.0, 4)], patience=1, tolerance=1.0)["stop"]
    assert not decision([(10.0, 2.0, 4), (11.5, 9.0, 4)], patience=1, tolerance=2.0)["stop"]  # limit 10 + 2 = 12
    assert not decision([(10.0, 8.0, 16), (10.9, 0.1, 16)], patience=1, tolerance=1.0)["stop"]  # SE 2, not SD 8
    assert decision([(10.0, 8.0, 16), (12.1, 0.1, 16)], patience=1, tolerance=1.0)["stop"]


def test_stopping_reads_each_rounds_best_std_and_fold_count_from_its_search(tmp_path):
    """A nonzero tolerance: the decision of the elimination job (``history`` of the rounds' search shards, then
    ``decision``) against the best configuration's mean, ``std`` (ddof 1) and fold count recomputed with scikit-learn.
    Round r searches Ridge on columns r to 4 (the dropped ones matter most, so the loss rises); 4 folds."""
    from types import SimpleNamespace

    from sklearn.linear_model import Ridge

    from conftest import model_spec, settings_of
    from rfe_lib.cv import TrainingData
    from rfe_lib.search import search_strategy
    from rfe_lib.search.shards import run_shard
    from rfe_lib.stopping import history

    rng = np.random.default_rng(3)
    n, k_folds, alphas = 200, 4, [0.1, 30.0, 300.0]
    X = rng.normal(size=(n, 5))
    y = X @ np.array([4.0, 3.0, 0.3, 0.2, 0.1]) + rng.normal(size=n)
    fold = np.arange(n) % k_folds
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(k_folds)]
    grid = {"alpha": alphas}
    search = search_strategy(settings_of({"hpo": {"grid": grid}}),
                             SimpleNamespace(n_configs=len(alphas), min_fit_rows=150))
    paths, expected = [], []
    for r in range(4):
        cols = list(range(r, 5))
        d = TrainingData(X=X[:, cols].copy(), y=y, columns=[f"c{j}" for j in cols], folds=folds)
        for s in range(2):
            paths.append(layout(tmp_path).hpo_shard(r, 0, s))
            paths[-1].parent.mkdir(parents=True, exist_ok=True)
            run_shard(d, model_spec("sklearn.linear_model.Ridge"), grid, list(range(len(alphas))), "rmse", s, 2,
                      paths[-1])
        by_config = []
        for alpha in alphas:
            losses = [float(np.sqrt(np.mean((Ridge(alpha=alpha).fit(X[f][:, cols], y[f]).predict(X[h][:, cols])
                                             - y[h]) ** 2))) for f, h in folds]
            by_config.append((np.mean(losses), np.std(losses, ddof=1)))
        best = min(range(len(alphas)), key=lambda c: (by_config[c][0], c))
        expected.append((*by_config[best], k_folds))
    got = history(paths, search)
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(expected, dtype=float), rtol=1e-10)
    assert [g[2] for g in got] == [k_folds] * 4  # the fold count, read from the shards' fold columns

    # the decision after round 1 (one round above round 0, patience 1): stop exactly when round 1's loss exceeds
    # round 0's mean + tolerance * std / sqrt(4); tolerances 5% either side of that point, written out
    (m0, sd0, _), (m1, _, _) = expected[:2]
    assert m1 > m0 and sd0 > 0
    edge = (m1 - m0) / (sd0 / 2)  # the tolerance at which round 1 is just on the limit
    assert decision(got[:2], patience=1, tolerance=0.95 * edge)["stop"]
    assert not decision(got[:2], patience=1, tolerance=1.05 * edge)["stop"]
    # a standard deviation (not a standard error) or a wrong fold count would move the edge by 2x or sqrt(3/4)
    assert (m1 - m0) / sd0 < 0.95 * edge and edge * np.sqrt(3) / 2 < 0.95 * edge
    # patience 2 over all four rounds: every later round is above round 0 by more than the tolerance
    verdict = decision(got, patience=2, tolerance=0.5 * edge)
    assert verdict["best_round"] == 0 and verdict["rounds_above"] == 3 and verdict["stop"]
    limit = m0 + 0.5 * edge * sd0 / 2
    assert f"({limit:.6g})" in verdict["reason"]


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("stopped")
    make_workdir(workdir, {"data": {"features": ["hour", "temp", "hum", "workingday", "weathersit", "windspeed"]},
                           "hpo": {"grid": {"learning_rate": [0.2], "max_leaf_nodes": [15]}},
                           "rfe": {"min_features": 1, "stop": {"patience": 1, "tolerance": 0.0}},
                           "plots": {"top_features": 1}})
    proc = snakemake(workdir, "-j", "2")
    return workdir, proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_run_that_stops_early_says_so_everywhere_and_fits_nothing_after(stopped_run):
    workdir, log = stopped_run
    run = layout(workdir)
    rounds = pd.read_parquet(run.file("rounds"))
    last = int(rounds["round"].max())
    assert last < 5  # 6 rounds were planned (6 -> 1 features)
    # independently: round r's CV loss above the best so far, patience 1, tolerance 0, from each round's best
    cv = [float(pd.read_parquet(run.round_file(r, "best"))["mean"].iloc[0]) for r in range(last + 1)]
    above = [cv[r] > min(cv[: r + 1]) for r in range(last + 1)]
    assert above[-1] and not any(above[:-1])
    assert rounds["stopped_early"].tolist() == above
    assert "stopped early after round" in rounds.loc[rounds["round"] == last, "stop_reason"].item()
    # nothing was fitted after the stop: no search, importance, model or figure of a later round
    for r in range(last + 1, 6):
        assert not run.round_file(r, "results").parent.exists() and not run.plot("*", r).parent.exists()
    assert "early stopping (rfe.stop: patience 1, tolerance 0 standard errors)" in log
    # the summary, the figure, the workbook and the report
    assert run.plot("loss_vs_features").is_file()
    assert "Early stopping:** stopped early after round" in run.file("description").read_text()
    summary = pd.read_excel(run.file("workbook"), sheet_name="Summary")
    assert summary["stop_reason"].fillna("").str.contains("did not run").sum() == 1
    selected = pd.read_parquet(run.file("selected"))
    assert int(selected["round"].iloc[0]) <= last  # the selection sees only the rounds that ran
    # resuming or rerunning: nothing left to do
    again = snakemake(workdir, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
