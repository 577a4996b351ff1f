"""The elimination repeated on fresh rows (``rfe.repeats``): the outer curve, the chosen size, stability and the
consensus set.

With ``rfe.repeats: R`` above 1 the whole elimination runs R times. Repeat ``i`` is a run of its own with the split
seed ``split.seed + i``: its own training and validation rows and CV folds, drawn from the rows that are not test
rows. The test rows are the same in every repeat (drawn with ``split.test_seed``, by default the run's
``split.seed``), and no repeat fits on, searches on, eliminates on or chooses by them.

Every function here is a pure function of the repeats' tables:

- :func:`outer_curve`: for every number of features that every repeat reached, the validation loss of each repeat's
  round of that size: its mean, its standard error across repeats (``std(ddof=1) / sqrt(k)``) and the count ``k``.
  The validation rows of a repeat are never used by its search or elimination, so the curve is not flattered by the
  folds that drove the elimination (the single run's CV loss is).
- :func:`choose_size`: ``best`` takes the lowest mean (ties: fewer features); ``one_se`` the fewest features whose
  mean is within one standard error of the lowest mean (``loss_mean <= min + se_at_min``). ``validation`` is
  ``best`` (the curve is a validation loss already).
- :func:`survival`: for every feature and size, the share of repeats whose round of that size holds the feature;
  :func:`stability_table`: at the chosen size, that share, and the feature's mean survival round (the last round
  that held it, averaged over repeats; -1 for a repeat in which it never entered round 0, as after ``prune``).
- :func:`consensus`: the chosen size's features with the highest survival share. Ties: the higher mean survival
  round, then the name. A correlated group (``features.correlated.action: group``) counts as its members, since
  groups are found on each repeat's own training rows and differ between repeats; the consensus set then has as many
  members as the repeats' rounds of that size hold, by their median.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

CURVE_COLUMNS = ["n_features", "loss_mean", "loss_se", "repeats"]
STABILITY_COLUMNS = ["feature", "share", "mean_survival_round", "consensus", "rank"]
# The warning threshold: below this median survival share of the consensus set, the selection is not stable.
STABLE_SHARE = 0.5


def repeat_settings(settings, i: int):
    """The settings of repeat ``i``: split seed ``split.seed + i``; the test rows drawn as the run's
    (``split.test_seed``, or ``split.seed`` when it is not set)."""
    s = settings.split
    test_seed = s.seed if s.test_seed is None else s.test_seed
    split = dataclasses.replace(s, seed=s.seed + i, test_seed=test_seed)
    return dataclasses.replace(settings, split=split)


def final_settings(settings):
    """The settings of the final model: the run's own seed; the test rows as every repeat's."""
    return repeat_settings(settings, 0)


def outer_curve(rounds: dict[int, pd.DataFrame]) -> tuple[pd.DataFrame, str | None]:
    """The outer curve (:data:`CURVE_COLUMNS`, one row per size, fewest features last) from each repeat's
    ``summary/rounds.parquet`` (``n_features`` and ``val_loss`` are read), and a note naming the sizes left out
    because not every repeat reached them (None when there are none)."""
    long = pd.concat([t[["n_features", "val_loss"]].assign(repeat=i) for i, t in rounds.items()], ignore_index=True)
    stats = long.groupby("n_features")["val_loss"].agg(loss_mean="mean", sd=lambda v: v.std(ddof=1),
                                                        repeats="count")
    everywhere = stats["repeats"] == len(rounds)
    stats["loss_se"] = stats["sd"] / np.sqrt(stats["repeats"])
    curve = (stats[everywhere].reset_index().sort_values("n_features", ascending=False)
             [CURVE_COLUMNS].reset_index(drop=True))
    curve["repeats"] = curve["repeats"].astype("int64")
    left = sorted(stats.index[~everywhere].tolist(), reverse=True)
    note = None
    if left:
        note = (f"sizes reached by only some of the {len(rounds)} repeats are left out of the curve: "
                + ", ".join(str(n) for n in left) + " features")
    return curve, note


def choose_size(curve: pd.DataFrame, rule: str) -> int:
    """The number of features ``rule`` chooses on the outer curve (see the module's docstring)."""
    by_loss = curve.sort_values(["loss_mean", "n_features"], kind="mergesort")
    best = by_loss.iloc[0]
    if rule in ("best", "validation"):
        return int(best["n_features"])
    if rule == "one_se":
        within = curve[curve["loss_mean"] <= best["loss_mean"] + best["loss_se"]]
        return int(within["n_features"].min())
    raise ValueError(f"unknown selection rule {rule!r}")


def members_of(correlated: pd.DataFrame) -> dict[str, list[str]]:
    """Feature name -> its members, for the correlated groups a repeat eliminated as one feature
    (``data/correlated.parquet``: ``eliminated_as`` names the group's feature)."""
    if correlated.empty or "eliminated_as" not in correlated.columns:
        return {}
    grouped = correlated[correlated["eliminated_as"].notna() & (correlated["eliminated_as"] != correlated["feature"])]
    return {name: sorted(part["feature"]) for name, part in grouped.groupby("eliminated_as")}


def _expand(features, members: dict[str, list[str]]) -> list[str]:
    return [m for f in features for m in members.get(f, [f])]


def survival(round_features: dict[int, list[list[str]]], members: dict[int, dict[str, list[str]]],
             sizes) -> pd.DataFrame:
    """``feature``, ``n_features``, ``share``: for each size of ``sizes`` and each feature (groups as their
    members), the share of repeats whose round of that size holds it. ``round_features[i]``: the features of each
    round of repeat ``i``, in round order."""
    rows = []
    n_rep = len(round_features)
    everything = sorted({m for i, rs in round_features.items() for fs in rs for m in _expand(fs, members[i])})
    for n in sizes:
        held = {f: 0 for f in everything}
        for i, rs in round_features.items():
            at = next(fs for fs in rs if len(fs) == n)
            for m in set(_expand(at, members[i])):
                held[m] += 1
        rows += [{"feature": f, "n_features": int(n), "share": held[f] / n_rep} for f in everything]
    return pd.DataFrame(rows, columns=["feature", "n_features", "share"])


def mean_survival_round(round_features: dict[int, list[list[str]]],
                        members: dict[int, dict[str, list[str]]]) -> dict[str, float]:
    """Each feature's last round, averaged over the repeats (-1 where a repeat never had it)."""
    last: dict[int, dict[str, int]] = {}
    for i, rs in round_features.items():
        last[i] = {m: r for r, fs in enumerate(rs) for m in _expand(fs, members[i])}  # later rounds overwrite
    everything = sorted({f for seen in last.values() for f in seen})
    return {f: float(np.mean([seen.get(f, -1) for seen in last.values()])) for f in everything}


def consensus_size(round_features: dict[int, list[list[str]]], members: dict[int, dict[str, list[str]]],
                   size: int) -> int:
    """How many features (groups as their members) the consensus set has: the median over the repeats of their
    round of ``size``'s member count (``size`` itself when no feature is a group)."""
    counts = [len(_expand(next(fs for fs in rs if len(fs) == size), members[i])) for i, rs in round_features.items()]
    return int(math.floor(np.median(counts) + 0.5))


def stability_table(round_features: dict[int, list[list[str]]], members: dict[int, dict[str, list[str]]],
                    size: int) -> pd.DataFrame:
    """:data:`STABILITY_COLUMNS`, one row per feature, the consensus set first: the share of repeats in which the
    feature survives to ``size`` features, its mean survival round, whether it is in the consensus set, and its rank
    (share, then mean survival round, both descending, then name)."""
    shares = survival(round_features, members, [size]).set_index("feature")["share"]
    survived = mean_survival_round(round_features, members)
    table = pd.DataFrame({"feature": shares.index, "share": shares.to_numpy()})
    table["mean_survival_round"] = [survived[f] for f in table["feature"]]
    table = table.sort_values(["share", "mean_survival_round", "feature"], ascending=[False, False, True],
                              kind="mergesort").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    table["consensus"] = table["rank"] <= consensus_size(round_features, members, size)
    return table[STABILITY_COLUMNS]


def stability_warning(stability: pd.DataFrame) -> str | None:
    """A warning when the consensus set's median survival share is under :data:`STABLE_SHARE`, or None."""
    shares = stability.loc[stability["consensus"], "share"]
    median = float(shares.median()) if len(shares) else math.nan
    if not median < STABLE_SHARE:
        return None
    return (f"the selection is not stable: the consensus features survive to the chosen size in a median "
            f"{median:.0%} of the repeats (under {STABLE_SHARE:.0%}). Read the list as one of many near-equivalent "
            "lists, not as the features that matter.")


def curve_verdict(curve: pd.DataFrame, n_all: int) -> str | None:
    """Says plainly when no size beats all features by more than one standard error of the curve, or None."""
    if n_all not in set(curve["n_features"]):
        return None
    full = curve.set_index("n_features").loc[n_all]
    if (curve["loss_mean"] < full["loss_mean"] - full["loss_se"]).any():
        return None
    return (f"no size beats all {n_all} features by more than one standard error of the outer curve "
            f"({full['loss_mean']:.4g} ± {full['loss_se']:.4g}): the data give no evidence that fewer features "
            "predict better.")


# ------------------------------------------------------------------ the jobs' tables (read from the repeats' files)

def ungrouped(feature_map: pd.DataFrame, members: dict[str, list[str]]) -> pd.DataFrame:
    """A repeat's feature map with every correlated group split into its members (a member is a column of its
    own, so it names itself)."""
    fmap = feature_map.copy()
    grouped = fmap["feature"].isin(list(members))
    fmap.loc[grouped, "feature"] = fmap.loc[grouped, "column"]
    return fmap


def summarize_repeats(rounds: dict[int, pd.DataFrame], round_features: dict[int, list[list[str]]],
                      correlated: dict[int, pd.DataFrame], feature_maps: dict[int, pd.DataFrame],
                      rule: str) -> dict[str, pd.DataFrame]:
    """The tables of a repeated run's summary: ``curve``, ``survival``, ``stability``, ``selected`` (the consensus
    set, with the rule, the chosen size and any note or warning on every row), and the final model's ``features``
    and ``feature_map`` (the consensus set, groups split into their members)."""
    curve, note = outer_curve(rounds)
    if curve.empty:
        raise ValueError("no number of features was reached by every repeat")
    size = choose_size(curve, rule)
    members = {i: members_of(c) for i, c in correlated.items()}
    stability = stability_table(round_features, members, size)
    consensus = stability.loc[stability["consensus"], "feature"].tolist()
    selected = stability.loc[stability["consensus"], ["feature", "share", "mean_survival_round"]].reset_index(drop=True)
    selected.insert(0, "n_features", size)
    selected.insert(0, "rule", rule)
    selected["note"] = pd.array([note] * len(selected), dtype="string")
    selected["warning"] = pd.array([stability_warning(stability)] * len(selected), dtype="string")
    fmap = pd.concat([ungrouped(feature_maps[i], members[i]) for i in sorted(feature_maps)], ignore_index=True)
    fmap = fmap.drop_duplicates(["feature", "column"])
    fmap = fmap[fmap["feature"].isin(consensus)].reset_index(drop=True)
    return {"curve": curve, "survival": survival(round_features, members, curve["n_features"].tolist()),
            "stability": stability, "selected": selected, "features": pd.DataFrame({"feature": consensus}),
            "feature_map": fmap}


def final_summary(curve: pd.DataFrame, selected: pd.DataFrame, stability: pd.DataFrame, metrics: pd.DataFrame,
                  metric: str) -> pd.DataFrame:
    """One row: the rule and the chosen size, the curve's estimate there (mean and standard error), the final
    model's test loss, the honesty gap (test minus estimate, also in standard errors), the curve's loss with all
    features, the consensus set's median survival share, and the notes and warnings of the selection."""
    from .selection import validation_loss

    size = int(selected["n_features"].iloc[0])
    at = curve.set_index("n_features")
    estimate, se = float(at.loc[size, "loss_mean"]), float(at.loc[size, "loss_se"])
    test = validation_loss(metrics.set_index("set").loc["test"].to_dict(), metric)
    n_all = int(curve["n_features"].max())
    shares = stability.loc[stability["consensus"], "share"]
    row = {
        "rule": str(selected["rule"].iloc[0]), "n_features": size, "n_consensus": len(selected),
        "repeats": int(at.loc[size, "repeats"]), "metric": metric, "loss_estimate": estimate, "loss_se": se,
        "test_loss": test, "honesty_gap": test - estimate,
        "gap_in_se": (test - estimate) / se if se > 0 else math.nan,
        "all_features": n_all, "all_features_estimate": float(at.loc[n_all, "loss_mean"]),
        "median_share": float(shares.median()) if len(shares) else math.nan,
        "note": selected["note"].iloc[0], "warning": selected["warning"].iloc[0],
        "verdict": curve_verdict(curve, n_all),
    }
    table = pd.DataFrame([row])
    for k in ("note", "warning", "verdict"):
        table[k] = table[k].astype("string")
    return table
