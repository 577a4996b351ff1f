"""The same RFE as the pipeline, as a plain loop in one Python process (joblib over configurations and features).

This is the yardstick of the pipeline's overhead: identical data preparation (rfe_lib's validation,
split and feature engineering), identical fits (every configuration x fold of every round's grid
search, the final fit of each round, every feature x fold of LOFO) and identical elimination, with
``joblib.Parallel(n_jobs)`` over configurations and over features, and nothing written but the
summary. It writes no artifact, no plot and no log, so the pipeline's extra time is everything the
pipeline adds: job start-up, Snakemake's scheduling, and its artifacts.

    python -m bench.inprocess config.yaml [n_jobs]
"""

from __future__ import annotations

import json
import sys
import time


def _cv(X, y, folds, spec, params, keep, metric):
    import numpy as np

    from rfe_lib.cv import constant_prediction
    from rfe_lib.metrics import loss
    from rfe_lib.models import build_model

    losses = []
    for fit, held in folds:
        if keep is not None and len(keep) == 0:
            pred = constant_prediction(y[fit], len(held), spec.angle_unit)
        else:
            X_fit = X[fit] if keep is None else X[np.ix_(fit, keep)]
            X_held = X[held] if keep is None else X[np.ix_(held, keep)]
            pred = build_model(spec, params).fit(X_fit, y[fit]).predict(X_held)
        losses.append(loss(y[held], pred, metric, spec.angle_unit))
    return losses


def run(config: dict, n_jobs: int = 2) -> list[dict]:
    import numpy as np
    from joblib import Parallel, delayed

    from rfe_lib.data import read_table, validate_table
    from rfe_lib.features import engineer, feature_map
    from rfe_lib.grid import Grid, params_json
    from rfe_lib.metrics import metric_row
    from rfe_lib.models import build_model
    from rfe_lib.schedule import n_eliminated, round_schedule
    from rfe_lib.settings import Settings
    from rfe_lib.split import fold_indices, split_rows

    settings = Settings.from_config(config)
    spec, mspec = settings.data_spec(), settings.model_spec()
    s, r, metric = settings.split, settings.rfe, settings.hpo.metric
    df = read_table(spec.path)
    _, kept = validate_table(df, spec)
    fmap = feature_map(kept, spec)
    table = engineer(df, fmap, spec)
    split = split_rows(df[spec.target].to_numpy(dtype=float), s.to_dict())
    folds = fold_indices(split, s.folds)
    train = (split["set"] == "train").to_numpy()
    y_all = split["y"].to_numpy(dtype=float)
    grid = Grid(settings.hpo.grid)
    features = list(dict.fromkeys(row["feature"] for row in fmap))
    schedule = round_schedule(len(features), r.step, r.min_features)
    rounds = []
    with Parallel(n_jobs=n_jobs) as parallel:
        for rnd in range(len(schedule)):
            columns = [row["column"] for row in fmap if row["feature"] in set(features)]
            X_all = table[columns].to_numpy(dtype=float)
            X, y = X_all[train], y_all[train]
            scores = parallel(delayed(_cv)(X, y, folds, mspec, grid[i], None, metric) for i in range(len(grid)))
            means = [float(np.mean(v)) for v in scores]
            best = int(np.argmin(means))  # first lowest: ties go to the lowest id
            params = grid[best]
            model = build_model(mspec, params).fit(X, y)
            pred = model.predict(X_all)
            metrics = {name: metric_row(y_all[m], pred[m], settings.evaluation.tolerances, mspec.angle_unit)
                       for name in ("train", "val", "test") for m in [(split["set"] == name).to_numpy()]}
            position = {c: j for j, c in enumerate(columns)}
            keeps = []
            for f in features:
                drop = {position[row["column"]] for row in fmap if row["feature"] == f}
                keeps.append(np.array([j for j in range(len(columns)) if j not in drop], dtype=np.intp))
            without = parallel(delayed(_cv)(X, y, folds, mspec, params, keep, metric) for keep in keeps)
            imp = {f: float(np.mean(np.subtract(w, scores[best]))) for f, w in zip(features, without)}
            k = n_eliminated(len(features), r.step, r.min_features)
            gone = sorted(features, key=lambda f: (imp[f], f))[:k]
            rounds.append({"round": rnd, "features": list(features), "params": params_json(params),
                           "cv_mean": means[best], "val_rmse": metrics["val"]["rmse"], "eliminated": gone})
            features = [f for f in features if f not in set(gone)]
    return rounds


def main(argv=None) -> None:
    import yaml

    argv = sys.argv[1:] if argv is None else argv
    config = yaml.safe_load(open(argv[0]))
    n_jobs = int(argv[1]) if len(argv) > 1 else 2
    t0 = time.perf_counter()
    rounds = run(config, n_jobs)
    print(json.dumps({"seconds": time.perf_counter() - t0, "rounds": rounds}))


if __name__ == "__main__":
    main()
