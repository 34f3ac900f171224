"""An actor's state as one caller may see it (pure).

- Contact persons' personal data (name, email, phone) only for signed-in callers, or
  when the person is marked public.
- Members for the actor's members and admins; pending invitations for its owners and
  admins.
- A person's own data, for the export of everything the platform holds about them.
"""

from __future__ import annotations

from collections.abc import Mapping

from proto import directory as api
from proto.privacy import JsonObject
from services.directory import domain
from services.directory.domain import ActorState
from services.kernel.auth import Principal


def _refs(keys: list[str], regions: Mapping[str, api.RegionRef]) -> list[api.RegionRef]:
    return [regions[k] for k in keys if k in regions]


def region_keys(state: ActorState) -> set[str]:
    """Every region an actor's reply names: for one lookup of their names."""
    keys = set(state.profile.regions)
    for offering in state.offerings.values():
        keys.update(offering.regions)
    return keys


def actor(state: ActorState, *, viewer: Principal | None, regions: Mapping[str, api.RegionRef],
          names: Mapping[str, str]) -> api.Actor:
    profile = state.profile
    role = state.role_of(viewer.account_id) if viewer else None
    admin = viewer is not None and viewer.is_admin
    members = [
        api.Member(account_id=account, role=m.role, display_name=names.get(account), joined_at=m.joined_at)
        for account, m in sorted(state.members.items(), key=lambda i: (i[1].role != "owner", i[1].joined_at))
    ] if (role or admin) else []
    invitations = [
        api.Invitation(id=i.id, email=i.email, role=i.role, invited_by=i.invited_by, created_at=i.created_at,
                       expires_at=i.expires_at)
        for i in state.invitations.values()
    ] if (role == "owner" or admin) else []
    return api.Actor(
        id=state.id,
        slug=profile.slug,
        kind=profile.kind,
        name=profile.name,
        short_name=profile.short_name,
        description=profile.description,
        website=profile.website,
        email=profile.email,
        phone=profile.phone,
        address=profile.address,
        coordinates=profile.coordinates,
        regions=_refs(profile.regions, regions),
        topics=profile.topics,
        languages=profile.languages,
        offerings=[offering(oid, o, regions) for oid, o in state.offerings.items()],
        contact_persons=[contact_person(pid, p, signed_in=viewer is not None)
                         for pid, p in state.contact_persons.items()],
        status=state.status,
        rejection_reason=state.rejection_reason,
        reviewed_at=state.reviewed_at,
        created_at=state.created_at,
        updated_at=state.updated_at,
        version=state.version,
        viewer_role=role,
        members=members,
        invitations=invitations,
    )


def offering(offering_id: str, data: api.OfferingData, regions: Mapping[str, api.RegionRef]) -> api.Offering:
    return api.Offering(
        id=offering_id, name=data.name, description=data.description, topics=data.topics,
        languages=data.languages, regions=_refs(data.regions, regions), eligibility=data.eligibility,
        email=data.email, phone=data.phone, website=data.website,
    )


def contact_person(person_id: str, data: api.ContactPersonData, *, signed_in: bool) -> api.ContactPerson:
    shown = signed_in or data.public
    return api.ContactPerson(
        id=person_id,
        name=data.name if shown else None,
        function=data.function,
        email=data.email if shown else None,
        phone=data.phone if shown else None,
        topics=data.topics,
        languages=data.languages,
        public=data.public,
        redacted=not shown,
    )


def personal_data(*, account_id: str, account: Mapping[str, str] | None, states: Mapping[str, ActorState],
                  history: list[tuple[str, api.HistoryRecord]], addresses: set[str]) -> JsonObject:
    """A person's section of a data export: the directory's copy of their account, their
    memberships, invitations to their addresses (every one the account had, folded), contact
    persons with one of them, and the changes they made. Nothing about anyone else: their
    history lines leave out a subject that names another person (whom they invited or
    listed as a contact)."""
    def name(actor_id: str) -> str | None:
        return states[actor_id].profile.name if actor_id in states else None

    ordered = sorted(states.values(), key=lambda s: (s.profile.name, s.id))
    return {
        "account": dict(account) if account else None,
        "memberships": [
            {"actor_id": s.id, "actor_name": s.profile.name, "actor_slug": s.profile.slug,
             "role": s.members[account_id].role, "joined_at": s.members[account_id].joined_at.isoformat()}
            for s in ordered if account_id in s.members
        ],
        "invitations": [
            {"actor_id": s.id, "actor_name": s.profile.name, "role": i.role, "created_at": i.created_at.isoformat(),
             "expires_at": i.expires_at.isoformat()}
            for s in ordered for key, i in s.invitations.items() if key in addresses
        ],
        "contact_entries": [
            {"actor_id": s.id, "actor_name": s.profile.name, "contact_person_id": pid, **p.model_dump(mode="json")}
            for s in ordered for pid, p in s.contact_persons.items()
            if p.email and domain.email_key(p.email) in addresses
        ],
        "history": [
            {"actor_id": actor_id, "actor_name": name(actor_id), "version": line.seq, "type": line.type,
             "occurred_at": line.occurred_at.isoformat(), "changes": list(line.changes),
             "subject": None if line.type in domain.SUBJECT_NAMES_A_PERSON else line.subject}
            for actor_id, line in history
        ],
    }
