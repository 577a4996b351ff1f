"""Merge a round's HPO shards and pick the best configuration."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.hpo import best_config, check_complete, merge_shards
    from rfe_lib.io import write_parquet

    results = merge_shards(smk.input)
    check_complete(results, smk.params.n_configs)
    best = best_config(results)
    log.info("%d configurations, %d failed; best: id %d, mean %.6g, params %s", len(results),
             int(results["error"].notna().sum()), best.at[0, "config_id"], best.at[0, "mean"], best.at[0, "params"])
    write_parquet(results, smk.output.results)
    write_parquet(best, smk.output.best)


run(main, snakemake)  # noqa: F821
