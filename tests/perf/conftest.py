"""A real nats-server for the benchmarks (`make bench`; never part of `make test`)."""

from __future__ import annotations

import pytest

from tests.support.nats_server import running_nats


@pytest.fixture(scope="module")
def nats_url():
    with running_nats() as url:
        yield url
