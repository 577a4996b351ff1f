"""CSV copies of the key tables for `snakemake --report` (which cannot show Parquet)."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.report.tables import report_tables, write_csv

    tables = report_tables(dict(smk.input.items()))
    for name, path in smk.output.items():
        write_csv(tables[name], path)
        log.info("wrote %s (%d rows)", path, len(tables[name]))


run(main, snakemake, cache="report_tables")  # noqa: F821
