"""No quiet skips in CI, as a pytest plugin (tests/conftest.py imports its hooks).

A test that cannot run here (no Chromium, no SLURM) is skipped on a developer's machine. In CI, .ci/run sets
RFE_NO_SKIPS=1: every skipped test (and skipped module) is then reported as a failure with its reason, so a runner
that lacks what a test needs cannot pass by skipping it. ``skip_or_fail`` also fails when a more specific variable
(RFE_REQUIRE_BROWSER, RFE_REQUIRE_SLURM) is 1.
"""

from __future__ import annotations

import os

import pytest

NO_SKIPS = "RFE_NO_SKIPS"


def _on() -> bool:
    return os.environ.get(NO_SKIPS) == "1"


def _reason(report) -> str:
    return report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)


def skip_or_fail(reason: str, require: str | None = None):
    """Skip with ``reason``; fail instead when the environment variable ``require`` (or RFE_NO_SKIPS) is 1."""
    for var in filter(None, (require, NO_SKIPS)):
        if os.environ.get(var) == "1":
            pytest.fail(f"{var}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _on() and not hasattr(report, "wasxfail"):
        reason = _reason(report)
        report.outcome = "failed"
        report.longrepr = f"{NO_SKIPS}=1: a skipped test is a failure here: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _on():
        reason = _reason(report)
        report.outcome = "failed"
        report.longrepr = f"{NO_SKIPS}=1: a skipped module is a failure here: {reason}"
