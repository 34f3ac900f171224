"""Fixtures shared by every test layer."""

from __future__ import annotations

import os

import pytest

from tests.support.smtp import SmtpServer

os.environ.setdefault("LOTSE_LOG_FORMAT", "json")
os.environ.setdefault("LOTSE_LOG_LEVEL", "warning")


@pytest.fixture(scope="module")
def smtp():
    """A real SMTP server (aiosmtpd) per test module; `smtp.inbox` holds what it received."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


# ---- browser tests: say plainly when they did not run ------------------------------------

def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    from tests.support.browser import SKIP_PREFIX

    reasons = [report.longrepr[2] for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report.longrepr, tuple) and SKIP_PREFIX in report.longrepr[2]]
    if reasons:
        reason = reasons[0].split(SKIP_PREFIX, 1)[1]
        terminalreporter.write_sep("=", "browser tests SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(f"{reason} — {len(reasons)} browser test(s) did not run. "
                                    "Install Debian's chromium (apt-get install chromium) to run them; "
                                    "LOTSE_REQUIRE_BROWSER=1 (as in CI) turns this skip into a failure.")


# ---- in-process services must be stopped by the tests that start them ----------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a module's last test, no task our code named may still run in the shared loop.

    The loop lives for the whole session, so a projector or token watch a fixture forgot to
    stop keeps spinning (and logging) through every later test and takes CPU from the
    timing-sensitive ones; this makes such a leak the failure of the module that caused it."""
    yield
    if nextitem is not None and nextitem.module is item.module:
        return
    import asyncio

    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    except RuntimeError:  # no loop (yet), or closed at the end of the session
        return
    leaked = sorted(t.get_name() for t in tasks if not t.get_name().startswith("Task-"))
    if leaked:
        for task in tasks:
            if not task.get_name().startswith("Task-"):
                task.cancel()
        raise AssertionError(f"{item.module.__name__} left tasks running: {', '.join(leaked)}")
