"""The round's importance table, the k least important features (ties broken by name), the next round's features
and, with ``rfe.stop``, the early-stopping decision (``rfe_lib.elimination.eliminate_round``)."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.elimination import eliminate_round, log_round
    from rfe_lib.io import write_parquet
    from rfe_lib.search import from_params
    from rfe_lib.search.results import search_results

    search = from_params(smk.params.search)
    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    _, best = search_results(smk.input.hpo, search, smk.params.round)
    out = eliminate_round((pd.read_parquet(p) for p in smk.input.importance), best, features, smk.params.k,
                          last="next_features" not in smk.output.keys(),
                          stop=smk.params.stop if "decision" in smk.output.keys() else None,
                          history_paths=[*smk.input.get("history", []), *smk.input.hpo], search=search)
    log_round(out, log)
    for name, frame in out.items():  # the decision last: a checkpoint is done when its decision exists
        write_parquet(frame, getattr(smk.output, name))


run(main, snakemake, cache="eliminate")  # noqa: F821
