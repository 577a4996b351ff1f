"""One row per round, and the selected round's features."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.io import write_parquet
    from rfe_lib.selection import round_row, selected_table

    metric = smk.params.metric
    rows, importance = [], {}
    for r, paths in enumerate(zip(smk.input.features, smk.input.best, smk.input.metrics, smk.input.importance,
                                  smk.input.eliminated)):
        features, best, metrics, imp, gone = (pd.read_parquet(p) for p in paths)
        metric_names = [c for c in metrics.columns if c not in ("set", "n")]
        rows.append(round_row(r, features["feature"].tolist(), best, metrics, gone["feature"].tolist(), metric_names,
                              metric))
        importance[r] = imp
    rounds = pd.DataFrame(rows)
    selected = selected_table(rounds, importance, smk.params.select, metric)
    log.info("\n%s", rounds[["round", "n_features", "cv_mean", "cv_std", "val_loss", "optimism"]].to_string(index=False))
    log.info("selected round %d (%s): %s", selected.at[0, "round"], smk.params.select, ", ".join(selected["feature"]))
    warning = selected.at[0, "warning"]
    if not pd.isna(warning):
        log.warning("%s", warning)
    write_parquet(rounds, smk.output.rounds)
    write_parquet(selected, smk.output.selected)


run(main, snakemake)  # noqa: F821
