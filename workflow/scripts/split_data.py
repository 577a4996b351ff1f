"""The train/validation/test split and CV folds (stratified, by group or by time), computed once for all rounds."""

from rfe_lib.job import run


def main(smk, log):
    from rfe_lib.data import read_table
    from rfe_lib.io import write_parquet
    from rfe_lib.split import run_split, split_column

    s = smk.params.split
    column = split_column(s)
    columns = [smk.params.target] + ([column[1]] if column else [])
    split = run_split(read_table(smk.input.data, columns=columns), smk.params.target, s, final=smk.params.final)
    if smk.params.weight:  # data.weight_column: carried beside y, never a feature; the split does not use it
        split["weight"] = read_table(smk.input.data, columns=[smk.params.weight])[smk.params.weight].to_numpy(float)
    log.info("split (%s): %s", s["method"], split["set"].value_counts().to_dict())
    write_parquet(split, smk.output[0])


run(main, snakemake, cache="split_data")  # noqa: F821
