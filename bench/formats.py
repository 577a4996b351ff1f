"""Why internal files are Parquet: write and read time of one table as Parquet (zstd) and as xlsx (openpyxl)."""

from __future__ import annotations

import time

from .common import OUT


def measure(n_rows: int = 100_000, n_cols: int = 20, log=print) -> dict:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(n_rows, n_cols)), columns=[f"c{j:02d}" for j in range(n_cols)])
    work = OUT / "work" / "formats"
    work.mkdir(parents=True, exist_ok=True)
    rec = {"rows": n_rows, "columns": n_cols}
    for fmt, write, read in (
        ("parquet", lambda p: df.to_parquet(p, index=False, compression="zstd"), pd.read_parquet),
        ("xlsx", lambda p: df.to_excel(p, index=False, engine="openpyxl"), lambda p: pd.read_excel(p, engine="openpyxl")),
    ):
        path = work / f"table.{fmt}"
        t0 = time.perf_counter()
        write(path)
        t1 = time.perf_counter()
        back = read(path)
        t2 = time.perf_counter()
        assert back.shape == df.shape
        rec[fmt] = {"write_s": round(t1 - t0, 3), "read_s": round(t2 - t1, 3), "mb": round(path.stat().st_size / 2**20, 1),
                    "exact": bool(np.array_equal(back.to_numpy(), df.to_numpy()))}
        log(f"  {fmt}: {rec[fmt]}")
    return rec
