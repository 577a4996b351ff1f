"""The plan cache: ``.snakemake/rfe-plan/<key>.json``, keyed by the settings the plan depends on, the data file's
size and modification time, the code and scikit-learn's version, so that re-parsing the workflow (every
``snakemake`` call, every cluster job) does not re-read a large file."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path


def key(settings, data_fingerprint: dict) -> str:
    from importlib.metadata import version  # not ``import sklearn``: that alone costs about 1.5 s per parse

    from .. import __version__
    from ..fingerprint import code_fingerprint

    return settings.plan_key(data_fingerprint, code_fingerprint("plan"), version("scikit-learn"), __version__)


def load(cache_dir, plan_key: str):
    """The cached plan, or None."""
    from . import Plan

    if cache_dir is None:
        return None
    path = Path(cache_dir) / f"{plan_key}.json"
    if path.is_file():
        try:
            return Plan(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            return None
    return None


def save(cache_dir, plan_key: str, plan) -> None:
    if cache_dir is None:
        return
    path = Path(cache_dir) / f"{plan_key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(asdict(plan)))
    os.replace(tmp, path)
