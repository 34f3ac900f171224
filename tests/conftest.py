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
    from tests.support.browser import SKIPPED

    if SKIPPED:
        terminalreporter.write_sep("=", "browser tests SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(f"{SKIPPED[0]} — {len(SKIPPED)} browser test(s) did not run. "
                                    "Install Debian's chromium (apt-get install chromium) to run them; "
                                    "LOTSE_REQUIRE_BROWSER=1 (as in CI) turns this skip into a failure.")
