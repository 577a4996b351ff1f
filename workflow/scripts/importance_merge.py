"""The round's importance table: its shards combined with the best HPO row (loss without minus loss with all)."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.importance import importance_table
    from rfe_lib.io import write_parquet

    shards = pd.concat([pd.read_parquet(p) for p in smk.input.shards], ignore_index=True)
    imp = importance_table(shards, pd.read_parquet(smk.input.best),
                           pd.read_parquet(smk.input.features)["feature"].tolist())
    log.info("\n%s", imp[["feature", "importance_mean", "importance_std"]].to_string(index=False))
    write_parquet(imp, smk.output[0])


run(main, snakemake)  # noqa: F821
