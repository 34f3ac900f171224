"""What every service process does at start and stop, in the same order everywhere.

stream and buckets → token verifier → view (projector) → event store → the service's own
start (reactions, mailer, key management) → the eraser, if the service holds personal
data → endpoints. Endpoints come last so that no request is answered before the view has
resumed; they go first at stop so that requests in flight finish before the view closes.

A view far behind its stream (a deleted file being rebuilt) never stops the start: the
service waits up to `startup_wait` seconds for it, then starts its endpoints anyway. Until
the view has caught up they answer UNAVAILABLE, saying how far the rebuild is, and the
service's ping (`$SRV.PING`, which the gateway's /readyz asks) says `view: catching-up`.
The views a service keeps of other services' streams in the same file (its followers,
started with `follow_stream`) count the same: an actor's members have no names until identity's
accounts are back, so the service is not ready before they are.

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
from services.kernel.follower import Follower
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
        self.followers: list[Follower] = []  # views of other streams in this file (see `follow_stream`)

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
        deadline = asyncio.get_running_loop().time() + self.settings.startup_wait
        await self._wait_for_views([self.projector], deadline)
        self.store = EventStore(self.js, self.name, self.clock)
        self.commands = CommandRunner(self.store, self.projector)
        self.client = LotseClient(nc, timeout=self.settings.request_timeout)
        await self.on_start()
        await self._wait_for_views([f.projector for f in self.followers], deadline)
        data = self.personal_data()
        if (data is not None) != self._holds_personal_data:
            raise RuntimeError(f"{self.name}: its contract and personal_data() must both declare personal data")
        if data is not None:
            self.eraser = Eraser(self.name, self.database_path, data, self.clock)
            await self.eraser.start()
        self._report_view()
        await self.endpoints.start(nc, self.verifier, gate=self._unavailable)
        if self.catching_up:
            self._tracker = asyncio.create_task(self._track_catch_up(), name=f"{self.name}-catch-up")
        log.info("service.started", service=self.name, catching_up=self.catching_up)

    async def follow_stream(self, service: str, view: View) -> Follower:
        """Keep a view of another service's stream in this service's file, from `on_start`.
        It counts for readiness as the service's own view does, and stops with the service."""
        assert self.js is not None
        follower = Follower(self.js, service, self.database_path, view, self.settings.nats_stream_replicas)
        await follower.start()
        self.followers.append(follower)
        return follower

    def _views(self) -> list[Projector]:
        own = [self.projector] if self.projector is not None else []
        return own + [f.projector for f in self.followers]

    @property
    def catching_up(self) -> bool:
        """A view of the file is still being rebuilt: its own or one of its followers'."""
        return any(p.catching_up for p in self._views())

    def _progress(self) -> tuple[int, int]:
        """Events applied and to apply, over all views of the file."""
        progress = [p.progress() for p in self._views()]
        return sum(a for a, _ in progress), sum(t for _, t in progress)

    async def _wait_for_views(self, views: list[Projector], deadline: float) -> None:
        """Give views being rebuilt until `deadline` (start-up's wait), then start anyway."""
        for projector in views:
            try:
                await asyncio.wait_for(projector.caught_up.wait(),
                                       max(0.0, deadline - asyncio.get_running_loop().time()))
            except TimeoutError:
                applied, target = projector.progress()
                log.warning("service.starting_behind", service=self.name, stream=projector.stream,
                            applied=applied, of=target)

    def _unavailable(self) -> str | None:
        """Why the service cannot answer now, or None."""
        if not self.catching_up:
            return None
        applied, target = self._progress()
        return (f"the {self.name} service is rebuilding its view ({applied:,} of {target:,} events); "
                "try again in a moment")

    def _report_view(self) -> None:
        applied, target = self._progress()
        self.endpoints.status.update(
            view="catching-up" if self.catching_up else "ready", applied=str(applied), of=str(target))

    async def _track_catch_up(self) -> None:
        while self.catching_up:
            waiting = [p for p in self._views() if p.catching_up]
            try:
                await asyncio.wait_for(waiting[0].caught_up.wait(), 1.0)
            except TimeoutError:
                pass
            self._report_view()
        log.info("service.caught_up", service=self.name, applied=self._progress()[0])

    async def stop(self) -> None:
        if self._tracker is not None:
            self._tracker.cancel()
            self._tracker = None
        await self.endpoints.stop()
        if self.eraser is not None:
            await self.eraser.stop()
        await self.on_stop()
        for follower in reversed(self.followers):
            await follower.stop()
        self.followers = []
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
