"""The cache between runs (issue 22, rfe_lib/jobcache.py): a run under another ``run_name`` takes every job whose code,
inputs and params are unchanged from the cache, byte for byte; a changed grid value searches again; a corrupted or
partial entry is detected and computed again; concurrent writers of one entry leave one whole entry.

Real runs of the small configuration share one cache folder (module-scoped): run ``a`` computes and fills it, ``b``
(same settings) restores everything, ``c`` changes a grid value, ``d`` meets entries corrupted by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

import pandas as pd
import pytest

from conftest import base_env, layout, make_workdir, snakemake, write_config
from rfe_lib.jobcache import MANIFEST, JobCache, cache_dir

pytestmark = pytest.mark.slow

# The cached jobs, for the small config: 3 rounds, one shard each, as (job, round): their logs say what the cache did.
DATA_LOGS = [("validate_data", None), ("split_data", None), ("engineer_features", None)]
ROUND_LOGS = [(name, r) for r in range(3) for name in ("hpo_shard_00", "importance_shard_00", "train_model")]
CACHED_LOGS = DATA_LOGS + ROUND_LOGS
ROUND_ARTIFACTS = ("features", "results", "best", "model", "predictions", "metrics")


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def artifacts(run) -> dict:
    """Every artifact a cached job writes (the data, split, features, search shards, importance shards, models,
    predictions, metrics), by path relative to the run's folder (``run``: its Layout)."""
    paths = [run.file(k) for k in ("validation", "table", "feature_map", "correlated", "split")]
    for r in range(3):
        paths += [run.round_file(r, k) for k in ROUND_ARTIFACTS] + [run.hpo_shard(r, 0, 0), run.importance_shard(r, 0)]
    return {str(p.relative_to(run.root)): sha(p) for p in paths if p.is_file()}


def logs(run) -> dict:
    return {(job, r): run.log(job, r).read_text() for job, r in CACHED_LOGS}


@pytest.fixture(scope="module")
def cache_runs(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cache")
    cache = workdir / "shared-cache"
    env = base_env(RFE_CACHE=str(cache))
    make_workdir(workdir)
    outputs = {}
    for name in "ab":
        write_config(workdir, {"run_name": name}, name=f"{name}.yaml")
        proc = snakemake(workdir, "-j", "2", "--logger", "rfe", "--logger-rfe-interval", "1",
                         configfile=f"{name}.yaml", env=env)
        outputs[name] = proc.stderr
    return workdir, cache, env, outputs


PROGRESS = re.compile(r"^rfe progress: round (\S+) of (\d+) \| fits (\d+)/(\d+) \(\d+%\) \| jobs (\d+)/(\d+) \| "
                      r"elapsed \d+:\d\d:\d\d \| ETA ([^,\s]+)", re.MULTILINE)


def test_progress_reaches_the_planned_fits_with_a_numeric_eta(cache_runs):
    """The progress plugin (--logger rfe, not on a terminal: a plain line every second) in run a's real output. The
    planned fits, recomputed from the small config: each of the 3 rounds (5, 4, 3 features) searches 4 configurations
    on 3 folds, LOFO refits each feature on each fold, and the final model is one fit."""
    lines = PROGRESS.findall(cache_runs[3]["a"])
    assert len(lines) >= 3, cache_runs[3]["a"][-3000:]
    planned = sum(4 * 3 + n * 3 + 1 for n in (5, 4, 3))
    assert {int(line[3]) for line in lines} == {planned}
    assert {line[1] for line in lines} == {"3"}
    done = [int(line[2]) for line in lines]
    assert done == sorted(done) and done[-1] == planned  # it grows to the planned total
    assert lines[-1][4] == lines[-1][5]  # every job done
    etas = [line[6] for line in lines if line[6] != "?"]
    assert etas and all(re.fullmatch(r"\d+:\d\d:\d\d", eta) for eta in etas)
    assert etas[-1] == "0:00:00"
    assert [line[0] for line in lines if line[0] != "-"][-1] == "002"
    # before any fitting job has ended, the ETA is the plan's estimate (marked), not "?"
    first = re.search(r"^rfe progress: .*$", cache_runs[3]["a"], re.MULTILINE)[0]
    assert re.search(r"\| ETA \d+:\d\d:\d\d \(plan\)$", first), first


def test_second_run_takes_every_cached_job_from_the_cache(cache_runs):
    workdir, cache, _, _ = cache_runs
    a, b = layout(workdir, "a"), layout(workdir, "b")
    first, second = logs(a), logs(b)
    for name in CACHED_LOGS:
        assert "cache miss" in first[name] and "stored" in first[name], (name, first[name])
        assert "restored" in second[name] and "cache miss" not in second[name], (name, second[name])
    # no fit ran in run b: the search shards' progress lines are absent
    assert all("ETA" not in second[name] for name in ROUND_LOGS)
    assert len(list(cache.glob("*/*/" + MANIFEST))) >= len(CACHED_LOGS)  # and the eliminations, figures, ...
    # byte for byte the computed artifacts, and the run's end products too
    computed, restored = artifacts(a), artifacts(b)
    assert len(computed) >= 3 + 3 * 6 and computed == restored
    for key in ("rounds", "selected"):
        assert sha(a.file(key)) == sha(b.file(key))


def test_changed_grid_value_searches_again(cache_runs):
    workdir, _, env, _ = cache_runs
    grid = {"learning_rate": [0.1, 0.3], "max_leaf_nodes": [7, 15]}  # 0.2 -> 0.3
    write_config(workdir, {"run_name": "c", "hpo": {"grid": grid}}, name="c.yaml")
    snakemake(workdir, "-j", "2", configfile="c.yaml", env=env)
    c = logs(layout(workdir, "c"))
    for name in DATA_LOGS:  # the data did not change
        assert "restored" in c[name], name
    assert "cache miss" in c[("hpo_shard_00", 0)]
    assert "ETA" in c[("hpo_shard_00", 0)]  # it really fitted


def _entry_of(cache: Path, artifact: Path) -> Path:
    """The cache entry whose first file is byte for byte ``artifact``."""
    digest = sha(artifact)
    found = [m.parent for m in cache.glob("*/*/" + MANIFEST)
             if json.loads(m.read_text())["files"][0]["sha256"] == digest]
    assert len(found) == 1, found
    return found[0]


def test_corrupted_or_partial_entry_is_computed_again(cache_runs):
    workdir, cache, env, _ = cache_runs
    a = layout(workdir, "a")
    shard = _entry_of(cache, a.hpo_shard(0, 0, 0))
    blob = bytearray((shard / "0").read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte, same size
    (shard / "0").write_bytes(bytes(blob))
    partial = _entry_of(cache, a.importance_shard(1, 0))
    (partial / MANIFEST).unlink()  # as if a writer had died before the manifest

    write_config(workdir, {"run_name": "d"}, name="d.yaml")
    snakemake(workdir, "-j", "2", configfile="d.yaml", env=env)
    d = layout(workdir, "d")
    found = logs(d)
    for name in (("hpo_shard_00", 0), ("importance_shard_00", 1)):
        assert "corrupted or partial" in found[name] and "cache miss" in found[name], (name, found[name])
        assert "ETA" in found[name]  # computed again
    for name in DATA_LOGS + [("hpo_shard_00", 1)]:  # the entries left whole are used (round 1 searches
        # the same features again: its inputs are unchanged)
        assert "restored" in found[name], name
    # The recomputed artifacts are the right ones. A search shard records its fits' seconds, which differ from one
    # computation to the next: it is compared without them (and the jobs reading it miss the cache from then on).
    assert set(artifacts(d)) == set(artifacts(a))
    for name in artifacts(a):
        if name.endswith(".parquet"):
            left, right = pd.read_parquet(a.root / name), pd.read_parquet(d.root / name)
            timing = [c for c in left.columns if c.endswith("seconds")]
            pd.testing.assert_frame_equal(left.drop(columns=timing), right.drop(columns=timing))
    # and the entries are whole again, now holding the recomputed files
    for path in (d.hpo_shard(0, 0, 0), d.importance_shard(1, 0)):
        entry = _entry_of(cache, path)
        assert (entry / MANIFEST).is_file() and sha(entry / "0") == sha(path)


def test_concurrent_stores_of_one_key_leave_one_whole_entry(tmp_path):
    outputs = []
    for i in range(3):
        path = tmp_path / "out" / f"f{i}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(bytes([i]) * (100_000 + i))
        outputs.append(path)
    cache = JobCache(tmp_path / "cache")
    threads = [threading.Thread(target=cache.store, args=("ab" * 32, outputs)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = list((tmp_path / "cache").rglob("*"))
    assert [p.name for p in entries if p.name.startswith((".tmp-", ".trash-"))] == []
    restored = [tmp_path / "back" / f"f{i}.bin" for i in range(3)]
    assert cache.restore("ab" * 32, restored)
    assert [p.read_bytes() for p in restored] == [p.read_bytes() for p in outputs]


def test_cache_folder_from_the_environment(tmp_path):
    assert cache_dir({"RFE_CACHE": "off"}) is None
    assert cache_dir({"RFE_CACHE": str(tmp_path)}) == tmp_path.resolve()
    assert cache_dir({}) == Path(".snakemake/rfe-cache").resolve()
    assert base_env()["RFE_CACHE"] == "off"  # the other tests' runs compute everything


def test_restore_checks_every_file_against_the_manifest(tmp_path):
    """Unit level: a flipped byte (same size), a truncated file and a missing manifest each make restore() refuse the
    entry (nothing is written to the targets) and remove it; a whole entry restores byte for byte."""
    source = tmp_path / "out.bin"
    source.write_bytes(bytes(range(256)) * 100)
    for damage in ("flip", "truncate", "manifest"):
        cache = JobCache(tmp_path / f"cache-{damage}")
        cache.store("cd" * 32, [source])
        entry = cache.entry("cd" * 32)
        blob = bytearray((entry / "0").read_bytes())
        if damage == "flip":
            blob[1000] ^= 0x01
            (entry / "0").write_bytes(bytes(blob))
        elif damage == "truncate":
            (entry / "0").write_bytes(bytes(blob[:-1]))
        else:
            (entry / MANIFEST).unlink()
        target = tmp_path / f"restored-{damage}.bin"
        assert not cache.restore("cd" * 32, [target]), damage
        assert not target.exists() and not entry.exists(), damage
        assert [p.name for p in target.parent.glob(f".{target.name}*")] == []  # no temporary left
        cache.store("cd" * 32, [source])
        assert cache.restore("cd" * 32, [target]) and target.read_bytes() == source.read_bytes()
