"""A cache of job outputs between runs, keyed by content: a run under another ``run_name`` reuses the outputs of
every job whose code, inputs and settings are the same as a job that already ran.

The key of a job is the SHA-256 of: its rule and script (the script's source and ``params.code``, the hash of the
rfe_lib modules it runs), its wildcards and params, the *content* of each input file (by input name, never by path,
so the run's folder does not count), the names of its outputs, and the versions of Python and of the libraries that
compute results. Any change to the data, the split, the grid, the model or the code changes the key: a miss.

An entry is a folder ``<cache>/<key[:2]>/<key>/`` holding the outputs (``0``, ``1``, ... in output order) and a
``manifest.json`` with each file's size and SHA-256, written last. Entries are written under a temporary name and
renamed into place, so concurrent runs never see half an entry (the first to finish wins, the other discards its
copy). Restoring copies each file beside its target, checks its size and SHA-256 against the manifest, and renames
it into place: a restored artifact is byte for byte the computed one. An entry that fails the check (a missing or
changed file, no manifest: a corrupted or partial entry) is removed and the job computes again.

Where: the environment variable ``RFE_CACHE`` (a folder); unset, ``.snakemake/rfe-cache`` in the working
directory; ``RFE_CACHE=off`` turns it off. Clear it with ``rm -rf .snakemake/rfe-cache`` (no run may be going).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

ENV = "RFE_CACHE"
DEFAULT_DIR = ".snakemake/rfe-cache"
MANIFEST = "manifest.json"
FORMAT = 1  # bump when the key or the entry's layout changes
# The libraries whose versions can change a result: a new version is a miss.
LIBRARIES = ("numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "joblib", "lightgbm", "xgboost", "catboost")


def cache_dir(environ=None) -> Path | None:
    """The cache folder from ``RFE_CACHE`` (absolute), or None when it is off."""
    value = (os.environ if environ is None else environ).get(ENV, DEFAULT_DIR).strip()
    if value.lower() in ("", "off", "0", "false", "no", "none"):
        return None
    return Path(value).expanduser().resolve()


def _file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _library_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in LIBRARIES:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def _named_files(namedlist) -> list:
    """``[(name, [paths])]`` of a Snakemake input/output list, every file once, in order."""
    named = {}
    for name, value in namedlist._allitems():
        if name is not None:
            named[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    seen = {p for paths in named.values() for p in paths}
    rest = [str(p) for p in namedlist if str(p) not in seen]
    return [*named.items(), *(("", [p]) for p in rest)]


def job_key(smk, script: str) -> str:
    """The content key of the Snakemake job ``smk`` running ``workflow/scripts/<script>.py``."""
    source = (Path(smk.scriptdir) / f"{script}.py").read_bytes()
    params = {name: value for name, value in smk.params._allitems() if name is not None}
    described = {
        "format": FORMAT,
        "rule": smk.rule,
        "script": hashlib.sha256(source).hexdigest(),
        "wildcards": {name: str(value) for name, value in smk.wildcards._allitems() if name is not None},
        "params": params,
        "inputs": [(name, [_file_sha256(p) for p in paths]) for name, paths in _named_files(smk.input)],
        "outputs": [(name, len(paths)) for name, paths in _named_files(smk.output)],
        "python": sys.version,
        "libraries": _library_versions(),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=repr).encode()).hexdigest()


class JobCache:
    """The cache folder ``root``: :meth:`restore` and :meth:`store` the outputs of the job with key ``key``."""

    def __init__(self, root):
        self.root = Path(root)

    def entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def restore(self, key: str, outputs: list, log=None) -> bool:
        """Copy the entry's files to ``outputs`` (checked against the manifest); False on a miss or a bad entry
        (which is then removed, so that this job's outputs replace it)."""
        entry = self.entry(key)
        if not entry.is_dir():
            return False
        placed = []
        try:
            manifest = json.loads((entry / MANIFEST).read_text())
            files = manifest["files"]
            if len(files) != len(outputs):
                raise ValueError(f"{len(files)} files for {len(outputs)} outputs")
            for i, (target, expected) in enumerate(zip(outputs, files)):
                target = Path(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.rfe-tmp-{os.getpid()}")
                shutil.copyfile(entry / str(i), tmp)
                size, digest = tmp.stat().st_size, _file_sha256(tmp)
                if size != expected["size"] or digest != expected["sha256"]:
                    tmp.unlink()
                    raise ValueError(f"file {i} has {size} bytes and SHA-256 {digest[:12]}, the manifest says "
                                     f"{expected['size']} bytes and {expected['sha256'][:12]}")
                placed.append((tmp, target))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            for tmp, _ in placed:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            if log:
                log.warning("cache entry %s is corrupted or partial (%s): removed, computing again", entry, exc)
            self.discard(key)
            return False
        for tmp, target in placed:
            os.replace(tmp, target)
        if log:
            log.info("restored %d output(s) from the cache entry %s (stored by run %r)", len(outputs), entry,
                     manifest.get("run"))
        return True

    def store(self, key: str, outputs: list, run: str | None = None, log=None) -> None:
        """Copy ``outputs`` into a new entry, written under a temporary name and renamed into place."""
        entry = self.entry(key)
        if (entry / MANIFEST).is_file():
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.parent / f".tmp-{key}-{uuid.uuid4().hex}"
        try:
            tmp.mkdir()
            files = []
            for i, path in enumerate(outputs):
                shutil.copyfile(path, tmp / str(i))
                files.append({"size": (tmp / str(i)).stat().st_size, "sha256": _file_sha256(tmp / str(i))})
            (tmp / MANIFEST).write_text(json.dumps({"files": files, "run": run, "stored": time.time()}))
            if entry.exists():  # a corrupted entry (no manifest): replace it
                self.discard(key)
            try:
                os.rename(tmp, entry)
            except OSError:  # another run stored the same key first: keep its entry
                shutil.rmtree(tmp, ignore_errors=True)
                return
        except OSError as exc:  # a full disk or a read-only cache must not fail the job: its outputs are written
            shutil.rmtree(tmp, ignore_errors=True)
            if log:
                log.warning("could not store the outputs in the cache (%s)", exc)
            return
        if log:
            log.info("stored %d output(s) in the cache entry %s", len(outputs), entry)

    def discard(self, key: str) -> None:
        """Remove an entry: renamed away first (atomic), so no reader sees it half removed."""
        entry = self.entry(key)
        trash = entry.parent / f".trash-{key}-{uuid.uuid4().hex}"
        try:
            os.rename(entry, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)


def run_cached(smk, script: str, compute, log) -> None:
    """Run ``compute()`` for the job ``smk`` unless the cache holds its outputs; then store them."""
    root = cache_dir()
    if root is None:
        compute()
        return
    cache = JobCache(root)
    outputs = [str(p) for p in smk.output]
    key = job_key(smk, script)
    if cache.restore(key, outputs, log):
        return
    log.info("cache miss (key %s)", key[:16])
    compute()
    cache.store(key, outputs, run=_run_of(outputs), log=log)


def _run_of(outputs) -> str | None:
    """The run name of a results/<run>/... output, for the manifest (information only)."""
    parts = Path(outputs[0]).parts if outputs else ()
    return parts[parts.index("results") + 1] if "results" in parts[:-1] else None
