"""Stratified train/validation/test split and CV folds, computed once for all rounds."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.data import read_table
    from rfe_lib.io import write_parquet
    from rfe_lib.split import make_split

    s = smk.params.split
    y = read_table(smk.input.data, columns=[smk.params.target])[smk.params.target].to_numpy(dtype=float)
    split = make_split(y, test_fraction=s["test_fraction"], val_fraction=s["val_fraction"], folds=s["folds"],
                       n_bins=s["stratify_bins"], seed=s["seed"])
    log.info("split: %s", split["set"].value_counts().to_dict())
    write_parquet(split, smk.output[0])


run(main, snakemake, cache="split_data")  # noqa: F821
