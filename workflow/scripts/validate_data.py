"""Validate the input table and write one row per check."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.data import DataSpec, raise_for_errors, read_table, validate_table
    from rfe_lib.io import write_parquet

    spec = DataSpec.from_dict(smk.params.spec)
    rows, kept = validate_table(read_table(smk.input.data), spec)
    for r in rows:
        log.info("%-8s %-14s %-16s %s", r["status"], r["check"], r["column"], r["detail"])
    raise_for_errors(rows, smk.input.data)
    write_parquet(pd.DataFrame(rows, columns=["column", "check", "status", "detail"]), smk.output[0])


run(main, snakemake, cache="validate_data")  # noqa: F821
