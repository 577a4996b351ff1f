"""Progress lines for long jobs: ``done/total``, elapsed time and ETA, so ``tail -f`` on a log tells where a run is."""

from __future__ import annotations

import logging
import os
import time


def fmt_seconds(seconds: float) -> str:
    """``h:mm:ss`` (the job logs' progress lines and the whole run's progress bar)."""
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


class Progress:
    """Log ``label: done/total (pct) elapsed h:mm:ss ETA h:mm:ss`` at most every ``every`` seconds."""

    def __init__(self, total: int, label: str, logger: logging.Logger | None = None, every: float = 5.0):
        self.total = total
        self.label = label
        self.logger = logger or logging.getLogger("rfe")
        self.every = every
        self.done = 0
        self.start = time.perf_counter()
        self._last = -float("inf")
        self.logger.info("%s: 0/%d started", label, total)

    def line(self) -> str:
        elapsed = time.perf_counter() - self.start
        pct = 100.0 * self.done / self.total if self.total else 100.0
        if self.done:
            eta = fmt_seconds(elapsed / self.done * (self.total - self.done))
        else:
            eta = "?"
        return f"{self.label}: {self.done}/{self.total} ({pct:.0f}%) elapsed {fmt_seconds(elapsed)} ETA {eta}"

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last >= self.every or self.done >= self.total:
            self._last = now
            self.logger.info(self.line())


def setup_logging(log_path=None) -> logging.Logger:
    """Send the ``rfe`` logger to ``log_path`` (line-buffered, so ``tail -f`` follows it) and to stderr."""
    logger = logging.getLogger("rfe")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    # RFE_JOB_LOG_STDERR=0: the log file only. The progress bar (--logger rfe on a terminal) sets it, so that jobs'
    # lines do not write over the bar; Snakemake shows a failed job's log file (show-failed-logs).
    handlers = [logging.StreamHandler()] if os.environ.get("RFE_JOB_LOG_STDERR", "1") != "0" else []
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w"))
    for h in handlers:
        h.setFormatter(fmt)
        logger.addHandler(h)
    return logger
