"""The round's importance method (LOFO, ...) on one shard of the round's features."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.cv import load_training
    from rfe_lib.features import columns_of
    from rfe_lib.importance import ShardTask, from_params
    from rfe_lib.models import ModelSpec
    from rfe_lib.search import from_params as search_from_params
    from rfe_lib.search.results import round_best_params

    method = from_params(smk.params.method)
    search = search_from_params(smk.params.search)
    params = round_best_params(search, smk.input.hpo, int(smk.wildcards.r))
    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    fmap = pd.read_parquet(smk.input.feature_map)
    per_feature = {f: columns_of(fmap, [f]) for f in features}
    data = load_training(smk.input.table, smk.input.split, columns_of(fmap, features), smk.params.folds,
                         seed=search.seed)
    shard = int(smk.wildcards.s)
    spec = ModelSpec.from_params(smk.params.model).with_threads(smk.threads)
    task = ShardTask(data, spec, params, features, per_feature, search.metric, shard, smk.params.n_shards)
    method.run_shard(task, smk.output[0], label=f"{method.title} round {smk.wildcards.r} shard {shard}", logger=log)


run(main, snakemake, cache="importance_shard")  # noqa: F821
