"""News' own views of other services' events: the directory's actors, members and regions, and
identity's accounts.

News decides who may write for which actor, and whether the actor may publish, on every
write; it names actors in feeds, checks regions and reaches items to the regions inside and
around theirs; it mails owners when an administrator withdraws an item, and shows authors'
names. None of that asks the directory or identity per request: every replica projects
`directory.events.>` and `identity.events.>` into its own SQLite file with the kernel's
projector (its own resume point in the file's `projection` table, exactly once, rebuilt
with the file) — an ordered consumer per replica, since each replica needs every event.
"""

from __future__ import annotations


import aiosqlite

from proto import directory, identity, subjects
from proto.envelope import Envelope
from services.kernel import privacy
from services.news import views



class DirectoryFacts:
    """Which of the directory's facts news keeps: actors (name, slug, status), who is owner or
    editor of which, and the regions. Other events (offerings, contact persons, invitations)
    and types newer than this code are none of news' business."""

    SCHEMA = views.SCHEMA  # the item queries join these tables: one file, one schema

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        if envelope.type not in DIRECTORY_KEPT:
            return
        event = envelope.event()
        match event:
            case directory.ActorCreated():
                await views.put_actor(db, event.actor_id, event.profile.name, event.profile.slug, "pending")
                await views.put_member(db, event.actor_id, event.owner_id, "owner")
            case directory.ActorImported():
                await views.put_actor(db, event.actor_id, event.profile.name, event.profile.slug, "approved")
            case directory.ActorUpdated():
                status = "pending" if event.resubmitted else None
                current = await views.actor(db, event.actor_id)
                await views.put_actor(db, event.actor_id, event.profile.name, event.profile.slug,
                                      status or (current.status if current else "pending"))
            case directory.ActorApproved():
                await views.set_actor_status(db, event.actor_id, "approved")
            case directory.ActorRejected():
                await views.set_actor_status(db, event.actor_id, "rejected")
            case directory.InvitationAccepted() | directory.MemberRoleChanged():
                await views.put_member(db, event.actor_id, event.account_id, event.role)
            case directory.MemberRemoved() | directory.MemberLeft():
                await views.remove_member(db, event.actor_id, event.account_id)
            case directory.RegionsImported():
                if await views.put_regions(db, event.regions):
                    await views.rebuild_reach(db)
            case directory.ActorRedacted():
                # An erased person taken out of the actor: its members are the record's now.
                record = event.actor
                await views.put_actor(db, record.id, record.profile.name, record.profile.slug, record.status)
                await views.replace_members(db, record.id, {a: m.role for a, m in record.members.items()})


DIRECTORY_KEPT = frozenset(t.TYPE for t in (
    directory.ActorCreated, directory.ActorImported, directory.ActorUpdated, directory.ActorApproved,
    directory.ActorRejected, directory.InvitationAccepted, directory.MemberRoleChanged, directory.MemberRemoved,
    directory.MemberLeft, directory.RegionsImported, directory.ActorRedacted,
))


class AccountsView:
    """Identity's facts news keeps: an account's address, locale and display name, and the
    tombstone of an erased account (noted for the eraser, services/news/privacy.py)."""

    SCHEMA = views.SCHEMA

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        await privacy.note_tombstone(db, envelope, seq, subject)
        if envelope.type not in ACCOUNTS_KEPT:
            return
        account_id = subjects.aggregate_id(subject)
        if await views.account_event_applied(db, account_id, envelope.id):
            return
        event = envelope.event()
        if isinstance(event, identity.AccountRegistered):
            await views.put_account(db, views.Account(event.account_id, event.email.casefold(), event.display_name,
                                                      event.locale), envelope.id)
        elif isinstance(event, identity.EmailConfirmed):
            await views.set_account_email(db, account_id, event.email.casefold(), envelope.id)
        elif isinstance(event, identity.ProfileUpdated):
            await views.set_account_profile(db, account_id, event.display_name, event.locale, envelope.id)


ACCOUNTS_KEPT = frozenset({identity.AccountRegistered.TYPE, identity.EmailConfirmed.TYPE,
                           identity.ProfileUpdated.TYPE})
