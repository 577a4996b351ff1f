"""One figure of one round (the figure's name is the `plot` wildcard; see rfe_lib/plots_catalog.py)."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.plots import round_figure
    from rfe_lib.style import save

    figure = round_figure(smk.wildcards.plot, dict(smk.input.items()), smk.params.options)
    save(figure, smk.output[0], dpi=smk.params.dpi)
    log.info("wrote %s", smk.output[0])


run(main, snakemake)  # noqa: F821
