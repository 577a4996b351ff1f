"""The Excel workbook for people (results/<run>/report.xlsx), made once from the Parquet artifacts."""

from rfe_lib.job import run


def main(smk, log):
    from pathlib import Path

    import rfe_lib
    from rfe_lib.report.excel import write_workbook
    from rfe_lib.report.workbook import workbook_sheets

    sheets = workbook_sheets(
        dict(smk.input.items()),
        config=smk.params.config,
        top_configs=smk.params.top_configs,
        with_predictions=smk.params.predictions,
        run_dir=smk.params.run_dir,
        workflow_dir=Path(rfe_lib.__file__).resolve().parents[1],
        methods=smk.params.methods,
        weights=smk.params.weights,
    )
    write_workbook(sheets, smk.output[0])
    log.info("wrote %s: %s", smk.output[0], ", ".join(f"{name} ({len(t)} rows)" for name, t in sheets.items()))


run(main, snakemake)  # noqa: F821
