"""The round's importance table (its shards with the search's best per-fold losses), the k least important features
(ties broken by name), and the next round's features."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.elimination import eliminate, next_features
    from rfe_lib.importance import importance_table
    from rfe_lib.io import write_parquet
    from rfe_lib.search import from_params
    from rfe_lib.search.results import search_results

    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    _, best = search_results(smk.input.hpo, from_params(smk.params.search), smk.params.round)
    shards = pd.concat([pd.read_parquet(p) for p in smk.input.importance], ignore_index=True)
    imp = importance_table(shards, best, features)
    log.info("\n%s", imp[["feature", "importance_mean", "importance_std"]].to_string(index=False))
    write_parquet(imp, smk.output.importance)
    gone = eliminate(imp, smk.params.k)
    log.info("eliminated %d: %s", len(gone), ", ".join(gone["feature"]))
    write_parquet(gone, smk.output.eliminated)
    if "next_features" in smk.output.keys():
        kept = next_features(features, gone["feature"])
        log.info("next round: %d features: %s", len(kept), ", ".join(kept))
        write_parquet(pd.DataFrame({"feature": kept}), smk.output.next_features)
    if "decision" in smk.output.keys():  # early stopping: the CV loss of every round so far
        from rfe_lib.stopping import decision, history

        search = from_params(smk.params.search)
        verdict = decision(history([*smk.input.history, *smk.input.hpo], search), **smk.params.stop)
        log.info("early stopping: %s", verdict["reason"])
        write_parquet(pd.DataFrame([verdict]), smk.output.decision)


run(main, snakemake)  # noqa: F821
