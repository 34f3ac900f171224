"""What every service process does at start and stop, in the same order everywhere.

stream and buckets → token verifier → view (projector) → event store → the service's own
start (reactions, mailer, key management) → the eraser, if the service holds personal
data → endpoints. Endpoints come last so that no request is answered before the view has
resumed; they go first at stop so that requests in flight finish before the view closes.

A view far behind its stream (a deleted file being rebuilt) never stops the start: the
service waits up to `startup_wait` seconds for it, then starts its endpoints anyway. Until
the view has caught up they answer UNAVAILABLE, saying how far the rebuild is, and the
service's ping (`$SRV.PING`, which the gateway's /readyz asks) says `view: catching-up`.

A service that holds personal data (its contract inherits
`proto.privacy.PersonalDataContract`) returns its declaration from `personal_data()`; the
runtime answers that contract's endpoints from it and runs its erasures
(services/kernel/privacy.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from proto.client import LotseClient
from proto.common import Endpoint
from proto.privacy import (
    CheckErasure,
    ErasureBlockers,
    ExportPersonalData,
    EXPORT_SCOPE,
    PersonalDataContract,
    PersonalDataSection,
)
from services.kernel.auth import TokenVerifier
from services.kernel.clock import Clock
from services.kernel.commands import CommandRunner
from services.kernel.endpoints import Endpoints, RequestContext
from services.kernel.eventstore import EventStore
from services.kernel.jetstream import patient_jetstream
from services.kernel.logging import get_logger
from services.kernel.privacy import Eraser, PersonalData
from services.kernel.projector import Projector, View
from services.kernel.readers import Database
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
        self.client: LotseClient | None = None  # for asking other services (rarely: views first)
        self.eraser: Eraser | None = None
        self._holds_personal_data = PersonalDataContract.erasure_blockers.verb in specs
        self._tracker: asyncio.Task[None] | None = None

    @property
    def database_path(self) -> Path:
        return self.settings.service_dir(self.name) / f"{self.name}.sqlite3"

    @property
    def db(self) -> Database:
        """The view's readers, for the endpoints' queries (services/kernel/readers.py)."""
        assert self.projector is not None and self.projector.reader is not None
        return self.projector.reader

    async def start(self, nc: NATS) -> None:
        self.nc = nc
        self.js = patient_jetstream(nc, self.settings.failover_wait)
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
        self.client = LotseClient(nc, timeout=self.settings.request_timeout)
        await self.on_start()
        data = self.personal_data()
        if (data is not None) != self._holds_personal_data:
            raise RuntimeError(f"{self.name}: its contract and personal_data() must both declare personal data")
        if data is not None:
            self.eraser = Eraser(self.name, self.database_path, data, self.clock)
            await self.eraser.start()
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
        if self.eraser is not None:
            await self.eraser.stop()
        await self.on_stop()
        if self.projector:
            await self.projector.stop()
        await self.verifier.stop()
        log.info("service.stopped", service=self.name)

    async def on_start(self) -> None:
        """The service's own start: buckets, reactions, background work."""

    async def on_stop(self) -> None:
        """Undo `on_start`."""

    def personal_data(self) -> PersonalData | None:
        """What personal data the service holds (services/<service>/privacy.py); None: none.
        Called once, after `on_start`."""
        return None

    def _personal_data(self) -> PersonalData:
        data = self.personal_data()
        assert data is not None, "only services that declare personal data answer these endpoints"
        return data

    # ---- the endpoints of proto.privacy.PersonalDataContract, the same in every service ----

    async def export_personal_data(self, req: ExportPersonalData, ctx: RequestContext) -> PersonalDataSection:
        principal = ctx.scoped_principal(EXPORT_SCOPE)
        data = await self._personal_data().export(principal.account_id)
        log.info("privacy.exported", service=self.name, account_id=principal.account_id)
        return PersonalDataSection(service=self.name, data=data)

    async def erasure_blockers(self, req: CheckErasure, ctx: RequestContext) -> ErasureBlockers:
        principal = ctx.principal()
        return ErasureBlockers(blockers=await self._personal_data().blockers(principal.account_id))
