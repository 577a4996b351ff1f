"""Engineer the model table (sin/cos encodings, derived features), find correlated features on the training rows,
and write the feature-to-column map and round 0's features (rfe_lib.features.round_zero, as the plan schedules them)."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.data import DataSpec, read_table
    from rfe_lib.features import round_zero
    from rfe_lib.io import write_parquet

    spec = DataSpec.from_dict(smk.params.spec)
    validation = pd.read_parquet(smk.input.validation).to_dict("records")
    zero = round_zero(read_table(smk.input.data), validation, spec, pd.read_parquet(smk.input.split),
                      smk.params.correlated)
    log.info("%d correlated groups: %s", zero.groups["group"].nunique(), smk.params.correlated)
    log.info("%d features, %d model columns", len(zero.features), zero.table.shape[1])
    write_parquet(zero.table, smk.output.table)
    write_parquet(pd.DataFrame(zero.feature_map, columns=["feature", "column", "kind"]), smk.output.feature_map)
    write_parquet(zero.groups, smk.output.correlated)
    write_parquet(pd.DataFrame({"feature": zero.features}), smk.output.features)


run(main, snakemake, cache="engineer_features")  # noqa: F821
