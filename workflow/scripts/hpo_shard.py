"""Score one shard of the round's hyperparameter search with K-fold CV, streaming rows to Parquet."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.cv import load_training
    from rfe_lib.features import columns_of
    from rfe_lib.models import ModelSpec
    from rfe_lib.search import from_params
    from rfe_lib.search.base import run_shard

    search = from_params(smk.params.search)
    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    columns = columns_of(pd.read_parquet(smk.input.feature_map), features)
    data = load_training(smk.input.table, smk.input.split, columns, smk.params.folds)
    shard = int(smk.wildcards.s)
    run_shard(data, ModelSpec.from_params(smk.params.model), search.grid, search.candidates(0), search.metric, shard,
              smk.params.n_shards, smk.output[0], label=f"HPO round {smk.wildcards.r} shard {shard}", logger=log)


run(main, snakemake)  # noqa: F821
