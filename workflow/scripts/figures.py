"""The figures of one job: a round's figures of one family, or the figures across rounds (see
rfe_lib/figures/registry.py). Each named output is a PNG, drawn by the registry's draw function."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.figures.draw import draw_figures

    draw_figures(dict(smk.output.items()), dict(smk.input.items()), smk.params.options, smk.params.dpi, log)


run(main, snakemake, cache="figures")  # noqa: F821
