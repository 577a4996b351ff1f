"""Fit the round's best configuration on all training rows; predict train, validation and test rows."""

from rfe_lib.job import run


def main(smk, log):
    import joblib
    import pandas as pd

    from rfe_lib.features import columns_of
    from rfe_lib.io import atomic_path, write_parquet
    from rfe_lib.models import ModelSpec
    from rfe_lib.search.base import best_params
    from rfe_lib.training import fit_and_predict, load_columns

    features = pd.read_parquet(smk.input.features)["feature"].tolist()
    columns = columns_of(pd.read_parquet(smk.input.feature_map), features)
    params = best_params(pd.read_parquet(smk.input.best))
    model, predictions = fit_and_predict(load_columns(smk.input.table, columns), pd.read_parquet(smk.input.split),
                                         ModelSpec.from_params(smk.params.model), params)
    log.info("fitted %s on %d columns", params, len(columns))
    with atomic_path(smk.output.model) as tmp:
        joblib.dump({"model": model, "columns": columns, "features": features, "params": params}, tmp)
    write_parquet(predictions, smk.output.predictions)


run(main, snakemake)  # noqa: F821
