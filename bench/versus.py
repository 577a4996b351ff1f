"""The pipeline against mlxtend's backward ``SequentialFeatureSelector``: the same elimination on the same folds.

The bundled Bikeshare data, HistGradientBoosting (``max_iter=100``, ``learning_rate=0.1``, ``random_state=0``), a
grid of one configuration, 5 folds, ``rfe.step: 1`` down to 3 features, ``-j 2`` and every artifact (figures,
workbook, report texts). mlxtend gets the pipeline's own engineered table, training rows and folds
(``PredefinedSplit`` from ``split/indices.parquet``), a sin/cos pair as one feature group, ``n_jobs=2``: backward
selection drops, at each step, the feature whose removal leaves the lowest mean CV RMSE, which is the feature with
the lowest LOFO importance, so both must select the same features in every round (checked). mlxtend's time is the
wall time of its ``fit`` alone (its imports and the data loading are not counted); the pipeline's is the whole
``snakemake -j 2`` run from an empty folder.

    python -m bench mlxtend            # through the suite (writes bench/out/<mode>/mlxtend.json)
    python -m bench.versus mlxtend DIR # mlxtend alone on a finished run in DIR (prints JSON)

mlxtend is a benchmark-only dependency: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import OUT, REPO, bench_env, layout, matching, snakemake, write_config

RUN = "versus"


def config() -> dict:
    import yaml

    # the heavier example (the bundled config/round.yaml became the quick first run in issue 22)
    cfg = yaml.safe_load((REPO / "config" / "example_full.yaml").read_text())
    cfg["run_name"] = RUN
    cfg["data"]["path"] = str(REPO / "data" / "example" / "bikeshare.parquet")
    cfg["model"]["params"] = {"random_state": 0, "max_iter": 100}
    cfg["hpo"]["grid"] = {"learning_rate": [0.1]}
    cfg["rfe"].update(step=1, min_features=3, select="best")
    return cfg


def run_mlxtend(workdir: Path) -> dict:
    """Backward selection with mlxtend on the finished run's table, training rows and folds."""
    import pandas as pd
    from mlxtend.feature_selection import SequentialFeatureSelector
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import PredefinedSplit

    run = layout(workdir, RUN)
    split = pd.read_parquet(run.file("split"))
    train = split[split["set"] == "train"]
    fmap = pd.read_parquet(run.file("feature_map"))
    table = pd.read_parquet(run.file("table"), columns=fmap["column"].tolist())
    X = table.to_numpy(dtype=float)[train["row"].to_numpy()]
    y = train["y"].to_numpy(dtype=float)
    features = list(dict.fromkeys(fmap["feature"]))
    groups = [[j for j, f in enumerate(fmap["feature"]) if f == feat] for feat in features]
    cfg = config()
    estimator = HistGradientBoostingRegressor(**cfg["model"]["params"], learning_rate=0.1)
    sfs = SequentialFeatureSelector(estimator, k_features=cfg["rfe"]["min_features"], forward=False, floating=False,
                                    scoring="neg_root_mean_squared_error", cv=PredefinedSplit(train["fold"].to_numpy()),
                                    n_jobs=2, feature_groups=groups, verbose=0)
    t0 = time.perf_counter()
    sfs.fit(X, y)
    wall = time.perf_counter() - t0
    column_feature = dict(enumerate(fmap["feature"]))
    subsets = {int(k): sorted({column_feature[j] for j in v["feature_idx"]}) for k, v in sfs.subsets_.items()}
    scores = {int(k): -float(v["avg_score"]) for k, v in sfs.subsets_.items()}
    n_fits = sum(k * len(train["fold"].unique()) for k in range(cfg["rfe"]["min_features"] + 1, len(features) + 1))
    return {"wall": wall, "subsets": subsets, "cv_rmse": scores, "n_fits": n_fits + len(train["fold"].unique())}


def per_fit(workdir: Path) -> dict:
    """Seconds per LOFO fit of round 0 on one core, alone: through the pipeline's own shard code (its column-major
    matrix and in-place fold views) and as plain scikit-learn on copied arrays, as mlxtend fits. Same fits, same
    order, one process, nothing else running (run it under the suite's lock)."""
    import tempfile

    import numpy as np
    import pandas as pd
    import yaml
    from sklearn.ensemble import HistGradientBoostingRegressor

    from rfe_lib.cv import load_training
    from rfe_lib.features import columns_of
    from rfe_lib.importance import ShardTask
    from rfe_lib.importance.lofo import LOFO
    from rfe_lib.settings import Settings

    run = layout(workdir, RUN)
    cfg = yaml.safe_load((Path(workdir) / "config.yaml").read_text())
    from snakemake.utils import validate

    validate(cfg, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    settings = Settings.from_config(cfg)
    features = pd.read_parquet(run.round_file(0, "features"))["feature"].tolist()
    fmap = pd.read_parquet(run.file("feature_map"))
    per_feature = {f: columns_of(fmap, [f]) for f in features}
    data = load_training(run.file("table"), run.file("split"),
                         columns_of(fmap, features), settings.split.folds, seed=settings.split.seed)
    params = {"learning_rate": 0.1}
    n_fits = len(features) * len(data.folds)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        LOFO().run_shard(ShardTask(data, settings.model_spec(), params, features, per_feature, "rmse"),
                         Path(tmp) / "shard.parquet")
        ours = time.perf_counter() - t0
        inside = float(pd.read_parquet(Path(tmp) / "shard.parquet")["fit_seconds"].sum())
    X = np.ascontiguousarray(data.X)  # a plain row-major copy, as a user's array would be
    y = np.asarray(data.y)
    cols = list(data.columns)
    t0 = time.perf_counter()
    for f in features:
        keep = [j for j, c in enumerate(cols) if c not in set(per_feature[f])]
        for fit, held in data.folds:
            model = HistGradientBoostingRegressor(**cfg["model"]["params"], **params)
            model.fit(X[np.ix_(fit, keep)], y[fit])
            np.sqrt(np.mean((model.predict(X[np.ix_(held, keep)]) - y[held]) ** 2))
    plain = time.perf_counter() - t0
    return {"fits": n_fits, "pipeline_shard_s_per_fit": round(ours / n_fits, 4),
            "pipeline_fit_seconds_per_fit": round(inside / n_fits, 4), "plain_sklearn_s_per_fit": round(plain / n_fits, 4)}


def measure(log=print) -> dict:
    import shutil

    import pandas as pd

    from .imports import script_name

    workdir = OUT / "work" / "versus"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    write_config(workdir, config())
    _, pipe_wall = snakemake(workdir, "-j", "2", rss=True)

    proc = subprocess.run([sys.executable, "-m", "bench.versus", "mlxtend", str(workdir)], capture_output=True,
                          text=True, cwd=REPO, env=bench_env())
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    mlx = json.loads(proc.stdout.strip().splitlines()[-1])

    run = layout(workdir, RUN)
    rounds = pd.read_parquet(run.file("rounds"))
    same = all(sorted(f) == mlx["subsets"][str(len(f))] for f in rounds["features"])
    jobs = [json.loads(f.read_text()) for f in sorted((workdir / "rss").glob("*.json"))]
    jobs = [j for j in jobs if ".snakemake/scripts/" in j["argv0"]]
    by_script: dict = {}
    for j in jobs:
        by_script.setdefault(script_name(j["argv0"]).removesuffix(".py"), []).append(j["seconds"])
    fit_seconds = sum(float(pd.read_parquet(f, columns=["fit_seconds"])["fit_seconds"].sum())
                      for pattern in (run.hpo_shard("*", 0, "*"), run.importance_shard("*", "*"))
                      for f in matching(pattern))
    n = len(rounds)
    rec = {
        "case": f"Bikeshare, HistGradientBoosting max_iter=100, a grid of one, 5 folds, step 1: {n} rounds "
                f"({rounds['n_features'].iloc[0]} -> {rounds['n_features'].iloc[-1]} features), -j 2",
        "rounds": n, "pipeline_wall": round(pipe_wall, 1), "mlxtend_wall": round(mlx["wall"], 1),
        "ratio": round(pipe_wall / mlx["wall"], 3),
        "added_per_round": round((pipe_wall - mlx["wall"]) / n, 2),
        "fit_seconds_in_cv": round(fit_seconds, 1), "mlxtend_fits": mlx["n_fits"],
        "same_selection": same, "n_jobs": len(jobs),
        "job_seconds_total": round(sum(j["seconds"] for j in jobs), 1),
        "by_script": {s: {"jobs": len(v), "total_s": round(sum(v), 1), "median_s": round(statistics.median(v), 2)}
                      for s, v in sorted(by_script.items(), key=lambda kv: -sum(kv[1]))},
    }
    log(f"  pipeline {rec['pipeline_wall']} s, mlxtend {rec['mlxtend_wall']} s, ratio {rec['ratio']}, "
        f"{rec['added_per_round']} s added per round, same selection: {same}")
    for s, v in rec["by_script"].items():
        log(f"    {s:20s} {v}")
    return rec


def example_end_to_end(log=print) -> dict:
    """The bundled example as a new user runs it: ``snakemake -j 2`` from an empty folder, every artifact."""
    import shutil

    import yaml

    workdir = OUT / "work" / "example"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    cfg = yaml.safe_load((REPO / "config" / "round.yaml").read_text())
    cfg["data"]["path"] = str(REPO / "data" / "example" / "bikeshare.parquet")
    write_config(workdir, cfg)
    _, wall = snakemake(workdir, "-j", "2")
    rounds = len(matching(layout(workdir, cfg["run_name"]).round_dir("*")))
    log(f"  the bundled example: {wall:.1f} s, {rounds} rounds")
    return {"example_wall": round(wall, 1), "example_rounds": rounds}


def table(rec) -> list[str]:
    """The side-by-side table and where the pipeline's job time goes (``docs/benchmarks.md``)."""
    m = rec["machine"]
    out = ["| case | rounds | pipeline, every artifact (s) | mlxtend (s) | ratio | added per round (s) | same features in every round |",
           "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
           f"| {rec['case']} | {rec['rounds']} | {rec['pipeline_wall']} | {rec['mlxtend_wall']} | **{rec['ratio']:.2f}** | "
           f"**{rec['added_per_round']}** | {rec['same_selection']} |", "",
           f"The bundled example end to end (`snakemake -j 2` from an empty folder, {rec['example_rounds']} rounds, "
           f"every artifact): **{rec['example_wall']} s**.", "",
           f"Where the side-by-side run's job time goes ({rec['n_jobs']} jobs, {rec['job_seconds_total']} s of job "
           f"lifetime, of which {rec['fit_seconds_in_cv']} s inside the CV fits of the shards):", "",
           "| script | jobs | total (s) | median per job (s) |", "| --- | ---: | ---: | ---: |"]
    out += [f"| {s} | {v['jobs']} | {v['total_s']} | {v['median_s']} |" for s, v in rec["by_script"].items()]
    out += ["", f"*Section finished {m['date']}; load then: {m['uptime']}.*"]
    return out


def main(argv=None) -> int:
    """``mlxtend DIR`` (mlxtend's side of the comparison on a finished run) or ``perfit DIR`` (one fit's cost)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mlxtend"] and len(argv) == 2:
        print(json.dumps(run_mlxtend(Path(argv[1]))))
    elif argv[:1] == ["perfit"] and len(argv) == 2:
        print(json.dumps(per_fit(Path(argv[1]))))
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    main()
