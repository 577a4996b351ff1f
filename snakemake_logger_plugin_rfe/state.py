"""The whole run's progress, weighted by the plan's model fits: which round, fits done against planned, elapsed time and
the ETA from the measured seconds per fit. Pure bookkeeping (no Snakemake, no I/O), fed by the logger's events and
by the running jobs' progress lines, which the handler reads from their logs (a long search shard counts as it goes).

The workflow (workflow/rules/common.smk) hands over the plan as ``{job key: fits}`` for every fitting job (search
shards and rungs, importance shards, the final model of each round) with :func:`job_key`; jobs not in it weigh 0.
"""

from __future__ import annotations

import re
import time

WARMUP = 30.0  # seconds of fitting before the running jobs' own progress makes the ETA (see RunProgress.measured)
# A job log's progress line (rfe_lib.progress.Progress.line): "<label>: <done>/<total> (<pct>%) elapsed ...", in fits.
_PROGRESS_LINE = re.compile(r": (\d+)/(\d+) \(\d+%\) elapsed ")


def fmt_seconds(seconds: float) -> str:
    """``h:mm:ss``, as the job logs' progress lines (rfe_lib.progress.fmt_seconds). Not imported from rfe_lib: this
    plugin loads in Snakemake's main process before the Snakefile puts its own folder first on sys.path, and an
    rfe_lib imported here would be the installed one, not the workflow's (tests/test_reruns.py runs a copy)."""
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


def log_fraction(text: str) -> float | None:
    """The share of its fits a running job has done, from the last progress line in ``text`` (the end of its log),
    or None without one."""
    found = _PROGRESS_LINE.findall(text)
    done, total = (int(v) for v in found[-1]) if found else (0, 0)
    return min(done / total, 1.0) if total else None


def job_key(rule: str, wildcards: dict | None) -> str:
    """``rule|name=value|...`` (wildcards sorted by name): how the plan and the log events name a job."""
    return "|".join([rule, *(f"{k}={v}" for k, v in sorted((wildcards or {}).items()))])


class RunProgress:
    """Progress of one Snakemake run; ``clock`` is injectable for tests."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.job_fits: dict[str, int] = {}
        self.n_rounds = 0
        self.planned = 0           # fits of the jobs this run is to execute
        self.done = 0              # fits of the jobs finished so far
        self.jobs_done = 0
        self.jobs_total = 0
        self.round = None          # the latest round a fitting job started in
        self.start = None
        self.fit_start = None      # when the first fitting job started: the rates are measured from there
        self.estimate = None       # the plan's wall seconds for the whole run on this invocation's cores, if known
        self.job_work: dict[str, float] = {}  # a job's work in round-0 fits (smaller rounds' fits weigh less)
        self.planned_work = 0.0
        self.done_work = 0.0
        self._running: dict = {}   # jobid -> (fits, round, work)
        self._partial: dict = {}   # jobid -> the share of its fits a running job has done (its log's progress line)

    # --- what the workflow and Snakemake tell

    def set_plan(self, job_fits: dict, n_rounds: int, estimate: float | None = None,
                 job_work: dict | None = None) -> None:
        """``job_work``: each fitting job's work in round-0 fits (a later round's fit on fewer columns, or a
        halving rung's partial fit, weighs less); the ETA goes by it, the fits shown stay fits. Without it a
        job's work is its fits."""
        self.job_fits = {str(k): int(v) for k, v in job_fits.items()}
        self.job_work = {k: float((job_work or {}).get(k, v)) for k, v in self.job_fits.items()}
        self.n_rounds = int(n_rounds)
        self.planned = sum(self.job_fits.values())
        self.planned_work = sum(self.job_work.values())
        self.estimate = None if estimate is None else float(estimate)

    def run_info(self, stats: dict) -> None:
        """Snakemake's job counts per rule for this run: a resumed run plans only the fits of its remaining jobs
        (each rule's fits scaled by the share of its jobs that run, exact when all or none of them do)."""
        per_rule: dict[str, list[tuple[int, float]]] = {}
        for key, fits in self.job_fits.items():
            per_rule.setdefault(key.split("|", 1)[0], []).append((fits, self.job_work.get(key, fits)))
        planned, work = 0, 0.0
        for rule, jobs in per_rule.items():
            count, fits, w = int(stats.get(rule, 0)), sum(f for f, _ in jobs), sum(w for _, w in jobs)
            share = 1.0 if count >= len(jobs) else count / len(jobs)
            planned += fits if share == 1.0 else round(fits * share)
            work += w * share
        self.planned, self.planned_work = planned, work
        self.jobs_total = int(stats.get("total", sum(v for k, v in stats.items() if k != "total")))
        self.started()

    def started(self) -> None:
        if self.start is None:
            self.start = self.clock()

    def job_info(self, jobid, rule: str, wildcards: dict | None) -> None:
        self.started()
        key = job_key(rule, wildcards)
        fits = self.job_fits.get(key, 0)
        r = (wildcards or {}).get("r")
        r = int(r) if r is not None and str(r).isdigit() else None
        self._running[jobid] = (fits, r, self.job_work.get(key, fits))
        self._partial.pop(jobid, None)  # a retry starts again
        if fits and self.fit_start is None:
            self.fit_start = self.clock()
        if fits and r is not None:
            self.round = r if self.round is None else max(self.round, r)

    def job_finished(self, jobid) -> None:
        fits, _, work = self._running.pop(jobid, (0, None, 0.0))
        self._partial.pop(jobid, None)
        self.done += fits
        self.done_work += work

    def job_failed(self, jobid) -> None:
        """A failed attempt's fits do not count (a retry, if any, is a new job_info)."""
        self._running.pop(jobid, None)
        self._partial.pop(jobid, None)

    def fitting_jobs(self) -> list:
        """The running jobs that fit models: those whose progress lines count."""
        return [jobid for jobid, (fits, _, _) in self._running.items() if fits]

    def job_progress(self, jobid, fraction: float) -> None:
        """A running job has done ``fraction`` of its fits (a long search shard moves the bar before it ends)."""
        if jobid in self._running:
            self._partial[jobid] = min(max(float(fraction), self._partial.get(jobid, 0.0)), 1.0)

    def progress(self, done: int, total: int) -> None:
        self.jobs_done, self.jobs_total = int(done), int(total)

    # --- what it shows

    @property
    def elapsed(self) -> float:
        return 0.0 if self.start is None else self.clock() - self.start

    @property
    def fits_done(self) -> int:
        """Fits of the finished jobs, and the share done of the running ones'."""
        return self.done + int(sum(self._running[j][0] * f for j, f in self._partial.items()))

    @property
    def work_done(self) -> float:
        return self.done_work + sum(self._running[j][2] * f for j, f in self._partial.items())

    @property
    def fitting_seconds(self) -> float:
        """Wall seconds since the first fitting job started: what the fits done so far took (the run's start,
        validation, split and features before it are not the fits' to pay, and would weigh on an early rate)."""
        return 0.0 if self.fit_start is None else self.clock() - self.fit_start

    @property
    def seconds_per_fit(self) -> float | None:
        done = self.fits_done
        return self.fitting_seconds / done if done else None

    @property
    def seconds_per_work(self) -> float | None:
        work = self.work_done
        return self.fitting_seconds / work if work else None

    @property
    def measured(self) -> bool:
        """Whether the rate is measured enough to make the ETA: a fitting job has ended, or the running ones have
        fitted for ``WARMUP`` seconds (their first seconds are mostly a Python start and imports)."""
        return self.done_work > 0 or (self.work_done > 0 and self.fitting_seconds >= WARMUP)

    @property
    def eta(self) -> float | None:
        """Seconds left: the work left (fits, each weighted by its round's size) at the wall seconds per unit of work
        measured since the first fitting job started, the running jobs' done share counted (their logs' progress
        lines). Until that is :attr:`measured`, the plan's estimate (its share for the work this run executes, when
        it resumes) less the time elapsed, or None without one: a first search shard can take many minutes, and a
        bar that says nothing about the end looks frozen."""
        if self.measured:
            return self.seconds_per_work * max(self.planned_work - self.work_done, 0.0)
        if self.estimate is None:
            return None
        total = sum(self.job_work.values())
        share = self.planned_work / total if total else 1.0
        return max(self.estimate * share - self.elapsed, 0.0)

    def fraction(self) -> float:
        if self.planned:
            return min(self.fits_done / self.planned, 1.0)
        return self.jobs_done / self.jobs_total if self.jobs_total else 0.0

    def line(self) -> str:
        rounds = "round -" if self.round is None else f"round {self.round:03d}"
        rounds += f" of {self.n_rounds}" if self.n_rounds else ""
        eta = "?" if self.eta is None else fmt_seconds(self.eta) + ("" if self.measured else " (plan)")
        rate = f", {self.seconds_per_fit:.2f} s/fit" if self.measured else ""
        return (f"{rounds} | fits {self.fits_done}/{self.planned} ({100 * self.fraction():.0f}%) | "
                f"jobs {self.jobs_done}/{self.jobs_total} | elapsed {fmt_seconds(self.elapsed)} | ETA {eta}{rate}")

    def bar(self, width: int = 24) -> str:
        filled = int(round(width * self.fraction()))
        return f"[{'#' * filled}{'.' * (width - filled)}] {self.line()}"
