"""Score one shard of the hyperparameter grid with K-fold CV, streaming rows to Parquet."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.cv import load_training
    from rfe_lib.features import columns_of
    from rfe_lib.hpo import run_shard
    from rfe_lib.models import ModelSpec

    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    columns = columns_of(pd.read_parquet(smk.input.feature_map), features)
    data = load_training(smk.input.table, smk.input.split, columns, smk.params.folds)
    shard = int(smk.wildcards.s)
    run_shard(data, ModelSpec.from_params(smk.params.model), smk.params.grid, smk.params.metric, shard,
              smk.params.n_shards, smk.output[0], label=f"HPO round {smk.wildcards.r} shard {shard}", logger=log)


run(main, snakemake)  # noqa: F821
