"""Metrics per set (train, val, test), with wrapped errors for an angle target."""

from rfe_lib.job import run


def main(smk, log):
    import pandas as pd

    from rfe_lib.io import write_parquet
    from rfe_lib.metrics import metric_row

    pred = pd.read_parquet(smk.input[0])
    rows = []
    for name in ("train", "val", "test"):
        part = pred[pred["set"] == name]
        rows.append({"set": name, **metric_row(part["y_true"], part["y_pred"], smk.params.tolerances,
                                               smk.params.angle_unit)})
    metrics = pd.DataFrame(rows)
    log.info("\n%s", metrics.to_string(index=False))
    write_parquet(metrics, smk.output[0])


run(main, snakemake)  # noqa: F821
