"""Merge a round's HPO shards and pick the best configuration."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.io import write_parquet
    from rfe_lib.search import from_params
    from rfe_lib.search.base import best_config, check_complete, merge_shards

    results = merge_shards(smk.input)
    check_complete(results, from_params(smk.params.search).candidates(0))
    best = best_config(results)
    log.info("%d configurations, %d failed; best: id %d, mean %.6g, params %s", len(results),
             int(results["error"].notna().sum()), best.at[0, "config_id"], best.at[0, "mean"], best.at[0, "params"])
    write_parquet(results, smk.output.results)
    write_parquet(best, smk.output.best)


run(main, snakemake)  # noqa: F821
