import logging
import os

import pandas as pd
import pyarrow as pa
import pytest

from rfe_lib import RFEError
from rfe_lib.fingerprint import code_fingerprint, module_closure
from rfe_lib.io import ParquetBatchWriter, atomic_path, write_parquet
from rfe_lib.progress import Progress
from rfe_lib.training import load_model


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "sub" / "x.parquet"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and os.listdir(target.parent) == []


def test_stale_temporaries_are_removed_on_the_next_write(tmp_path):
    stale = tmp_path / ".x.parquet.rfe-tmp-99999"
    stale.write_text("left by a killed job")
    write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "x.parquet")
    assert sorted(os.listdir(tmp_path)) == ["x.parquet"]


def test_batch_writer_is_invisible_until_closed(tmp_path):
    schema = pa.schema([("a", pa.int64())])
    target = tmp_path / "s.parquet"
    with ParquetBatchWriter(target, schema, batch_size=2) as w:
        for i in range(5):
            w.append({"a": i})
        assert not target.exists()
    assert pd.read_parquet(target)["a"].tolist() == [0, 1, 2, 3, 4]


def test_progress_lines(caplog):
    caplog.set_level(logging.INFO, logger="rfe")
    p = Progress(4, "HPO", every=0)
    for _ in range(4):
        p.step()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "HPO: 0/4 started"
    assert lines[-1].startswith("HPO: 4/4 (100%) elapsed ") and "ETA 0:00:00" in lines[-1]


def test_fingerprint_follows_imports():
    # relative imports at any depth, lazy ones inside functions included, and the packages' __init__ files
    assert {"search", "search.shards", "cv", "models", "metrics", "grid", "vocab"} <= set(module_closure("search.shards"))
    assert {"importance", "importance.lofo", "importance.base", "vocab"} <= set(module_closure("importance.lofo"))
    assert {"plan", "plan.cache", "plan.estimate", "settings"} - set(module_closure("plan")) == {"settings"}
    assert "figures.registry" in module_closure("report.texts")
    assert "sklearn" not in module_closure("elimination")
    assert code_fingerprint("search.shards") != code_fingerprint("elimination")


def test_models_load_only_from_the_run_folder(tmp_path):
    import joblib

    run = tmp_path / "results" / "r"
    run.mkdir(parents=True)
    joblib.dump({"x": 1}, run / "m.joblib")
    joblib.dump({"x": 2}, tmp_path / "elsewhere.joblib")
    assert load_model(run / "m.joblib", run) == {"x": 1}
    with pytest.raises(RFEError, match="models are loaded only from the run's folder"):
        load_model(tmp_path / "elsewhere.joblib", run)
    with pytest.raises(RFEError):
        load_model(run / ".." / ".." / "elsewhere.joblib", run)
