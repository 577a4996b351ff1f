"""Independent reference computations for the tests: plain numpy, pandas, scipy and scikit-learn, written here and
never taken from rfe_lib. A test builds the model matrix from the raw data file itself, refits the models with
scikit-learn on the rows and folds of the run's split, and compares what it gets with the run's artifacts.

Angle targets follow the documented contract (README, "Angle targets"): the model fits the target's sine and cosine
and predicts ``atan2``; predictions lie in [0, turn) when every training target is non-negative, in [-half, half)
otherwise; every error is wrapped into [-half, half) before any loss or metric; the constant predictor of an angle
is the circular mean.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import circmean
from sklearn.metrics import mean_absolute_error, mean_squared_error, median_absolute_error

from conftest import artifact, matching
from rfe_lib.layout import RESULTS, Layout

HALF = {None: None, "degrees": 180.0, "radians": math.pi}


# ------------------------------------------------------------------------------------------------ losses

def wrap(values, half):
    values = np.asarray(values, dtype=float)
    return (values + half) % (2 * half) - half


def errors(y, pred, angle=None):
    e = np.asarray(pred, dtype=float) - np.asarray(y, dtype=float)
    return e if angle is None else wrap(e, HALF[angle])


def loss(y, pred, metric, angle=None):
    """The CV loss of one fold, from scikit-learn's metrics on the (wrapped) errors."""
    e = errors(y, pred, angle)
    zero = np.zeros_like(e)
    if metric == "rmse":
        return math.sqrt(mean_squared_error(zero, e))
    if metric == "mse":
        return mean_squared_error(zero, e)
    if metric == "mae":
        return mean_absolute_error(zero, e)
    if metric == "median_ae":
        return median_absolute_error(zero, e)
    raise ValueError(metric)


def constant(y_fit, n, angle=None):
    """The best constant guess: the mean, or for an angle the circular mean (scipy)."""
    if angle is None:
        return np.full(n, float(np.mean(y_fit)))
    half = HALF[angle]
    return np.full(n, float(circmean(y_fit, high=half, low=-half)))


def metric_row(y, pred, tolerances, angle=None) -> dict:
    """Every column of eval/metrics.parquet for one set, recomputed."""
    y = np.asarray(y, dtype=float)
    e = errors(y, pred, angle)
    a = np.abs(e)
    if angle is None:
        dev = y - y.mean()
    else:
        half = HALF[angle]
        dev = wrap(y - circmean(y, high=half, low=-half), half)
    row = {"n": len(y), "rmse": math.sqrt(np.mean(e ** 2)), "mae": a.mean(),
           "r2": 1 - np.sum(e ** 2) / np.sum(dev ** 2), "bias": e.mean(), "median_ae": np.median(a),
           "p90_ae": np.percentile(a, 90), "p95_ae": np.percentile(a, 95)}
    row.update({f"within_{float(t):g}": float(np.mean(a <= t)) for t in tolerances})
    return row


def validation_loss(val_metrics: dict, metric: str) -> float:
    return val_metrics["rmse"] ** 2 if metric == "mse" else val_metrics[metric]


# ------------------------------------------------------------------------------------------------ models

def fit_predict(make_model, X_fit, y_fit, X_pred, angle=None):
    """Fit ``make_model()`` and predict; for an angle target, one model for the sine and one for the cosine."""
    if angle is None:
        return make_model().fit(X_fit, y_fit).predict(X_pred)
    half = HALF[angle]
    scale = math.pi / half
    a = np.asarray(y_fit, dtype=float) * scale
    s = make_model().fit(X_fit, np.sin(a)).predict(X_pred)
    c = make_model().fit(X_fit, np.cos(a)).predict(X_pred)
    pred = np.arctan2(s, c) / scale
    return np.mod(pred, 2 * half) if np.min(y_fit) >= 0 else (pred + half) % (2 * half) - half


def cv_fold_losses(make_model, X, y, fold, n_folds, metric, angle=None):
    """Per-fold losses of ``make_model`` on training rows ``X``, ``y`` with fold labels ``fold``; with no column
    left, the constant predictor."""
    out = []
    for k in range(n_folds):
        fit, held = fold != k, fold == k
        if X.shape[1] == 0:
            pred = constant(y[fit], int(held.sum()), angle)
        else:
            pred = fit_predict(make_model, X[fit], y[fit], X[held], angle)
        out.append(loss(y[held], pred, metric, angle))
    return np.array(out)


# ------------------------------------------------------------------------------------------------ a run

class Run:
    """A finished run's folder, read back with pandas, and the raw data it started from."""

    def __init__(self, workdir, raw: pd.DataFrame, config: dict, columns_of_feature: dict):
        self.workdir = Path(workdir)
        self.layout = Layout.of(config["run_name"], self.workdir / RESULTS)
        self.raw = raw
        self.config = config
        self.columns_of_feature = columns_of_feature  # feature -> {column: raw values}, in model-column order
        self.split = self.read("split")
        self.train = self.split[self.split["set"] == "train"]
        self.y_all = raw[config["data"]["target"]].to_numpy(dtype=float)
        self.y = self.y_all[self.train["row"].to_numpy()]
        self.fold = self.train["fold"].to_numpy()
        self.n_rounds = len(matching(self.layout.round_dir("*")))

    def read(self, key, r=None) -> pd.DataFrame:
        """An artifact by its layout key: of the whole run, or of round ``r``."""
        return artifact(self.layout, key, r)

    def features(self, r) -> list[str]:
        return self.read("features", r)["feature"].tolist()

    def columns(self, features) -> list[str]:
        return [c for f, cols in self.columns_of_feature.items() if f in features for c in cols]

    def raw_matrix(self, features) -> np.ndarray:
        """The model matrix of ``features`` built here from the raw data."""
        cols = [v for f, cmap in self.columns_of_feature.items() if f in features for v in cmap.values()]
        return np.column_stack(cols) if cols else np.empty((len(self.raw), 0))

    def matrix(self, features, rows=None) -> np.ndarray:
        """The model matrix of ``features`` (all rows, or ``rows``) that the fits here use: the run's
        data/features.parquet, which :func:`check_model_table` compares with :meth:`raw_matrix` value for value.
        (Its floats, not a recomputation's: a sin/cos one rounding apart, sin(pi) = 1.2e-16 against -2.4e-16,
        reorders a tree's bins and changes its fit.)"""
        table = self.read("table")
        cols = self.columns(features)
        X = table[cols].to_numpy(dtype=float) if cols else np.empty((len(table), 0))
        return X if rows is None else X[rows]


def cyclic(values, period):
    angle = 2 * np.pi * np.asarray(values, dtype=float) / period
    return np.sin(angle), np.cos(angle)


def best_of(fold_losses: dict) -> int:
    """The config id with the lowest mean loss (ties: the lowest id)."""
    means = {cid: float(np.mean(v)) for cid, v in fold_losses.items()}
    return min(means, key=lambda cid: (means[cid], cid))


def params_of(results: pd.DataFrame) -> dict:
    return {int(cid): json.loads(p) for cid, p in zip(results["config_id"], results["params"])}


def stratification_problems(split: pd.DataFrame, y, n_bins: int, fractions: dict, n_folds: int) -> list[str]:
    """Where the split is not stratified: for every target quantile bin (pandas' qcut of the whole target), each
    set must hold its share of the bin's rows to within one row, and each fold its share of the bin's training
    rows to within one row."""
    bins = pd.qcut(pd.Series(np.asarray(y, dtype=float)), q=n_bins, labels=False, duplicates="drop").to_numpy()
    sets = split["set"].to_numpy()
    fold = split["fold"].to_numpy()
    problems = []
    for b in np.unique(bins):
        in_bin = bins == b
        n_bin = int(in_bin.sum())
        for name, share in fractions.items():
            count = int(np.sum(in_bin & (sets == name)))
            if abs(count - share * n_bin) > 1:
                problems.append(f"bin {b}: {count} {name} rows of {n_bin}, expected {share * n_bin:.1f}")
        n_train = int(np.sum(in_bin & (sets == "train")))
        for k in range(n_folds):
            count = int(np.sum(in_bin & (fold == k)))
            if abs(count - n_train / n_folds) > 1:
                problems.append(f"bin {b} fold {k}: {count} of {n_train} training rows, "
                                f"expected {n_train / n_folds:.1f}")
    return problems


def recompute(run: Run, make_model, metric: str, tolerances, angle=None, lofo: bool = True) -> dict:
    """Every round of ``run`` recomputed from the raw data: each configuration's per-fold CV losses, the best
    configuration, (with ``lofo``) each feature's per-fold importance, the final model's predictions of every row
    and the metrics of each set. ``make_model(params)`` builds a fresh scikit-learn model for one configuration.

    Returns ``{r: {...}}``; the round's features are the run's (``round_r/features.parquet``), whose elimination
    the caller checks against the recomputed importances."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # as a job with one thread; results do not depend on it, time does
        return _recompute(run, make_model, metric, tolerances, angle, lofo)


def _recompute(run, make_model, metric, tolerances, angle, lofo):
    K = run.config["split"]["folds"]
    train_rows = run.train["row"].to_numpy()
    sets = run.split["set"].to_numpy()
    out = {}
    for r in range(run.n_rounds):
        features = run.features(r)
        X = run.matrix(features, train_rows)
        params = params_of(run.read("results", r))
        losses = {cid: cv_fold_losses(lambda p=p: make_model(p), X, run.y, run.fold, K, metric, angle)
                  for cid, p in params.items()}
        best = best_of(losses)
        with_all = losses[best]
        importance = {}
        if lofo:
            for f in features:
                keep = [j for j, c in enumerate(run.columns(features)) if c not in run.columns([f])]
                without = cv_fold_losses(lambda: make_model(params[best]), X[:, keep], run.y, run.fold, K, metric,
                                         angle)
                importance[f] = without - with_all
        X_all = run.matrix(features)
        train = sets == "train"
        pred = fit_predict(lambda: make_model(params[best]), X_all[train], run.y_all[train], X_all, angle)
        metrics = {s: metric_row(run.y_all[sets == s], pred[sets == s], tolerances, angle)
                   for s in ("train", "val", "test")}
        out[r] = {"features": features, "losses": losses, "best": best, "params": params[best],
                  "importance": importance, "pred": pred, "metrics": metrics}
    return out


def expected_rounds(ref: dict, run: Run, metric: str) -> pd.DataFrame:
    """summary/rounds.parquet as it should be, from the recomputation (importance-independent columns), with the
    eliminated features read from the run (the caller checks them against the recomputed importances)."""
    rows = []
    for r, x in ref.items():
        best = x["losses"][x["best"]]
        val = x["metrics"]["val"]
        row = {"round": r, "n_features": len(x["features"]), "features": x["features"],
               "params": x["params"], "cv_mean": float(np.mean(best)), "cv_std": float(np.std(best, ddof=1)),
               "cv_folds": len(best), "val_loss": validation_loss(val, metric)}
        row["optimism"] = row["val_loss"] - row["cv_mean"]
        for s in ("val", "test"):
            row.update({f"{s}_{m}": v for m, v in x["metrics"][s].items() if m != "n"})
        row["eliminated"] = run.read("eliminated", r)["feature"].tolist()
        # the exhaustive grid: every configuration, every fold, full fits
        row.update(full_search=True, hpo_configs=len(x["losses"]), hpo_fits=len(x["losses"]) * len(best),
                   hpo_fit_equivalents=float(len(x["losses"]) * len(best)),
                   grid_edge=grid_edge(x["params"], run.config["hpo"]["grid"]))
        rows.append(row)
    return pd.DataFrame(rows)


def grid_edge(params: dict, grid: dict) -> str:
    """Where ``params`` sits on the smallest or largest value of a numeric grid parameter of 3+ values (README)."""
    notes = []
    for name in sorted(grid):
        values = sorted({v for v in grid[name] if isinstance(v, (int, float)) and not isinstance(v, bool)})
        if len(values) >= 3 and params.get(name) in (values[0], values[-1]):
            which = "smallest" if params[name] == values[0] else "largest"
            notes.append(f"{name} = {params[name]:g} (the {which} of {', '.join(f'{v:g}' for v in values)})")
    return "; ".join(notes)


def choose(rounds: pd.DataFrame, rule: str) -> int:
    """The round each rule picks, written out here (see the README's Configuration section)."""
    rows = list(rounds.itertuples(index=False))
    if rule == "best":
        return min(rows, key=lambda t: (t.cv_mean, t.n_features, t.round)).round
    if rule == "validation":
        return min(rows, key=lambda t: (t.val_loss, t.n_features, t.round)).round
    if rule == "one_se":
        b = min(rows, key=lambda t: (t.cv_mean, t.n_features, t.round))
        limit = b.cv_mean + b.cv_std / math.sqrt(b.cv_folds)
        return min((t for t in rows if t.cv_mean <= limit), key=lambda t: (t.n_features, t.cv_mean, t.round)).round
    raise ValueError(rule)


def eliminated_by(importance: dict, n: int) -> list[str]:
    """The ``n`` least important features (lowest mean importance, ties by name), in the order they leave."""
    return sorted(importance, key=lambda f: (float(np.mean(importance[f])), f))[:n]


# ------------------------------------------------------------------------------------------------ checks

def assert_close(got, expected, what, rtol=1e-9, atol=1e-9):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), rtol=rtol, atol=atol,
                               err_msg=what)


def check_model_table(run: Run) -> None:
    """data/features.parquet holds, column for column, the matrix built here from the raw data (missing values
    where the raw data has them: nothing is imputed before the folds)."""
    fmap = run.read("feature_map")
    assert fmap["column"].tolist() == run.columns(list(run.columns_of_feature))
    table = run.read("table")
    X = run.raw_matrix(list(run.columns_of_feature))
    assert list(table.columns) == fmap["column"].tolist()
    got = table.to_numpy(dtype=float)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(X))
    assert_close(got, X, str(run.layout.file("table")), rtol=1e-12, atol=1e-12)


def check_hpo(run: Run, ref: dict) -> None:
    """Every configuration's per-fold CV loss, mean and std, and the best configuration of every round."""
    for r, x in ref.items():
        res = run.read("results", r).set_index("config_id")
        assert res["error"].isna().all()
        K = len(next(iter(x["losses"].values())))
        for cid, losses in x["losses"].items():
            assert_close(res.loc[cid, [f"fold_{k}" for k in range(K)]], losses, f"round {r} config {cid}")
            assert_close(res.loc[cid, "mean"], np.mean(losses), f"round {r} config {cid} mean")
            assert_close(res.loc[cid, "std"], np.std(losses, ddof=1), f"round {r} config {cid} std")
        best = run.read("best", r)
        assert best["config_id"].item() == x["best"], r
        assert json.loads(best["params"].item()) == x["params"]


def check_importance_and_elimination(run: Run, ref: dict) -> None:
    """Every feature's per-fold importance (CV loss without it minus with all), the features each round
    eliminates, and the next round's features."""
    for r, x in ref.items():
        imp = run.read("importance", r).set_index("feature")
        assert sorted(imp.index) == sorted(x["features"])
        K = len(x["losses"][x["best"]])
        for f, values in x["importance"].items():
            assert_close(imp.loc[f, [f"fold_{k}" for k in range(K)]], values, f"round {r} importance of {f}")
            assert_close(imp.loc[f, "importance_mean"], np.mean(values), f"round {r} mean importance of {f}")
        gone = run.read("eliminated", r)["feature"].tolist()
        if r + 1 in ref:
            n_gone = len(x["features"]) - len(ref[r + 1]["features"])
            assert gone == eliminated_by(x["importance"], n_gone), r
            assert ref[r + 1]["features"] == [f for f in x["features"] if f not in gone]
        else:
            assert gone == []


def check_predictions(run: Run, ref: dict) -> None:
    """The final model of every round predicts every row as a scikit-learn refit of the chosen configuration on
    the training rows does."""
    for r, x in ref.items():
        pred = run.read("predictions", r)
        assert pred["row"].tolist() == list(range(len(run.raw)))
        assert pred["set"].tolist() == run.split["set"].tolist()
        assert_close(pred["y_true"], run.y_all, f"round {r} y_true", rtol=1e-12, atol=0)
        assert_close(pred["y_pred"], x["pred"], f"round {r} predictions")


def check_metrics(run: Run, ref: dict) -> None:
    """Every column of eval/metrics.parquet, for every set, recomputed from the raw target and the refit."""
    for r, x in ref.items():
        m = run.read("metrics", r).set_index("set")
        assert list(m.index) == ["train", "val", "test"]
        for s, expected in x["metrics"].items():
            assert sorted(m.columns) == sorted(expected), (r, s)
            for col, value in expected.items():
                assert_close(m.loc[s, col], value, f"round {r} {s} {col}")


def check_summary(run: Run, ref: dict, metric: str) -> pd.DataFrame:
    """summary/rounds.parquet, every row and every value, from the recomputation; returns the expected table."""
    expected = expected_rounds(ref, run, metric)
    got = run.read("rounds")
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for col in expected.columns:
        for r, (a, b) in enumerate(zip(got[col], expected[col])):
            if col in ("features", "eliminated"):
                assert list(a) == list(b), (col, r)
            elif col == "params":
                assert json.loads(a) == b, (col, r)
            elif isinstance(b, (str, bool, np.bool_)):
                assert a == b, (col, r, a, b)
            else:
                assert_close(a, b, f"rounds.parquet {col} round {r}")
    return expected


def check_selection(run: Run, expected: pd.DataFrame, rule: str) -> None:
    """The selected round is the rule's choice on the recomputed rounds; its features come most important first,
    and the warning is there exactly when its validation loss is worse than round 0's."""
    selected = run.read("selected")
    r = choose(expected, rule)
    assert set(selected["round"]) == {r} and set(selected["rule"]) == {rule}
    assert sorted(selected["feature"]) == sorted(expected.loc[r, "features"])
    imp = run.read("importance", r).set_index("feature")["importance_mean"]
    order = sorted(expected.loc[r, "features"], key=lambda f: (-imp[f], f))
    assert selected["feature"].tolist() == order
    worse = expected.loc[r, "val_loss"] > expected.loc[0, "val_loss"]
    warning = selected["warning"].iloc[0]
    assert (not pd.isna(warning)) == worse, warning
    if worse:
        assert warning.startswith(f"the selected round's validation loss {expected.loc[r, 'val_loss']:.4g} is worse "
                                  f"than round 0's {expected.loc[0, 'val_loss']:.4g}:")
