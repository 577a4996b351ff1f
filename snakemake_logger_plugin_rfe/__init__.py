"""Snakemake logger plugin ``rfe`` (``snakemake --logger rfe``; profiles/default and profiles/slurm select it): Snakemake's
usual terminal output, plus the whole run's progress weighted by the plan's model fits (state.py).

On a terminal, a bar on the last line is redrawn every second: the current round, fits done against planned (the
running jobs' share included, from the progress lines in their logs), jobs, elapsed time and the ETA from the
measured seconds per fit. When stderr is not a terminal (CI, ``nohup``, a file), a
plain line ``rfe progress: ...`` is written every ``--logger-rfe-interval`` seconds (30 by default) and when the run
ends. The plan comes from the workflow (workflow/rules/common.smk calls :func:`set_plan` in the main process), so
the plugin imports nothing of rfe_lib and costs nothing to runs of other workflows.
"""


import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_interface_logger_plugins.settings import LogHandlerSettingsBase

from .state import RunProgress, job_key, log_fraction  # noqa: F401 - job_key is the workflow's way to name jobs

PREFIX = "rfe progress: "
_CURRENT: list = []  # the handler of this process, for set_plan


def set_plan(job_fits: dict, n_rounds: int, estimate: float | None = None, job_work: dict | None = None) -> None:
    """The workflow's plan: ``{job_key(rule, wildcards): fits}`` for every fitting job, the number of rounds, the
    plan's estimate of the run's wall seconds on this invocation's cores (the ETA until the first fitting job ends),
    and each job's work in round-0 fits (what the ETA goes by; see ``RunProgress.set_plan``)."""
    _PLAN[:] = [(dict(job_fits), n_rounds, estimate, job_work)]
    for handler in _CURRENT:
        handler.progress.set_plan(job_fits, n_rounds, estimate, job_work)


_PLAN: list = []


@dataclass
class LogHandlerSettings(LogHandlerSettingsBase):
    interval: Optional[float] = field(
        default=30.0,
        metadata={"help": "Seconds between two plain progress lines when stderr is not a terminal (default 30); "
                          "a terminal's bar is redrawn every second."},
    )


class LogHandler(LogHandlerBase):
    def __post_init__(self) -> None:
        from snakemake.logging import ColorizingTextHandler, DefaultFilter, DefaultFormatter

        cs = self.common_settings
        self.stream = sys.stdout if getattr(cs, "stdout", False) else sys.stderr
        self.text = ColorizingTextHandler(nocolor=cs.nocolor, stream=self.stream,
                                          formatter=DefaultFormatter(cs.quiet, cs.show_failed_logs))
        self.text_filter = DefaultFilter(cs.quiet, cs.debug_dag, cs.verbose, cs.dryrun, cs.printshellcmds)
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = float((self.settings.interval if self.settings else None) or 30.0)
        self.active = not cs.dryrun
        self.progress = RunProgress()
        self.logs: dict = {}  # jobid -> (its log file, when it started): running jobs' progress lines
        if _PLAN:
            self.progress.set_plan(*_PLAN[0])
        self.lock = threading.RLock()
        self.bar_shown = False
        self.finished = False
        self.stop = threading.Event()
        self.ticker = threading.Thread(target=self._tick, name="rfe-progress", daemon=True)
        _CURRENT.append(self)
        if self.active and self.tty:
            # Local jobs log to their log file only (rfe_lib.progress.setup_logging), not over the bar; a failed
            # job's log is still shown (show-failed-logs in the profiles).
            os.environ["RFE_JOB_LOG_STDERR"] = "0"
        if self.active:
            self.ticker.start()

    # --- logging.Handler

    def emit(self, record) -> None:
        with self.lock:
            self._update(record)
            if self.text_filter.filter(record):
                self._clear_bar()
                self.text.emit(record)
            if self.active and self.progress.start is not None and not self.finished:
                if self.tty:
                    self._draw_bar()
                if self.progress.jobs_total and self.progress.jobs_done >= self.progress.jobs_total:
                    self._finish()

    def close(self) -> None:
        self.stop.set()
        with self.lock:
            if self.active and self.progress.start is not None and not self.finished:
                self._finish()
        super().close()

    # --- progress

    def _update(self, record) -> None:
        event = getattr(record, "event", None)
        p = self.progress
        if event == LogEvent.RUN_INFO:
            p.run_info(getattr(record, "stats", {}) or {})
        elif event == LogEvent.JOB_INFO:
            jobid = getattr(record, "jobid", None)
            p.job_info(jobid, getattr(record, "rule_name", ""), getattr(record, "wildcards", None))
            logs = getattr(record, "log", None) or []
            if logs:
                self.logs[jobid] = (str(logs[0]), time.time())
        elif event == LogEvent.JOB_FINISHED:
            jobid = getattr(record, "job_id", None)
            p.job_finished(jobid)
            self.logs.pop(jobid, None)
        elif event == LogEvent.JOB_ERROR:
            jobid = getattr(record, "jobid", None)
            p.job_failed(jobid)
            self.logs.pop(jobid, None)
        elif event == LogEvent.PROGRESS:
            p.progress(getattr(record, "done", 0), getattr(record, "total", 0))

    def _tick(self) -> None:
        last_line = None
        while not self.stop.wait(min(1.0, self.interval)):
            with self.lock:
                if self.finished or self.progress.start is None:
                    continue
                if self.tty:
                    self._read_logs()
                    self._draw_bar()
                elif last_line is None or self.progress.clock() - last_line >= self.interval:
                    last_line = self.progress.clock()
                    self._read_logs()
                    self._write(PREFIX + self.progress.line() + "\n")

    def _read_logs(self) -> None:
        """The running fitting jobs' last progress lines (the end of their log files, local or on a cluster's shared
        file system): a search shard of an hour moves the bar and the ETA as it goes, not only when it ends."""
        for jobid in self.progress.fitting_jobs():
            path, since = self.logs.get(jobid, (None, 0.0))
            if path is None:
                continue
            try:
                st = os.stat(path)
                if st.st_mtime < since - 2:  # an earlier attempt's log, which the job has not rewritten yet
                    continue
                with open(path, "rb") as f:
                    f.seek(max(st.st_size - 4096, 0))
                    text = f.read().decode(errors="replace")
            except OSError:
                continue
            fraction = log_fraction(text)
            if fraction is not None:
                self.progress.job_progress(jobid, fraction)

    def _finish(self) -> None:
        self.finished = True
        self._clear_bar()
        self._write(PREFIX + self.progress.line() + "\n")

    def _draw_bar(self) -> None:
        self._write("\r\033[K" + self.progress.bar())
        self.bar_shown = True

    def _clear_bar(self) -> None:
        if self.bar_shown:
            self._write("\r\033[K")
            self.bar_shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    # --- LogHandlerBase

    @property
    def writes_to_stream(self) -> bool:
        return True

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return True

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False
