"""One row per round, and the selected round's features."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.io import write_parquet
    from rfe_lib.search import from_params
    from rfe_lib.search.results import search_summary
    from rfe_lib.selection import round_row, selected_table

    search = from_params(smk.params.search)
    rows, importance = [], {}
    for r, paths in enumerate(zip(smk.input.features, smk.input.best, smk.input.metrics, smk.input.importance,
                                  smk.input.eliminated, smk.input.results)):
        features, best, metrics, imp, gone, results = (pd.read_parquet(p) for p in paths)
        metric_names = [c for c in metrics.columns if c not in ("set", "n")]
        rows.append({**round_row(r, features["feature"].tolist(), best, metrics, gone["feature"].tolist(), metric_names),
                     **search_summary(results, best, search, r)})
        importance[r] = imp
    rounds = pd.DataFrame(rows)
    if smk.input.decisions:  # early stopping: each round's decision; the rounds after a stop did not run
        from rfe_lib.stopping import summary_columns

        rounds = summary_columns(rounds, [pd.read_parquet(p) for p in smk.input.decisions], smk.params.planned_rounds)
    selected = selected_table(rounds, importance, smk.params.select)
    log.info("\n%s", rounds[["round", "n_features", "cv_mean", "cv_std"]].to_string(index=False))
    log.info("selected round %d (%s): %s", selected.at[0, "round"], smk.params.select, ", ".join(selected["feature"]))
    write_parquet(rounds, smk.output.rounds)
    write_parquet(selected, smk.output.selected)


run(main, snakemake)  # noqa: F821
