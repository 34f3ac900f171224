"""Running services and the gateway: one per process (Compose) or all in one (`lotse dev`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

import uvicorn
from nats.aio.client import Client as NATS

from services.kernel.clock import Clock
from services.kernel.connection import connect, release
from services.kernel.logging import get_logger
from services.kernel.runtime import ServiceRuntime
from services.kernel.settings import Settings

log = get_logger("platform")

# Every service the platform runs, in start order (identity first: it publishes the keys
# every other service verifies tokens with).
SERVICES: dict[str, str] = {
    "identity": "services.identity.service:IdentityService",
    "directory": "services.directory.service:DirectoryService",
    "news": "services.news.service:NewsService",
    "notifications": "services.notifications.service:NotificationsService",
}


def service_class(name: str) -> Callable[[Settings, Clock], ServiceRuntime]:
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    module, _, cls = SERVICES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


GRACEFUL_SECONDS = 8  # less than Compose's default stop grace period (10 s), so the stop finishes in order


class GatewayFailed(RuntimeError):
    """The HTTP server could not start (most often: its port or its metrics port is taken)."""


class Platform:
    """Some services and maybe the gateway, started in order, stopped in reverse."""

    def __init__(self, settings: Settings, clock: Clock, services: Iterable[str], gateway: bool):
        self.settings = settings
        self.clock = clock
        self.names = list(services)
        self.gateway = gateway
        self.services: dict[str, ServiceRuntime] = {}
        self._connections: list[NATS] = []
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
                # Requests in flight get this long to finish at stop; an idle keep-alive or a
                # client that never closes its socket must not hold the stop up for ever.
                timeout_graceful_shutdown=GRACEFUL_SECONDS,
            )
            self._server = uvicorn.Server(config)
            # uvicorn (≥ 0.29) takes SIGINT/SIGTERM only while it serves and hands them on to
            # the handlers before it (`lotse dev`'s, `lotse serve`'s) once it has stopped.
            self._server_task = asyncio.create_task(self._serve(self._server), name="gateway")
            while not self._server.started:
                if self._server_task.done():
                    await self._server_task  # raises why it could not start
                    raise GatewayFailed("the gateway stopped while starting")
                await asyncio.sleep(0.05)

    async def _serve(self, server: uvicorn.Server) -> None:
        # uvicorn answers a failed bind with sys.exit(); inside a task that SystemExit would
        # tear down the whole event loop before anything could be stopped in order.
        try:
            await server.serve()
        except SystemExit:
            s = self.settings
            raise GatewayFailed(
                f"the gateway could not start: is {s.http_host}:{s.http_port} (LOTSE_HTTP_PORT) or its metrics "
                f"address {s.metrics_host}:{s.metrics_port} (LOTSE_METRICS_PORT) taken? The log above says which"
            ) from None

    async def stop(self) -> None:
        if self._server is not None and self._server_task is not None:
            if self._server.started:
                self._server.should_exit = True  # finish the requests in flight, then close
            else:
                self._server_task.cancel()  # still starting (waiting for NATS): nothing to finish
            try:
                await self._server_task
            except (GatewayFailed, asyncio.CancelledError):
                pass  # a failed start was reported by start()
            self._server = self._server_task = None
        for service in reversed(list(self.services.values())):
            await service.stop()
        for nc in self._connections:
            await release(nc)
        self.services.clear()
        self._connections.clear()


def settle_the_heap() -> None:
    """Once a process has started: what start-up built (schemas, models, templates, the
    regions, the sample data's imports) lives as long as the process, so freeze it out of
    the collector's sight — its full passes walked all of it, again and again. In a
    measurement here they were a third of deciding a 10,000-person fan-out (median 169-196
    -> 123-131 ms); they show in every request's tail. Only for a process of its own: a
    test that starts platforms in-process would keep each one's garbage for good."""
    gc.collect()
    gc.freeze()


async def run_until_signalled(
    platform: Platform,
    after_start: Callable[[], Awaitable[None]] | None = None,
    guard: Callable[[], Coroutine[Any, Any, object]] | None = None,
) -> None:
    """Start, run until SIGINT/SIGTERM, stop in order.

    A signal that arrives while the platform is still starting (waiting for NATS, say)
    cancels the start instead of waiting for it to finish. `guard` runs beside the platform
    from the start on (`lotse dev` supervises its nats-server there): when it ends — by
    raising, typically — the platform stops, and its error is raised.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async def start() -> None:
        await platform.start()
        if after_start is not None:
            await after_start()
        settle_the_heap()

    starting = asyncio.create_task(start(), name="platform-start")
    signalled = asyncio.create_task(stop.wait(), name="platform-signal")
    guarding = asyncio.create_task(guard() if guard else asyncio.Event().wait(), name="platform-guard")
    try:
        done, _ = await asyncio.wait({starting, signalled, guarding}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done and guarding not in done:
            starting.result()  # a failed start raises here
            await asyncio.wait({signalled, guarding}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
        elif not starting.cancelled() and guarding.done():
            starting.exception()  # what ended the guard is the cause to report, not this
        if guarding.done():
            guarding.result()  # raises what ended it
    finally:
        signalled.cancel()
        guarding.cancel()
        # Ended before the stop: a supervisor must not act on what stopping does.
        await asyncio.wait({guarding})
        log.info("platform.stopping")
        await platform.stop()
