"""One figure across rounds: loss against the number of features, or the elimination order."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.plots import summary_figure
    from rfe_lib.style import save

    figure = summary_figure(smk.wildcards.plot, dict(smk.input.items()), smk.params.options)
    save(figure, smk.output[0], dpi=smk.params.dpi)
    log.info("wrote %s", smk.output[0])


run(main, snakemake)  # noqa: F821
