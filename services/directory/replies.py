"""An actor's state as one caller may see it (pure).

- Contact persons' personal data (name, email, phone) only for signed-in callers, or
  when the person is marked public.
- Members for the actor's members and admins; pending invitations for its owners and
  admins.
"""

from __future__ import annotations

from collections.abc import Mapping

from proto import directory as api
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
