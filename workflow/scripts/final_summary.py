"""The repeated run's answer in one row: the chosen size, the outer curve's estimate there, the final model's test
loss and the honesty gap between them, with the selection's notes and warnings."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.io import write_parquet
    from rfe_lib.repeats import final_summary

    table = final_summary(*(pd.read_parquet(smk.input[k]) for k in ("curve", "selected", "stability", "metrics")),
                          smk.params.metric)
    log.info("\n%s", table.T.to_string())
    for key in ("note", "warning", "verdict"):
        if not pd.isna(table.at[0, key]):
            log.warning("%s", table.at[0, key])
    write_parquet(table, smk.output[0])


run(main, snakemake)  # noqa: F821
