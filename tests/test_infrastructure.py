import logging
import os

import pandas as pd
import pyarrow as pa
import pytest

from conftest import layout
from rfe_lib import RFEError
from rfe_lib.fingerprint import code_fingerprint, module_closure
from rfe_lib.io import ParquetBatchWriter, atomic_path, write_parquet
from rfe_lib.progress import Progress
from rfe_lib.model_file import load_model, save_model


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


def test_a_saved_model_loads_back_as_it_was_saved(tmp_path):
    """The model artifact's round trip: what save_model writes, load_model returns, and the model predicts as the
    fitted one did (the file is a plain joblib dict, as runs since the first have written)."""
    import joblib
    import numpy as np
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    fitted = Ridge(alpha=0.5).fit(X, y)
    path = layout(tmp_path).round_file(0, "model")
    save_model(path, fitted, ("hour_sin", "hour_cos", "temp"), ["hour", "temp"], {"alpha": 0.5})
    saved = load_model(path, layout(tmp_path).root)
    assert set(saved) == {"model", "columns", "features", "params"}
    assert saved["columns"] == ["hour_sin", "hour_cos", "temp"] and saved["features"] == ["hour", "temp"]
    assert saved["params"] == {"alpha": 0.5}
    np.testing.assert_array_equal(saved["model"].predict(X), fitted.predict(X))
    assert joblib.load(path)["columns"] == saved["columns"]  # the format readers of older runs know
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # written atomically: no temporary left


def test_models_load_only_from_the_run_folder(tmp_path):
    import joblib

    run = layout(tmp_path, "r").root
    run.mkdir(parents=True)
    joblib.dump({"x": 1}, run / "m.joblib")
    joblib.dump({"x": 2}, tmp_path / "elsewhere.joblib")
    assert load_model(run / "m.joblib", run) == {"x": 1}
    with pytest.raises(RFEError, match="models are loaded only from the run's folder"):
        load_model(tmp_path / "elsewhere.joblib", run)
    with pytest.raises(RFEError):
        load_model(run / ".." / ".." / "elsewhere.joblib", run)


def test_ci_turns_every_skip_into_a_failure(tmp_path):
    """What .ci/run relies on: with RFE_NO_SKIPS=1 a skipped test, a skipif mark, a skipped module and
    skip_or_fail all fail the session; without it they are skips."""
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "test_probe.py").write_text(
        "import pytest\nfrom _no_skips import skip_or_fail\n\n"
        "def test_skips():\n    pytest.skip('no browser here')\n\n"
        "@pytest.mark.skipif(True, reason='never here')\ndef test_marked():\n    pass\n\n"
        "def test_helper():\n    skip_or_fail('no cluster here')\n\n"
        "def test_runs():\n    pass\n")
    (tmp_path / "test_module.py").write_text("import pytest\npytest.skip('whole module', allow_module_level=True)\n")
    tests = Path(__file__).parent

    def probe(name, **env):
        full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")]), **env}
        if "RFE_NO_SKIPS" not in env:
            full.pop("RFE_NO_SKIPS", None)
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "_no_skips", "-p", "no:cacheprovider",
                               name], capture_output=True, text=True, cwd=tmp_path, env=full)

    quiet = probe("test_probe.py")
    assert quiet.returncode == 0 and "1 passed, 3 skipped" in quiet.stdout, quiet.stdout
    assert probe("test_module.py").returncode == 5  # nothing ran: the module was skipped
    strict = probe("test_probe.py", RFE_NO_SKIPS="1")
    summary = strict.stdout.strip().splitlines()[-1]
    # a skipif mark is a skip at setup, so it becomes an error; the others fail
    assert strict.returncode == 1 and summary.startswith("2 failed, 1 passed, 1 error"), strict.stdout
    for reason in ("no browser here", "never here", "no cluster here"):
        assert reason in strict.stdout, (reason, strict.stdout)
    strict = probe("test_module.py", RFE_NO_SKIPS="1")
    assert strict.returncode != 0 and "whole module" in strict.stdout and "skipped" not in strict.stdout.splitlines()[-1]
