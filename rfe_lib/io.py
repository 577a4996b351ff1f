"""File I/O: atomic writes and the few readers every job shares.

Every artifact is written to a hidden temporary file beside its target and renamed into place with
``os.replace`` (atomic on POSIX), so a killed job leaves either the whole file or nothing under the
target name. Stale temporaries of a killed job are removed the next time the same target is written,
and the workflow removes any left in the run's folder when a run starts (:func:`remove_stale_under`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

_TMP_MARK = ".rfe-tmp-"


def _tmp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}{_TMP_MARK}{os.getpid()}")


def remove_stale_temporaries(target: str | os.PathLike) -> None:
    """Remove temporaries that a killed writer of ``target`` left behind."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    for stale in target.parent.glob(f".{target.name}{_TMP_MARK}*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def remove_stale_under(root: str | os.PathLike) -> list[Path]:
    """Remove every temporary left under ``root`` by killed writers; return what was removed.

    Call it only when no job can be writing under ``root`` (the workflow does, at the start of a run,
    while it holds Snakemake's lock on the run's outputs).
    """
    root = Path(root)
    removed = []
    if root.is_dir():
        for stale in sorted(root.rglob(f".*{_TMP_MARK}*")):
            if stale.is_file() or stale.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
                    removed.append(stale)
    return removed


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success rename it to ``target``, on failure delete it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = _tmp_name(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_parquet(df, path: str | os.PathLike) -> None:
    """Write a DataFrame to Parquet atomically (no index, zstd compression)."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False, compression="zstd")


def write_text(text: str, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


class ParquetBatchWriter:
    """Append rows to a Parquet file in batches, keeping at most ``batch_size`` rows in memory.

    The file is written under a temporary name and renamed into place by :meth:`close`, so a
    reader never sees a half-written file. Use as a context manager.
    """

    def __init__(self, path, schema, batch_size: int = 256):
        self.path = Path(path)
        self.schema = schema
        self.batch_size = batch_size
        self._rows: list[dict] = []
        self._ctx = atomic_path(self.path)
        self._tmp = None
        self._writer = None

    def __enter__(self):
        import pyarrow.parquet as pq

        self._tmp = self._ctx.__enter__()
        self._writer = pq.ParquetWriter(self._tmp, self.schema, compression="zstd")
        return self

    def append(self, row: dict) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.flush()
        finally:
            self._writer.close()
        return self._ctx.__exit__(exc_type, exc, tb)
