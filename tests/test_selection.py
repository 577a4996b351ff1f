"""Choosing the round, and the summary's rows, on hand-made tables: every expected value is worked out here by
hand or with plain numpy, never with rfe_lib.

The one_se table is built so that each plausible slip gives a different answer: a standard deviation where the
standard error belongs, sqrt(K - 1) or the number of rounds for sqrt(K), the candidate's std (or round 0's) instead
of the best round's, and < instead of <=.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rfe_lib.selection import SELECT_RULES, round_row, select_round, selected_table, selection_warning

# K = 4 folds, so one standard error of the best round (round 1: std 2) is 2 / sqrt(4) = 1: threshold 11.0 exactly.
ONE_SE = pd.DataFrame({
    "round":      [0,    1,    2,    3,    4],
    "n_features": [12,   10,   8,    6,    4],
    "cv_mean":    [10.4, 10.0, 11.0, 11.1, 12.5],
    "cv_std":     [1.0,  2.0,  0.5,  0.5,  6.0],
    "cv_folds":   [4,    4,    4,    4,    4],
    "val_loss":   [9.0,  9.5,  9.8,  8.7,  8.7],
})


def test_best_is_the_lowest_cv_mean():
    assert select_round(ONE_SE, "best") == 1


def test_one_se_is_the_fewest_features_within_one_standard_error_of_the_best():
    # within 10.0 + 2.0 / sqrt(4) = 11.0: rounds 0 (10.4), 1 (10.0) and 2 (11.0, on the line); the fewest: round 2.
    #   std instead of SE (threshold 12) or sqrt(K - 1) (11.155): round 3 (11.1) joins   -> 3
    #   sqrt(number of rounds) = sqrt(5) (10.894): round 2 drops out                      -> 1
    #   the candidate's std (cv_mean <= 10 + std / 2): round 4 (12.5 <= 13) joins, 2 not  -> 4
    #   round 0's std (10.5) or < instead of <=: round 2 drops out                         -> 1
    assert select_round(ONE_SE, "one_se") == 2


def test_one_se_threshold_counts_the_folds_not_the_rounds():
    # the same table with 9 folds: SE = 2 / 3, so round 2 (11.0) is out and the fewest within is round 1 (10.0)
    assert select_round(ONE_SE.assign(cv_folds=9), "one_se") == 1


def test_validation_is_the_lowest_validation_loss_ties_to_fewer_features():
    assert select_round(ONE_SE, "validation") == 4  # 8.7 twice: round 4 has fewer features than round 3
    tied = pd.DataFrame({"round": [0, 1, 2], "n_features": [5, 5, 6], "cv_mean": [1.0, 1.0, 1.0],
                         "cv_std": [0.1] * 3, "cv_folds": [3] * 3, "val_loss": [2.0, 2.0, 2.0]})
    assert select_round(tied, "validation") == 0  # same loss and features: the lower round
    assert select_round(tied, "best") == 0


def test_best_ties_go_to_fewer_features_then_the_lower_round():
    rounds = ONE_SE.assign(cv_mean=[10.0, 10.0, 11.0, 10.0, 12.5], n_features=[12, 10, 8, 10, 4])
    assert select_round(rounds, "best") == 1


def test_selection_is_a_function_of_the_rows_given():
    """A run that stopped early passes only the rounds that ran: the rules choose among those rows alone."""
    ran = ONE_SE[ONE_SE["round"] <= 2]
    assert select_round(ran, "validation") == 0
    assert select_round(ran.iloc[::-1], "one_se") == 2  # row order does not matter
    assert select_round(ONE_SE[ONE_SE["round"] != 1], "best") == 0


def test_unknown_rule_is_refused():
    assert SELECT_RULES == ("best", "one_se", "validation")
    with pytest.raises(ValueError, match="rfe.select must be one of best, one_se, validation"):
        select_round(ONE_SE, "lowest")


def _best_row(fold_losses, params='{"alpha": 1.0}'):
    losses = np.asarray(fold_losses, dtype=float)
    row = {"config_id": 3, "params": params, **{f"fold_{k}": v for k, v in enumerate(losses)},
           "mean": losses.mean(), "std": losses.std(ddof=1), "fit_seconds": 0.1, "error": None}
    return pd.DataFrame([row])


def _metrics():
    # eval/metrics.parquet's layout: one row per set; no mse column
    return pd.DataFrame({"set": ["train", "val", "test"], "n": [70, 15, 15], "rmse": [1.0, 3.0, 4.0],
                         "mae": [0.8, 2.5, 3.5], "r2": [0.9, 0.7, 0.6], "bias": [0.0, -0.5, 0.25],
                         "median_ae": [0.7, 2.25, 3.25], "within_10": [1.0, 0.9, 0.8]})


@pytest.mark.parametrize("metric, val_loss", [("rmse", 3.0), ("mae", 2.5), ("median_ae", 2.25), ("mse", 9.0)])
def test_round_row_takes_cv_from_best_and_held_out_values_from_metrics(metric, val_loss):
    folds = [2.0, 2.5, 3.5]
    names = ["rmse", "mae", "r2", "bias", "median_ae", "within_10"]
    row = round_row(2, ["a", "b"], _best_row(folds), _metrics(), ["c"], names, metric)
    assert row["round"] == 2 and row["n_features"] == 2 and row["features"] == ["a", "b"]
    assert row["params"] == '{"alpha": 1.0}' and row["eliminated"] == ["c"]
    assert row["cv_mean"] == pytest.approx(np.mean(folds)) and row["cv_folds"] == 3
    assert row["cv_std"] == pytest.approx(np.std(folds, ddof=1))
    assert row["val_loss"] == pytest.approx(val_loss)  # the validation value of hpo.metric (mse: RMSE squared)
    assert row["optimism"] == pytest.approx(val_loss - np.mean(folds))
    metrics = _metrics().set_index("set")
    for s in ("val", "test"):
        for m in names:
            assert row[f"{s}_{m}"] == metrics.loc[s, m], (s, m)
    assert not any(k.startswith("train_") for k in row)


def _rounds(val_losses):
    n = len(val_losses)
    return pd.DataFrame({"round": range(n), "n_features": range(n + 2, 2, -1), "features": [list("abcdefg"[:k])
                         for k in range(n + 2, 2, -1)], "cv_mean": np.linspace(5.0, 4.0, n), "cv_std": [0.5] * n,
                         "cv_folds": [3] * n, "val_loss": val_losses,
                         "optimism": np.asarray(val_losses) - np.linspace(5.0, 4.0, n)})


def test_warning_when_the_selected_rounds_validation_loss_is_worse_than_round_0s():
    rounds = _rounds([6.0, 6.5, 7.25])  # CV falls round after round (best: round 2) while validation rises
    text = selection_warning(rounds, 2, "rmse")
    assert text.startswith("the selected round's validation loss 7.25 is worse than round 0's 6:")
    assert "validation RMSE" in text and "rfe.select: validation" in text
    assert f"{7.25 - 4.0:.4g}" in text  # its optimism
    assert selection_warning(rounds, 0, "rmse") is None  # round 0 itself
    assert selection_warning(_rounds([6.0, 5.0, 6.0]), 2, "rmse") is None  # equal is not worse
    assert selection_warning(_rounds([6.0, 5.0, 5.5]), 1, "rmse") is None


def test_selected_table_lists_the_rounds_features_by_importance_with_the_warning():
    rounds = _rounds([6.0, 6.5, 7.25])
    importance = {r: pd.DataFrame({"feature": list("abcdefg"), "importance_mean": [0.1, 3.0, -1.0, 0.1, 2.0, 0, 0]})
                  for r in range(3)}
    sel = selected_table(rounds, importance, "best", "rmse")
    assert sel["round"].tolist() == [2] * 3 and sel["rule"].tolist() == ["best"] * 3
    assert sel["feature"].tolist() == ["b", "a", "c"]  # round 2's features a, b, c, most important first
    assert sel["importance_mean"].tolist() == [3.0, 0.1, -1.0]
    assert sel["warning"].str.startswith("the selected round's validation loss 7.25").all()
    by_val = selected_table(rounds, importance, "validation", "rmse")
    assert set(by_val["round"]) == {0} and sorted(by_val["feature"]) == list("abcde")
    assert by_val["warning"].isna().all()


def test_selected_round_missing_importance_is_nan_not_an_error():
    rounds = _rounds([6.0, 5.0])
    importance = {r: pd.DataFrame({"feature": ["a"], "importance_mean": [1.0]}) for r in range(2)}
    sel = selected_table(rounds, importance, "validation", "rmse")
    assert sel.loc[sel["feature"] == "a", "importance_mean"].item() == 1.0
    assert all(math.isnan(v) for v in sel.loc[sel["feature"] != "a", "importance_mean"])
