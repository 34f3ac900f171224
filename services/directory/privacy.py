"""What the directory holds about a person, and how it lets go of it (services/kernel/privacy.py).

Held: its copy of the account (address, display name, locale, and every address the account
confirmed before), memberships, invitations to those addresses, contact persons with them,
and the history of the actors it touched.

Erasure rewrites each actor that holds (or ever held) the person's data, so that no message
of the stream holds it any more: one `ActorRedacted` snapshot carrying the actor's whole
record and history without the person (`domain.redact`), then every earlier event of that
actor erased, each message with its bytes overwritten. Every directory replica reacts to
the same tombstone; the snapshot is appended once, because its append expects the actor's
version (a replica that decided on the same version loses, catches up, and finds nothing
left to redact) and carries a deterministic id. Erasing the earlier events is idempotent.
The account's row goes last: until then its addresses are what finds the actors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiosqlite

from proto import directory as api
from proto.envelope import Event, stable_id
from proto.privacy import ErasureBlocker, JsonObject
from services.directory import domain, replies, views
from services.kernel.commands import Decision
from services.kernel.eventstore import StoredEvent
from services.kernel.logging import get_logger
from services.kernel.readers import Database

if TYPE_CHECKING:
    from services.directory.service import DirectoryService

log = get_logger("directory.privacy")


def _events(stored: list[StoredEvent]) -> list[Event]:
    found = []
    for item in stored:
        if item.envelope is None:
            continue
        try:
            found.append(item.envelope.event())
        except KeyError:
            continue  # a newer writer's event type: it names no contact person this code knows
    return found


async def _mentioning(db: Database, addresses: set[str]) -> list[str]:
    found: list[str] = []
    for address in sorted(addresses):
        found += await views.actors_mentioning(db, address)
    return found


class DirectoryPersonalData:
    def __init__(self, service: DirectoryService):
        self._service = service

    @property
    def _db(self) -> Database:
        return self._service.db

    async def export(self, account_id: str) -> JsonObject:
        db = self._db
        account = await views.account(db, account_id)
        addresses = await views.account_addresses(db, account_id)
        history = await views.history_by(db, account_id)
        ids = [*await views.actor_ids_of_member(db, account_id), *await _mentioning(db, addresses),
               *(actor_id for actor_id, _ in history)]
        states = await views.load_actors(db, list(dict.fromkeys(ids)))
        copy = {"email": account.email, "display_name": account.display_name, "locale": account.locale} \
            if account else None
        return replies.personal_data(account_id=account_id, account=copy, states=states, history=history,
                                     addresses=addresses)

    async def blockers(self, account_id: str) -> list[ErasureBlocker]:
        states = await views.load_actors(self._db, await views.actor_ids_of_member(self._db, account_id))
        blocker = domain.erasure_blocker(domain.last_owner_of(states.values(), account_id))
        return [blocker] if blocker else []

    async def erase(self, account_id: str, db: aiosqlite.Connection) -> None:
        service = self._service
        assert service.projector is not None
        # Whatever the person did before the tombstone is in the stream; let the view have it
        # all before looking for it (a change made a moment ago may still be on its way).
        await service.projector.catch_up()
        addresses = await views.account_addresses(db, account_id)
        candidates = [*await views.actor_ids_of_member(db, account_id), *await _mentioning(db, addresses)]
        for actor_id in dict.fromkeys(candidates):
            await self._redact(actor_id, account_id, addresses)
        await views.forget_account(db, account_id)
        log.info("directory.person_erased", account_id=account_id, actors=len(set(candidates)))

    async def _redact(self, actor_id: str, account_id: str, addresses: set[str]) -> None:
        service = self._service
        assert service.store is not None and service.commands is not None
        store = service.store
        names = domain.contact_names(_events(await store.events_of(api.AGGREGATE_ACTOR, actor_id)), addresses)

        async def decision() -> Decision | None:
            state = await views.load_actor(service.db, actor_id)
            if state is None:
                return None
            mentioned = await views.mentions(service.db, actor_id, addresses)
            if not mentioned and not domain.holds_person(state, account_id, addresses):
                return None  # another replica's snapshot took it out already
            event = domain.redact(state, await views.history_records(service.db, actor_id),
                                  account_id=account_id, addresses=addresses, names=names)
            return Decision(api.AGGREGATE_ACTOR, actor_id, event, state.version,
                            event_id=stable_id("actor-redacted", actor_id, account_id))

        await service.commands.run(decision, by=None)
        # The newest snapshot carries everything before it: those events can go, and with
        # them every copy of the person's data in the stream.
        stored = await store.events_of(api.AGGREGATE_ACTOR, actor_id)
        snapshots = [s.seq for s in stored if s.envelope is not None and s.envelope.type == api.ActorRedacted.TYPE]
        if snapshots:
            erased = await store.erase([s.seq for s in stored if s.seq < snapshots[-1]])
            log.info("directory.actor_redacted", actor_id=actor_id, account_id=account_id, erased=erased)
