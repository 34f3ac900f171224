"""Running services and the gateway: one per process (Compose) or all in one (`lotse dev`)."""

from __future__ import annotations

import asyncio
import importlib
import signal
from collections.abc import Iterable

import uvicorn

from services.kernel.clock import Clock
from services.kernel.connection import connect
from services.kernel.logging import get_logger
from services.kernel.runtime import ServiceRuntime
from services.kernel.settings import Settings

log = get_logger("platform")

# Every service the platform runs, in start order (identity first: it publishes the keys
# every other service verifies tokens with).
SERVICES: dict[str, str] = {
    "identity": "services.identity.service:IdentityService",
    "directory": "services.directory.service:DirectoryService",
    "notifications": "services.notifications.service:NotificationsService",
}


def service_class(name: str) -> type[ServiceRuntime]:
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    module, _, cls = SERVICES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


class Platform:
    """Some services and maybe the gateway, started in order, stopped in reverse."""

    def __init__(self, settings: Settings, clock: Clock, services: Iterable[str], gateway: bool):
        self.settings = settings
        self.clock = clock
        self.names = list(services)
        self.gateway = gateway
        self.services: dict[str, ServiceRuntime] = {}
        self._connections = []
        self._server: uvicorn.Server | None = None
        self._server_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for name in self.names:
            nc = await connect(self.settings.nats_url, name)
            self._connections.append(nc)
            service = service_class(name)(self.settings, self.clock)
            await service.start(nc)
            self.services[name] = service
        if self.gateway:
            from gateway.app import create_app
            from gateway.limits import MAX_BODY_BYTES

            config = uvicorn.Config(
                create_app(self.settings, self.clock),
                host=self.settings.http_host,
                port=self.settings.http_port,
                log_config=None,  # structlog owns the output
                access_log=False,
                lifespan="on",
                ws="websockets-sansio",
                ws_max_size=MAX_BODY_BYTES,  # a WebSocket message gets the same limit as an HTTP body
                proxy_headers=False,  # the gateway decides itself whom to believe (trusted_proxies)
            )
            self._server = uvicorn.Server(config)
            self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
            self._server_task = asyncio.create_task(self._server.serve(), name="gateway")
            while not self._server.started:
                if self._server_task.done():
                    await self._server_task  # raises why it could not start
                    raise SystemExit("the gateway stopped while starting")
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await self._server_task
        for service in reversed(list(self.services.values())):
            await service.stop()
        for nc in self._connections:
            await nc.drain()
        self.services.clear()
        self._connections.clear()


async def run_until_signalled(platform: Platform) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await platform.start()
    try:
        await stop.wait()
    finally:
        log.info("platform.stopping")
        await platform.stop()
