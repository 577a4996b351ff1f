"""The round's search results and best configuration (its shards merged), the best configuration fitted on all
training rows, its predictions for every row, and its metrics per set."""

from rfe_lib.job import run


def main(smk, log):
    import joblib
    import pandas as pd

    from rfe_lib.features import columns_of
    from rfe_lib.io import atomic_path, write_parquet
    from rfe_lib.models import ModelSpec
    from rfe_lib.search import from_params
    from rfe_lib.search.results import best_params, grid_edges, search_results
    from rfe_lib.early_stopping import trees_note
    from rfe_lib.training import fit_and_predict, load_columns, metrics_by_set

    search = from_params(smk.params.search)
    results, best = search_results(smk.input.hpo, search, int(smk.wildcards.r))
    log.info("%d configurations scored, %d failed; best: id %d, mean %.6g, params %s", len(results),
             int(results["error"].notna().sum()), best.at[0, "config_id"], best.at[0, "mean"], best.at[0, "params"])
    for edge in grid_edges(best, search.grid):
        log.warning("the best configuration is on the edge of the grid: %s; the optimum may lie outside it", edge)
    write_parquet(results, smk.output.results)
    write_parquet(best, smk.output.best)

    spec = ModelSpec.from_params(smk.params.model).with_threads(smk.threads)
    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    columns = columns_of(pd.read_parquet(smk.input.feature_map), features)
    params = best_params(best)
    model, predictions = fit_and_predict(load_columns(smk.input.table, columns), pd.read_parquet(smk.input.split),
                                         spec, params)
    log.info("fitted %s on %d columns%s", params, len(columns), trees_note(model))
    with atomic_path(smk.output.model) as tmp:
        joblib.dump({"model": model, "columns": columns, "features": features, "params": params}, tmp)
    write_parquet(predictions, smk.output.predictions)

    metrics = metrics_by_set(predictions, smk.params.tolerances, spec.angle_unit)
    log.info("\n%s", metrics.to_string(index=False))
    write_parquet(metrics, smk.output.metrics)


run(main, snakemake, cache="train_model")  # noqa: F821
