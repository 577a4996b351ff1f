"""Engineer the model table (sin/cos encodings, derived features), find correlated features on the training rows,
and write the feature-to-column map and round 0's features."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.correlated import correlated_feature_map
    from rfe_lib.data import DataSpec, candidate_features, read_table
    from rfe_lib.features import engineer, feature_map
    from rfe_lib.io import write_parquet

    spec = DataSpec.from_dict(smk.params.spec)
    validation = pd.read_parquet(smk.input.validation)
    dropped = set(validation.loc[validation["status"] == "dropped", "column"])
    df = read_table(smk.input.data)
    kept = [c for c in candidate_features(list(df.columns), spec) if c not in dropped]
    fmap = feature_map(kept, spec)
    table = engineer(df, fmap, spec)
    fmap, groups = correlated_feature_map(table, pd.read_parquet(smk.input.split), fmap, smk.params.correlated)
    log.info("%d correlated groups: %s", groups["group"].nunique(), smk.params.correlated)
    log.info("%d features, %d model columns", len({r['feature'] for r in fmap}), table.shape[1])
    write_parquet(table, smk.output.table)
    write_parquet(pd.DataFrame(fmap, columns=["feature", "column", "kind"]), smk.output.feature_map)
    write_parquet(groups, smk.output.correlated)
    write_parquet(pd.DataFrame({"feature": list(dict.fromkeys(r["feature"] for r in fmap))}), smk.output.features)


run(main, snakemake, cache="engineer_features")  # noqa: F821
