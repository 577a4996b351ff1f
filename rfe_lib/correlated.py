"""Groups of strongly correlated features (``features.correlated``), found on the training rows only.

Two features are linked when the absolute Spearman correlation of their values on the training rows (pairwise
complete rows, so missing values are allowed) is at least ``threshold``; a group is a connected component of two or
more linked features, its members ordered by name and the groups by their first member. Features encoded as a
sin/cos pair (cyclic, angle) are a pair already and take no part. Then, by ``action``:

- ``report`` (the default) changes nothing: ``data/correlated.parquet`` and a figure show the groups;
- ``group`` makes each group ONE feature for elimination (the way a sin/cos pair is one feature), named after its
  first member (``x_010 (+12)``), its columns all of its members';
- ``prune`` keeps, before round 0, each group's member most correlated with the target (ties by name) and drops the
  others.
"""

from __future__ import annotations

import numpy as np

ACTIONS = ("report", "group", "prune")
COLUMNS = ["group", "feature", "max_correlation", "target_correlation", "kept", "eliminated_as"]


def spearman(table, train_rows, columns, target):
    """|Spearman| correlations among ``columns`` and with ``target`` on ``train_rows``: (matrix, with the target)."""
    import pandas as pd

    frame = pd.DataFrame({c: np.asarray(table[c], dtype=float)[train_rows] for c in columns})
    frame["__target__"] = np.asarray(target, dtype=float)[train_rows]
    corr = frame.corr(method="spearman").abs()
    return corr.loc[columns, columns], corr.loc[columns, "__target__"]


def correlated_groups(table, train_rows, target, fmap: list[dict], threshold: float):
    """The groups as a table (see :data:`COLUMNS`; ``kept`` and ``eliminated_as`` are filled by :func:`apply`)."""
    import pandas as pd

    single = [r["column"] for r in fmap if r["kind"] in ("numeric", "derived")]
    if len(single) < 2:
        return pd.DataFrame(columns=COLUMNS)
    corr, with_target = spearman(table, train_rows, single, target)
    linked = (corr.to_numpy() >= threshold) & ~np.eye(len(single), dtype=bool)
    parent = list(range(len(single)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(linked))):
        parent[root(i)] = root(j)
    components: dict[int, list[int]] = {}
    for i in range(len(single)):
        components.setdefault(root(i), []).append(i)
    groups = sorted((sorted(single[i] for i in members) for members in components.values() if len(members) > 1))
    rows = []
    for g, members in enumerate(groups, start=1):
        sub = corr.loc[members, members].to_numpy().copy()
        np.fill_diagonal(sub, np.nan)
        for name, best in zip(members, np.nanmax(sub, axis=1)):
            rows.append({"group": g, "feature": name, "max_correlation": float(best),
                         "target_correlation": float(with_target[name])})
    return pd.DataFrame(rows, columns=COLUMNS[:4])


def group_name(members: list[str]) -> str:
    return f"{members[0]} (+{len(members) - 1})"


def apply(fmap: list[dict], groups, action: str) -> tuple[list[dict], object]:
    """The feature map after ``action``, and the groups table with ``kept`` (the member kept by prune, or True for
    every member otherwise) and ``eliminated_as`` (the feature the member is eliminated as)."""
    import pandas as pd

    groups = groups.copy()
    if groups.empty:
        return list(fmap), groups.assign(kept=pd.Series(dtype=bool), eliminated_as=pd.Series(dtype=object))
    members = groups.groupby("group")["feature"].apply(list).to_dict()
    with_target = dict(zip(groups["feature"], groups["target_correlation"]))
    keep = {g: min(ms, key=lambda f: (-with_target[f], f)) for g, ms in members.items()}
    of_feature = dict(zip(groups["feature"], groups["group"]))
    if action == "prune":
        groups["kept"] = [keep[g] == f for g, f in zip(groups["group"], groups["feature"])]
        groups["eliminated_as"] = [f if k else "" for f, k in zip(groups["feature"], groups["kept"])]
        dropped = set(groups.loc[~groups["kept"], "feature"])
        return [r for r in fmap if r["feature"] not in dropped], groups
    groups["kept"] = True
    if action == "group":
        names = {g: group_name(ms) for g, ms in members.items()}
        groups["eliminated_as"] = [names[g] for g in groups["group"]]
        out = [{**r, "feature": names[of_feature[r["feature"]]], "kind": "group"} if r["feature"] in of_feature else r
               for r in fmap]
        return out, groups
    groups["eliminated_as"] = groups["feature"]
    return list(fmap), groups


def correlated_feature_map(table, split, fmap: list[dict], settings: dict):
    """The feature map after ``features.correlated`` (``settings``: threshold, action) and the groups table; the
    correlations on the training rows of ``split`` (``split/indices.parquet``)."""
    train = split.loc[split["set"] == "train", "row"].to_numpy()
    groups = correlated_groups(table, train, split["y"].to_numpy(dtype=float), fmap, settings["threshold"])
    return apply(fmap, groups, settings["action"])
