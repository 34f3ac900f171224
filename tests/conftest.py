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
