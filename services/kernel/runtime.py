"""What every service process does at start and stop, in the same order everywhere.

stream and buckets → token verifier → view (projector) → event store → the service's own
start (reactions, mailer, key management) → endpoints. Endpoints come last so that no
request is answered before the view has resumed; they go first at stop so that requests
in flight finish before the view closes.

A view far behind its stream (a deleted file being rebuilt) never stops the start: the
service waits up to `startup_wait` seconds for it, then starts its endpoints anyway. Until
the view has caught up they answer UNAVAILABLE, saying how far the rebuild is, and the
service's ping (`$SRV.PING`, which the gateway's /readyz asks) says `view: catching-up`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from proto.common import Endpoint
from services.kernel.auth import TokenVerifier
from services.kernel.clock import Clock
from services.kernel.commands import CommandRunner
from services.kernel.endpoints import Endpoints
from services.kernel.eventstore import EventStore
from services.kernel.logging import get_logger
from services.kernel.projector import Projector, View
from services.kernel.settings import Settings
from services.kernel.streams import ensure_event_stream, ensure_mail_stream

log = get_logger("runtime")


class ServiceRuntime:
    name: str = ""
    version: str = "0.1.0"

    def __init__(self, settings: Settings, clock: Clock, view: View, specs: dict[str, Endpoint[Any, Any]]):
        self.settings = settings
        self.clock = clock
        self.view = view
        # Each verb of the contract is answered by the method of the same name.
        self.endpoints = Endpoints(
            self.name, self.version, specs, {verb: getattr(self, verb) for verb in specs}
        )
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.verifier = TokenVerifier(clock, settings.nats_stream_replicas)
        self.projector: Projector | None = None
        self.store: EventStore | None = None
        self.commands: CommandRunner | None = None
        self._tracker: asyncio.Task[None] | None = None

    @property
    def database_path(self) -> Path:
        return self.settings.service_dir(self.name) / f"{self.name}.sqlite3"

    async def start(self, nc: NATS) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        replicas = self.settings.nats_stream_replicas
        await ensure_event_stream(self.js, self.name, replicas)
        await ensure_mail_stream(self.js, replicas)
        await self.verifier.start(nc)
        self.projector = Projector(self.js, self.name, self.database_path, self.view)
        await self.projector.start()
        try:
            await asyncio.wait_for(self.projector.caught_up.wait(), self.settings.startup_wait)
        except TimeoutError:
            applied, target = self.projector.progress()
            log.warning("service.starting_behind", service=self.name, applied=applied, of=target)
        self.store = EventStore(self.js, self.name, self.clock)
        self.commands = CommandRunner(self.store, self.projector)
        await self.on_start()
        self._report_view()
        await self.endpoints.start(nc, self.verifier, gate=self._unavailable)
        if self.projector.catching_up:
            self._tracker = asyncio.create_task(self._track_catch_up(), name=f"{self.name}-catch-up")
        log.info("service.started", service=self.name, catching_up=self.projector.catching_up)

    def _unavailable(self) -> str | None:
        """Why the service cannot answer now, or None."""
        if self.projector is None or not self.projector.catching_up:
            return None
        applied, target = self.projector.progress()
        return (f"the {self.name} service is rebuilding its view ({applied:,} of {target:,} events); "
                "try again in a moment")

    def _report_view(self) -> None:
        assert self.projector is not None
        applied, target = self.projector.progress()
        self.endpoints.status.update(
            view="catching-up" if self.projector.catching_up else "ready", applied=str(applied), of=str(target))

    async def _track_catch_up(self) -> None:
        assert self.projector is not None
        while self.projector.catching_up:
            try:
                await asyncio.wait_for(self.projector.caught_up.wait(), 1.0)
            except TimeoutError:
                pass
            self._report_view()
        log.info("service.caught_up", service=self.name, applied=self.projector.applied)

    async def stop(self) -> None:
        if self._tracker is not None:
            self._tracker.cancel()
            self._tracker = None
        await self.endpoints.stop()
        await self.on_stop()
        if self.projector:
            await self.projector.stop()
        await self.verifier.stop()
        log.info("service.stopped", service=self.name)

    async def on_start(self) -> None:
        """The service's own start: buckets, reactions, background work."""

    async def on_stop(self) -> None:
        """Undo `on_start`."""
