"""The directory's own view of accounts (email, locale, display name), from identity's events.

The directory mails owners about decisions on their actors, checks that an invited
address is not a member already, and shows members' names — without asking identity on
every request. Every replica needs every account, so this is a projection of the
`IDENTITY` stream into the directory's SQLite file (the kernel's projector: its own
resume point in the same `projection` table, exactly once, rebuilt with the file), not a
durable consumer shared by the replicas, which would hand each replica only some events.
Applying is idempotent by event id as well: a row remembers the last event that set it.

An erased account's tombstone is noted for the eraser (services/kernel/privacy.py), which
takes the person out of the actors and only then drops the row: it needs the address.
"""

from __future__ import annotations


import aiosqlite

from proto import identity, subjects
from proto.envelope import Envelope
from services.directory import views
from services.kernel import privacy



class AccountsView:
    """The projector's view of `IDENTITY` in the directory's file: which of identity's facts
    the directory keeps. Only three, and the tombstone of an erased account; identity's
    other events (sessions, passwords) and types newer than this code are none of the
    directory's business."""

    SCHEMA = views.ACCOUNTS_SCHEMA

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        await privacy.note_tombstone(db, envelope, seq, subject)
        if envelope.type not in KEPT:
            return
        account_id = subjects.aggregate_id(subject)
        if await views.account_event_applied(db, account_id, envelope.id):
            return
        event = envelope.event()
        if isinstance(event, identity.AccountRegistered):
            account = views.Account(event.account_id, event.email.casefold(), event.display_name, event.locale)
            await views.put_account(db, account, envelope.id)
        elif isinstance(event, identity.EmailConfirmed):
            # A confirmed change of address is the account's address from now on.
            await views.set_account_email(db, account_id, event.email.casefold(), envelope.id)
        elif isinstance(event, identity.ProfileUpdated):
            await views.set_account_profile(db, account_id, event.display_name, event.locale, envelope.id)


KEPT = frozenset({identity.AccountRegistered.TYPE, identity.EmailConfirmed.TYPE, identity.ProfileUpdated.TYPE})
