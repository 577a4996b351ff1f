"""The round's search results and best configuration (its shards merged), the best configuration fitted on all
training rows, its predictions for every row, and its metrics per set (``rfe_lib.training.train_round``)."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.models import ModelSpec
    from rfe_lib.search import from_params
    from rfe_lib.training import train_round

    spec = ModelSpec.from_params(smk.params.model).with_threads(smk.threads)
    train_round(smk.input.hpo, from_params(smk.params.search), int(smk.wildcards.r), smk.input.features,
                smk.input.feature_map, smk.input.table, smk.input.split, spec, smk.params.tolerances,
                {name: getattr(smk.output, name) for name in ("results", "best", "model", "predictions", "metrics")},
                log)


run(main, snakemake, cache="train_model")  # noqa: F821
