"""What every service process does at start and stop, in the same order everywhere.

stream and buckets → token verifier → view (projector) → event store → the service's own
start (reactions, mailer, key management) → endpoints. Endpoints come last so that no
request is answered before the view has resumed; they go first at stop so that requests
in flight finish before the view closes.
"""

from __future__ import annotations

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
        self.store = EventStore(self.js, self.name, self.clock)
        self.commands = CommandRunner(self.store, self.projector)
        await self.on_start()
        await self.endpoints.start(nc, self.verifier)
        log.info("service.started", service=self.name)

    async def stop(self) -> None:
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
