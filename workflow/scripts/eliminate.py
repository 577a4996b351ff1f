"""Eliminate the round's k least important features (ties broken by name)."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.io import write_parquet
    from rfe_lib.elimination import eliminate

    gone = eliminate(pd.read_parquet(smk.input[0]), smk.params.k)
    log.info("eliminated %d: %s", len(gone), ", ".join(gone["feature"]))
    write_parquet(gone, smk.output[0])


run(main, snakemake)  # noqa: F821
