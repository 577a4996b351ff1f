"""The features of round r: all of them in round 0, then the previous round's minus its eliminated ones."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.io import write_parquet
    from rfe_lib.elimination import next_features

    if "feature_map" in smk.input.keys():
        features = list(dict.fromkeys(pd.read_parquet(smk.input.feature_map)["feature"]))
    else:
        previous = pd.read_parquet(smk.input.previous)["feature"].tolist()
        gone = pd.read_parquet(smk.input.eliminated)["feature"].tolist()
        features = next_features(previous, gone)
        log.info("eliminated: %s", ", ".join(gone))
    log.info("%d features: %s", len(features), ", ".join(features))
    write_parquet(pd.DataFrame({"feature": features}), smk.output[0])


run(main, snakemake)  # noqa: F821
