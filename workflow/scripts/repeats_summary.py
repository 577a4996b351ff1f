"""Across the repeats of the elimination: the outer curve, the chosen size, stability, and the consensus set (with
the final model's features and feature map)."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.io import write_parquet
    from rfe_lib.repeats import summarize_repeats

    n = len(smk.input.rounds)
    features = {i: [pd.read_parquet(p)["feature"].tolist() for p in smk.input[f"features_{i}"]] for i in range(n)}
    tables = summarize_repeats({i: pd.read_parquet(p) for i, p in enumerate(smk.input.rounds)}, features,
                               {i: pd.read_parquet(p) for i, p in enumerate(smk.input.correlated)},
                               {i: pd.read_parquet(p) for i, p in enumerate(smk.input.feature_map)}, smk.params.select)
    log.info("outer curve:\n%s", tables["curve"].to_string(index=False))
    log.info("consensus (%s): %s", smk.params.select, ", ".join(tables["features"]["feature"]))
    for name, table in tables.items():
        write_parquet(table, smk.output[name])


run(main, snakemake)  # noqa: F821
