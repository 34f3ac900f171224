"""A real nats-server per test module, and a connection to it."""

from __future__ import annotations

import pytest

from services.kernel.connection import connect
from tests.support.nats_server import running_nats


@pytest.fixture(scope="module")
def nats_url():
    with running_nats() as url:
        yield url


@pytest.fixture
async def nc(nats_url):
    connection = await connect(nats_url, "test")
    yield connection
    await connection.close()
