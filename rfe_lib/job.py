"""Running one workflow job: logging to the job's log file, and user errors as one clean message."""

from __future__ import annotations

import os
import sys
import traceback

from . import RFEError


def run(main, smk, cache: str | None = None) -> None:
    """Call ``main(smk, logger)`` with logging sent to ``smk.log[0]``; exit 1 on failure.

    ``cache``: the script's name (``workflow/scripts/<cache>.py``), for a job whose outputs are fully determined by
    its code, inputs and params: its outputs are then taken from the cache between runs when it holds them, and
    stored there otherwise (:mod:`rfe_lib.jobcache`).

    An :class:`RFEError` is logged as its message alone (it is meant for the user); any other
    exception is logged with its traceback. Snakemake then removes the job's outputs.
    """
    from .progress import setup_logging

    logger = setup_logging(smk.log[0] if len(smk.log) else None)
    try:
        if cache is None:
            main(smk, logger)
        else:
            from .jobcache import run_cached

            run_cached(smk, cache, lambda: main(smk, logger), logger)
    except RFEError as exc:
        logger.error("%s", exc)
        sys.exit(1)
    except Exception:  # noqa: BLE001 - log it, then fail the job
        logger.error("job failed:\n%s", traceback.format_exc())
        sys.exit(1)


def export_pythonpath(path: str) -> None:
    """Put ``path`` first on PYTHONPATH, so job processes (local, conda or cluster) import this rfe_lib."""
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != path]
    os.environ["PYTHONPATH"] = os.pathsep.join([path, *parts])
