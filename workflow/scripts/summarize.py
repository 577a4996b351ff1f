"""One row per round that ran, and the selected round's features."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.io import write_parquet
    from rfe_lib.search import from_params
    from rfe_lib.summary import summarize

    rounds, selected = summarize(dict(smk.input.items()), select=smk.params.select, metric=smk.params.metric,
                                 search=from_params(smk.params.search), planned_rounds=smk.params.planned_rounds)
    log.info("\n%s", rounds[["round", "n_features", "cv_mean", "cv_std", "val_loss", "optimism"]].to_string(index=False))
    log.info("selected round %d (%s): %s", selected.at[0, "round"], smk.params.select, ", ".join(selected["feature"]))
    if not pd.isna(selected.at[0, "warning"]):
        log.warning("%s", selected.at[0, "warning"])
    if "budget" in smk.params.keys():  # a time box chose the search (budget.hours)
        selected["budget"] = smk.params.budget
        log.info("%s", smk.params.budget)
    write_parquet(rounds, smk.output.rounds)
    write_parquet(selected, smk.output.selected)


run(main, snakemake)  # noqa: F821
