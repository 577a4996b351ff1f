"""The progress logger plugin (snakemake_logger_plugin_rfe, issue 22) on hand-made events: fits weigh the jobs, the ETA
is the fits left at the measured seconds per fit, a resumed run plans only its remaining jobs, and the handler draws
a bar on a terminal and plain lines elsewhere. A real run's output is checked in tests/test_cache.py."""

from __future__ import annotations

import io
import logging
import re
from types import SimpleNamespace

import pytest

from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_logger_plugin_rfe import LogHandler, LogHandlerSettings, set_plan
from snakemake_logger_plugin_rfe.state import RunProgress, job_key, log_fraction


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


PLAN = {job_key("hpo_shard", {"r": "000", "s": "00"}): 30, job_key("hpo_shard", {"r": "000", "s": "01"}): 30,
        job_key("train_model", {"r": "000"}): 1, job_key("hpo_shard", {"s": "00", "r": "001"}): 20}


def test_job_key_sorts_wildcards():
    assert job_key("hpo_rung", {"s": "01", "r": "002", "g": "1"}) == "hpo_rung|g=1|r=002|s=01"


def test_fits_weigh_jobs_and_eta_uses_seconds_per_fit():
    clock = Clock()
    p = RunProgress(clock)
    p.set_plan(PLAN, n_rounds=2)
    p.run_info({"hpo_shard": 3, "train_model": 1, "figures": 5, "total": 9})
    assert p.planned == 81 and p.eta is None and "ETA ?" in p.line()
    p.job_info(1, "hpo_shard", {"r": "000", "s": "00"})
    p.job_info(2, "figures", {"r": "000"})  # not a fitting job: weighs nothing
    clock.now += 60
    p.job_finished(2)
    assert p.done == 0
    p.job_finished(1)
    assert p.done == 30
    assert p.seconds_per_fit == pytest.approx(2.0)
    assert p.eta == pytest.approx(2.0 * 51)
    assert p.round == 0
    line = p.line()
    assert "round 000 of 2" in line and "fits 30/81 (37%)" in line and "ETA 0:01:42" in line
    p.job_info(3, "hpo_shard", {"r": "001", "s": "00"})
    assert p.round == 1


def test_eta_is_the_plans_estimate_until_the_first_fitting_job_ends():
    """A run's first search shards can take many minutes: until one ends, the ETA is the plan's estimate less the
    time elapsed (scaled to the fits a resumed run executes), marked "(plan)"; then the measured rate takes over."""
    clock = Clock()
    p = RunProgress(clock)
    p.set_plan(PLAN, n_rounds=2, estimate=600.0)
    p.run_info({"hpo_shard": 3, "train_model": 1, "total": 4})
    clock.now += 100
    assert p.eta == pytest.approx(500.0) and "ETA 0:08:20 (plan)" in p.line()
    clock.now += 1000
    assert p.eta == 0.0  # past the estimate: not negative
    p.job_info(1, "hpo_shard", {"r": "000", "s": "00"})
    clock.now += 90
    p.job_finished(1)
    # measured from the first fitting job's start: the 1,100 s before it are not the fits' time
    assert p.eta == pytest.approx(90 / 30 * 51) and "(plan)" not in p.line()
    resumed = RunProgress(Clock())
    resumed.set_plan(PLAN, n_rounds=2, estimate=810.0)
    resumed.run_info({"hpo_shard": 1, "total": 1})  # one of three search shards left: a third of their 80 fits
    assert resumed.eta == pytest.approx(810.0 * (80 / 3) / 81)


def test_eta_weighs_later_rounds_fits_by_their_work():
    """Round 1's fits on fewer columns weigh less (the plan's work per job): after round 0's two shards (60 fits,
    60 units of work) took 120 s, the 20 fits of round 1 worth 5 units and a model worth 1 are 6 units left: 12 s,
    not the 42 s that counting fits would say. The fits shown stay fits."""
    clock = Clock()
    p = RunProgress(clock)
    work = {job_key("hpo_shard", {"r": "000", "s": "00"}): 30.0, job_key("hpo_shard", {"r": "000", "s": "01"}): 30.0,
            job_key("train_model", {"r": "000"}): 1.0, job_key("hpo_shard", {"s": "00", "r": "001"}): 5.0}
    p.set_plan(PLAN, n_rounds=2, estimate=100.0, job_work=work)
    p.run_info({"hpo_shard": 3, "train_model": 1, "total": 4})
    for jobid, s in ((1, "00"), (2, "01")):
        p.job_info(jobid, "hpo_shard", {"r": "000", "s": s})
    clock.now += 120
    p.job_finished(1)
    p.job_finished(2)
    assert p.eta == pytest.approx(120 / 60 * 6) and "fits 60/81" in p.line()


def test_a_running_jobs_progress_line_counts_its_share_of_fits():
    """A search shard of an hour moves the bar before it ends: its log's last progress line (fits done of its total)
    counts that share of its planned fits, and after 30 s of fitting the ETA goes by the work done so far; the share
    never goes back, and the job's whole count replaces it when it ends."""
    log = ("2026-12-05 10:00:00 INFO HPO round 000 shard 0: 0/60 started\n"
           "2026-12-05 10:00:05 INFO HPO round 000 shard 0: 12/60 (20%) elapsed 0:00:05 ETA 0:00:20\n"
           "2026-12-05 10:00:10 INFO HPO round 000 shard 0: 15/60 (25%) elapsed 0:00:10 ETA 0:00:30\n")
    assert log_fraction(log) == pytest.approx(0.25)
    assert log_fraction("2026-12-05 10:00:00 INFO HPO round 000 shard 0: 0/60 started\n") is None
    assert log_fraction("restored 3 files from the cache entry x\n") is None
    clock = Clock()
    p = RunProgress(clock)
    p.set_plan(PLAN, n_rounds=2, estimate=1000.0)
    p.run_info({"hpo_shard": 3, "train_model": 1, "total": 4})
    p.job_info(1, "hpo_shard", {"r": "000", "s": "00"})
    p.job_info(2, "figures", {"r": "000"})
    clock.now += 20
    p.job_progress(1, 0.1)
    p.job_progress(2, 0.5)  # a job that fits nothing counts nothing
    assert p.fits_done == 3 and "fits 3/81 (4%)" in p.line()  # 30 fits x 10%, whole fits shown
    assert p.eta == pytest.approx(1000 - 20) and "(plan)" in p.line()  # 20 s of fitting: still the plan's
    clock.now += 20
    p.job_progress(1, log_fraction(log))
    assert p.fits_done == 7 and "fits 7/81 (9%)" in p.line()
    assert p.eta == pytest.approx(40 / 7.5 * (81 - 7.5)) and "(plan)" not in p.line()  # 40 s: measured
    p.job_progress(1, 0.1)  # an older line read late: the share does not go back
    assert p.fits_done == 7
    p.job_failed(1)  # a failed attempt's share is dropped; its retry starts from nothing
    assert p.fits_done == 0
    p.job_info(1, "hpo_shard", {"r": "000", "s": "00"})
    p.job_progress(1, 0.1)
    assert p.fits_done == 3
    p.job_finished(1)
    assert p.fits_done == 30 and p.done == 30


def test_resumed_run_plans_only_its_remaining_jobs():
    p = RunProgress(Clock())
    p.set_plan(PLAN, n_rounds=2)
    p.run_info({"hpo_shard": 1, "total": 1})  # one of three search shards left (their mean fits: 80/3)
    assert p.planned == round(80 / 3)


def _handler(stream, interval=0.05):
    settings = SimpleNamespace(printshellcmds=False, nocolor=True, quiet=None, debug_dag=False, verbose=False,
                               show_failed_logs=False, stdout=False, dryrun=False)
    handler = LogHandler(settings, LogHandlerSettings(interval=interval))
    handler.stream = stream
    handler.text.stream = stream
    handler.tty = stream.isatty()
    return handler


def _record(event, msg="", **extra):
    record = logging.LogRecord("snakemake", logging.INFO, __file__, 0, msg, None, None)
    record.event = event
    for key, value in extra.items():
        setattr(record, key, value)
    return record


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [False, True])
def test_handler_draws_a_bar_on_a_terminal_and_plain_lines_elsewhere(terminal):
    stream = Terminal() if terminal else io.StringIO()
    set_plan(PLAN, 2)
    handler = _handler(stream)
    try:
        handler.handle(_record(LogEvent.RUN_INFO, "Job stats: ...", stats={"hpo_shard": 3, "train_model": 1,
                                                                           "total": 4}))
        handler.handle(_record(LogEvent.JOB_INFO, "", jobid=1, rule_name="hpo_shard", wildcards={"r": "000", "s": "00"},
                               rule_msg=None, local=False, input=[], output=[], log=[], benchmark=None, reason="",
                               resources={}, priority=1, threads=1, indent=False, is_checkpoint=False,
                               printshellcmd=False, is_handover=False, shellcmd=None))
        handler.handle(_record(LogEvent.JOB_FINISHED, "", job_id=1))
        handler.handle(_record(LogEvent.PROGRESS, "", done=1, total=4))
        import time

        time.sleep(0.3)  # the ticker: a redrawn bar, or a plain line per interval
        for jobid, rule, wc in [(2, "hpo_shard", {"r": "000", "s": "01"}), (3, "train_model", {"r": "000"}),
                                (4, "hpo_shard", {"r": "001", "s": "00"})]:
            handler.handle(_record(LogEvent.JOB_INFO, "", jobid=jobid, rule_name=rule, wildcards=wc, rule_msg=None,
                                   local=False, input=[], output=[], log=[], benchmark=None, reason="", resources={},
                                   priority=1, threads=1, indent=False, is_checkpoint=False, printshellcmd=False,
                                   is_handover=False, shellcmd=None))
            handler.handle(_record(LogEvent.JOB_FINISHED, "", job_id=jobid))
        handler.handle(_record(LogEvent.PROGRESS, "", done=4, total=4))
    finally:
        handler.close()
    out = stream.getvalue()
    assert "Job stats: ..." in out  # Snakemake's own messages still show
    lines = re.findall(r"rfe progress: .*", out)
    assert lines and "fits 81/81 (100%)" in lines[-1] and "jobs 4/4" in lines[-1]
    if terminal:
        assert "\r\x1b[K[" in out  # the bar, redrawn in place
        assert len(lines) == 1  # one plain line: the last
    else:
        assert "\r" not in out and "[#" not in out
        assert len(lines) >= 2  # periodic lines while it ran, and the last


def test_handler_reads_the_running_jobs_progress_lines_from_their_logs(tmp_path):
    """The plain line counts a running shard's fits from the line its job wrote (rfe_lib.progress.Progress, the jobs'
    own logger) to the log file Snakemake names in the job's event; a log older than the job is not read."""
    from rfe_lib.progress import Progress, setup_logging

    stream = io.StringIO()
    set_plan(PLAN, 2)
    handler = _handler(stream, interval=0.05)
    old = tmp_path / "old.log"
    old.write_text("x: 20/30 (67%) elapsed 0:00:01 ETA 0:00:01\n")  # an earlier attempt's log, 10 s older
    import os
    import time

    os.utime(old, (time.time() - 10, time.time() - 10))
    logger = setup_logging(tmp_path / "shard.log")
    try:
        handler.handle(_record(LogEvent.RUN_INFO, "", stats={"hpo_shard": 3, "train_model": 1, "total": 4}))
        for jobid, path, s in ((1, tmp_path / "shard.log", "00"), (2, old, "01")):
            handler.handle(_record(LogEvent.JOB_INFO, "", jobid=jobid, rule_name="hpo_shard",
                                   wildcards={"r": "000", "s": s}, log=[str(path)]))
        progress = Progress(30, "HPO round 000 shard 0", logger, every=0)
        for _ in range(10):
            progress.step()
        time.sleep(0.3)
    finally:
        handler.close()
        for h in logger.handlers:
            h.close()
        logger.handlers.clear()
    lines = re.findall(r"rfe progress: .*", stream.getvalue())
    assert "fits 10/81 (12%)" in lines[-1], lines  # a third of shard 00's 30 fits; nothing from the old log


def test_jobs_log_to_their_file_only_under_the_bar(tmp_path, monkeypatch):
    """On a terminal the plugin sets RFE_JOB_LOG_STDERR=0 for the jobs it starts: their lines go to the log file only,
    not over the bar."""
    from rfe_lib.progress import setup_logging

    monkeypatch.setenv("RFE_JOB_LOG_STDERR", "0")
    logger = setup_logging(tmp_path / "job.log")
    assert [type(h).__name__ for h in logger.handlers] == ["FileHandler"]
    monkeypatch.delenv("RFE_JOB_LOG_STDERR")
    logger = setup_logging(tmp_path / "job.log")
    assert sorted(type(h).__name__ for h in logger.handlers) == ["FileHandler", "StreamHandler"]
    for h in logger.handlers:
        h.close()
    logger.handlers.clear()

    import os
    import sys

    monkeypatch.delenv("RFE_JOB_LOG_STDERR", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: jobs keep writing to it
    _handler(io.StringIO()).close()
    assert "RFE_JOB_LOG_STDERR" not in os.environ
    monkeypatch.setattr(sys, "stderr", Terminal())
    _handler(Terminal()).close()
    assert os.environ.get("RFE_JOB_LOG_STDERR") == "0"


def test_profiles_select_the_plugin_and_snakemake_finds_it():
    """Both profiles select ``--logger rfe``, and Snakemake's plugin registry (which looks among importable top-level
    packages: the project installed with editable_mode=compat or not editable, or the repository on the path) finds it
    with its interval setting."""
    import yaml

    from conftest import REPO
    from snakemake_interface_logger_plugins.registry import LoggerPluginRegistry

    for profile in ("default", "slurm"):
        assert yaml.safe_load((REPO / "profiles" / profile / "config.yaml").read_text())["logger"] == ["rfe"], profile
    plugin = LoggerPluginRegistry().get_plugin("rfe")
    assert plugin.log_handler is LogHandler
    assert [f.name for f in __import__("dataclasses").fields(plugin.settings_cls)] == ["interval"]
