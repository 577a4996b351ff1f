"""Leave-one-feature-out CV losses for one shard of the round's features."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.cv import load_training
    from rfe_lib.features import columns_of
    from rfe_lib.lofo import best_params, run_shard
    from rfe_lib.models import ModelSpec

    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    fmap = pd.read_parquet(smk.input.feature_map)
    columns = columns_of(fmap, features)
    per_feature = {f: columns_of(fmap, [f]) for f in features}
    data = load_training(smk.input.table, smk.input.split, columns, smk.params.folds)
    shard = int(smk.wildcards.s)
    run_shard(data, ModelSpec.from_params(smk.params.model), best_params(pd.read_parquet(smk.input.best)), features,
              per_feature, smk.params.metric, shard, smk.params.n_shards, smk.output[0],
              label=f"LOFO round {smk.wildcards.r} shard {shard}", logger=log)


run(main, snakemake)  # noqa: F821
