"""Score one shard of one rung of the round's hyperparameter search with K-fold CV, streaming rows to Parquet."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.cv import load_training
    from rfe_lib.features import columns_of
    from rfe_lib.models import ModelSpec
    from rfe_lib.search import from_params
    from rfe_lib.search.results import rung_candidates
    from rfe_lib.search.shards import run_shard

    search = from_params(smk.params.search)
    r, g, shard = int(smk.wildcards.r), smk.params.rung, int(smk.wildcards.s)
    candidates = rung_candidates(search, r, g, smk.input.get("previous_round"), smk.input.get("rung_before"))
    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    columns = columns_of(pd.read_parquet(smk.input.feature_map), features)
    data = load_training(smk.input.table, smk.input.split, columns, smk.params.folds, seed=search.seed)
    run_shard(data, ModelSpec.from_params(smk.params.model).with_threads(smk.threads), search.grid, candidates, search.metric, shard,
              smk.params.n_shards, smk.output[0], label=f"HPO round {smk.wildcards.r}{f' rung {g}' if g else ''} shard {shard}",
              logger=log, rung=search.rungs(r)[g], rung_index=g)


run(main, snakemake, cache="hpo_shard")  # noqa: F821
