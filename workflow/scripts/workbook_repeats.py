"""The Excel workbook of a repeated run (results/<run>/report.xlsx): the answer, the consensus set, the outer curve,
stability and every repeat's rounds."""

from rfe_lib.job import run


def main(smk, log):
    from pathlib import Path

    import rfe_lib
    from rfe_lib.report.excel import write_workbook
    from rfe_lib.report.workbook import repeats_sheets

    sheets = repeats_sheets(dict(smk.input.items()), config=smk.params.config, run_dir=smk.params.run_dir,
                            workflow_dir=Path(rfe_lib.__file__).resolve().parents[1], weights=smk.params.weights)
    write_workbook(sheets, smk.output[0])
    log.info("wrote %s: %s", smk.output[0], ", ".join(f"{name} ({len(t)} rows)" for name, t in sheets.items()))


run(main, snakemake)  # noqa: F821
