"""Running the platform in the test process against a real nats-server and SMTP server."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from lotse.platform import SERVICES, Platform
from proto.client import LotseClient
from services.kernel.clock import Clock
from services.kernel.connection import connect
from services.kernel.settings import Settings
from tests.support.nats_server import free_port


def platform_settings(nats_url: str, data_dir: Path, smtp_port: int | None, **overrides) -> Settings:
    port = overrides.pop("http_port", None) or free_port()
    values = dict(
        nats_url=nats_url,
        data_dir=data_dir,
        http_host="127.0.0.1",
        http_port=port,
        metrics_port=overrides.pop("metrics_port", None) or free_port(),
        public_url=f"http://127.0.0.1:{port}",
        smtp_host="127.0.0.1" if smtp_port else None,
        smtp_port=smtp_port or 25,
        smtp_starttls=False,
        log_format="json",
        log_level="warning",
    )
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_platform(settings: Settings, clock: Clock, services=None, gateway: bool = False
                           ) -> AsyncIterator[tuple[Platform, LotseClient]]:
    platform = Platform(settings, clock, services or list(SERVICES), gateway=gateway)
    await platform.start()
    nc = await connect(settings.nats_url, "test-client")
    try:
        yield platform, LotseClient(nc, timeout=10)
    finally:
        await nc.close()
        await platform.stop()
