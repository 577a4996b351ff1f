"""The whole run's progress, weighted by the plan's model fits: which round, fits done against planned, elapsed time and
the ETA from the measured seconds per fit. Pure bookkeeping (no Snakemake, no I/O), fed by the logger's events.

The workflow (workflow/rules/common.smk) hands over the plan as ``{job key: fits}`` for every fitting job (search
shards and rungs, importance shards, the final model of each round) with :func:`job_key`; jobs not in it weigh 0.
"""

from __future__ import annotations

import time


def fmt_seconds(seconds: float) -> str:
    """``h:mm:ss``, as the job logs' progress lines (rfe_lib.progress.fmt_seconds). Not imported from rfe_lib: this
    plugin loads in Snakemake's main process before the Snakefile puts its own folder first on sys.path, and an
    rfe_lib imported here would be the installed one, not the workflow's (tests/test_reruns.py runs a copy)."""
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


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
        self.estimate = None       # the plan's wall seconds for the whole run on this invocation's cores, if known
        self.job_work: dict[str, float] = {}  # a job's work in round-0 fits (smaller rounds' fits weigh less)
        self.planned_work = 0.0
        self.done_work = 0.0
        self._running: dict = {}   # jobid -> (fits, round)

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
        if fits and r is not None:
            self.round = r if self.round is None else max(self.round, r)

    def job_finished(self, jobid) -> None:
        fits, _, work = self._running.pop(jobid, (0, None, 0.0))
        self.done += fits
        self.done_work += work

    def progress(self, done: int, total: int) -> None:
        self.jobs_done, self.jobs_total = int(done), int(total)

    # --- what it shows

    @property
    def elapsed(self) -> float:
        return 0.0 if self.start is None else self.clock() - self.start

    @property
    def seconds_per_fit(self) -> float | None:
        return self.elapsed / self.done if self.done else None

    @property
    def seconds_per_work(self) -> float | None:
        return self.elapsed / self.done_work if self.done_work else None

    @property
    def eta(self) -> float | None:
        """Seconds left: the work left (fits, each weighted by its round's size) at the seconds per unit of work
        measured so far. Before the first fitting job ends, the plan's estimate (its share for the work this run
        executes, when it resumes) less the time elapsed, or None without one: a first search shard can take many
        minutes, and a bar that says nothing about the end looks frozen."""
        rate = self.seconds_per_work
        if rate is not None:
            return rate * max(self.planned_work - self.done_work, 0.0)
        if self.estimate is None:
            return None
        total = sum(self.job_work.values())
        share = self.planned_work / total if total else 1.0
        return max(self.estimate * share - self.elapsed, 0.0)

    def fraction(self) -> float:
        if self.planned:
            return min(self.done / self.planned, 1.0)
        return self.jobs_done / self.jobs_total if self.jobs_total else 0.0

    def line(self) -> str:
        rounds = "round -" if self.round is None else f"round {self.round:03d}"
        rounds += f" of {self.n_rounds}" if self.n_rounds else ""
        eta = "?" if self.eta is None else fmt_seconds(self.eta) + (" (plan)" if self.seconds_per_fit is None else "")
        rate = "" if self.seconds_per_fit is None else f", {self.seconds_per_fit:.2f} s/fit"
        return (f"{rounds} | fits {self.done}/{self.planned} ({100 * self.fraction():.0f}%) | "
                f"jobs {self.jobs_done}/{self.jobs_total} | elapsed {fmt_seconds(self.elapsed)} | ETA {eta}{rate}")

    def bar(self, width: int = 24) -> str:
        filled = int(round(width * self.fraction()))
        return f"[{'#' * filled}{'.' * (width - filled)}] {self.line()}"
