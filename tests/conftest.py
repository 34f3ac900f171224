"""Fixtures shared by every test layer."""

from __future__ import annotations

import os

os.environ.setdefault("LOTSE_LOG_FORMAT", "json")
os.environ.setdefault("LOTSE_LOG_LEVEL", "warning")
