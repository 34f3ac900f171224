"""The whole platform in this process — every service and the gateway on a real port —
against a real nats-server and a real SMTP server; clients speak GraphQL over HTTP and WS."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from lotse.platform import Platform
from proto.client import LotseClient
from services.kernel.clock import Clock
from services.kernel.settings import Settings
from tests.support.graphql import GraphQL
from tests.support.nats_server import running_nats
from tests.support.platform import platform_settings, running_platform

_addresses = itertools.count(1)


@dataclass
class Running:
    platform: Platform
    client: LotseClient
    clock: Clock
    settings: Settings

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}"


@pytest.fixture(scope="module")
def nats_url():
    with running_nats() as url:
        yield url


@pytest.fixture(scope="module")
async def running(nats_url, smtp, tmp_path_factory):
    clock = Clock()
    # The tests stand in for many people: each test comes from its own client address,
    # told to the gateway the way a trusted reverse proxy would.
    settings = platform_settings(nats_url, tmp_path_factory.mktemp("platform"), smtp.port,
                                 trusted_proxies="127.0.0.1")
    async with running_platform(settings, clock, gateway=True) as (platform, client):
        yield Running(platform, client, clock, settings)


@pytest.fixture
def api(running) -> GraphQL:
    """An anonymous GraphQL client from a client address of its own."""
    n = next(_addresses)
    return GraphQL(running.base_url, forwarded_for=f"198.51.100.{n % 250 + 1}")
