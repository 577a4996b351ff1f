"""The report's texts: its front page (the selected round, its features and metrics) and every figure's caption."""

from rfe_lib.job import run


def main(smk, log):
    from pathlib import Path

    from rfe_lib.report.texts import template_name, write_texts

    template = Path(smk.scriptdir).parent / "report" / template_name(smk.params.facts["repeats"])
    captions = dict(zip(smk.params.names, smk.output.captions))
    write_texts(template, smk.output.description, captions, smk.params.run_dir, smk.params.facts)
    log.info("wrote %s and %d captions", smk.output.description, len(captions))


run(main, snakemake, cache="report_texts")  # noqa: F821
