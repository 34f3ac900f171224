"""The directory's GraphQL object types, each made from its `proto.directory` reply.

Vocabulary values (actor kinds, topics) travel as their slugs, the same as on the wire;
`topics` and `actorKinds` list them with German and English labels for filters. Language
codes are ISO 639-1, regions are named by their official key (AGS).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum

import strawberry
from pydantic import ValidationError
from gateway.context import GatewayInfo

from gateway.schema.errors import ask, graphql_error
from gateway.schema.loaders import profile_loader
from proto import directory as contract
from proto.common import Q
from proto.directory import Directory
from proto.validation import invalid_from



def query_request(build: Callable[[], Q]) -> Q:
    """A query's proto request; input the contract refuses is a GraphQL error naming the field."""
    try:
        return build()
    except ValidationError as e:
        raise graphql_error(invalid_from(e)) from None

# ---- vocabularies and enums ------------------------------------------------------------


@strawberry.enum(description="Where an actor stands in review: only approved actors are public.")
class ActorStatus(Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@strawberry.enum(description="A member's role on an actor: owners also manage members; editors edit.")
class MemberRole(Enum):
    OWNER = "owner"
    EDITOR = "editor"


@strawberry.enum(description="The level of a region: state (2-digit key), district (5), municipality (8).")
class RegionLevel(Enum):
    STATE = "state"
    DISTRICT = "district"
    MUNICIPALITY = "municipality"


@strawberry.type(description="One entry of a closed vocabulary: the slug is what the API takes and returns.")
class Term:
    slug: str
    de: str = strawberry.field(description="The German label.")
    en: str = strawberry.field(description="The English label.")

    @classmethod
    def of(cls, term: contract.Term) -> "Term":
        return cls(slug=term.slug, de=term.de, en=term.en)


# ---- regions ---------------------------------------------------------------------------


@strawberry.type(description="A region named by its official municipality key (AGS).")
class RegionRef:
    ags: str
    name: str
    level: RegionLevel

    @classmethod
    def of(cls, ref: contract.RegionRef) -> "RegionRef":
        return cls(ags=ref.ags, name=ref.name, level=RegionLevel(ref.level))


@strawberry.type(description="A region, where it lies and how many regions lie directly inside it.")
class Region:
    ags: str
    name: str
    level: RegionLevel
    parent_ags: str | None
    path: list[RegionRef] = strawberry.field(description="The regions around this one, the state first.")
    child_count: int = strawberry.field(description="How many regions lie directly inside (see `regions(parent:)`).")

    @classmethod
    def of(cls, region: contract.Region) -> "Region":
        return cls(ags=region.ags, name=region.name, level=RegionLevel(region.level), parent_ags=region.parent_ags,
                   path=[RegionRef.of(r) for r in region.path], child_count=region.children)


# ---- parts of an actor -----------------------------------------------------------------


@strawberry.type
class PostalAddress:
    street: str
    postal_code: str
    locality: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")

    @classmethod
    def of(cls, address: contract.PostalAddress | None) -> "PostalAddress | None":
        if address is None:
            return None
        return cls(street=address.street, postal_code=address.postal_code, locality=address.locality,
                   country=address.country)


@strawberry.type
class Coordinates:
    latitude: float
    longitude: float

    @classmethod
    def of(cls, point: contract.Coordinates | None) -> "Coordinates | None":
        return None if point is None else cls(latitude=point.latitude, longitude=point.longitude)


@strawberry.type(description="A named service of an actor. Empty `regions`: wherever the actor serves.")
class Offering:
    id: strawberry.ID
    name: str
    description: str
    topics: list[str]
    languages: list[str]
    regions: list[RegionRef]
    eligibility: str
    email: str | None
    phone: str | None
    website: str | None

    @classmethod
    def of(cls, offering: contract.Offering) -> "Offering":
        return cls(id=strawberry.ID(offering.id), name=offering.name, description=offering.description,
                   topics=offering.topics, languages=offering.languages,
                   regions=[RegionRef.of(r) for r in offering.regions], eligibility=offering.eligibility,
                   email=offering.email, phone=offering.phone, website=offering.website)


@strawberry.type(description="A person to ask. Name, email and phone are personal data: null for anonymous "
                             "callers unless the person is public (then `redacted` is true).")
class ContactPerson:
    id: strawberry.ID
    name: str | None
    function: str | None
    email: str | None
    phone: str | None
    topics: list[str]
    languages: list[str]
    public: bool
    redacted: bool
    actor_slug: strawberry.Private[str]

    @strawberry.field(description="The person as a vCard (for the phone's address book); null when redacted.")
    def vcard_url(self, info: GatewayInfo) -> str | None:
        if self.redacted:
            return None
        return info.context.gateway.settings.link(f"/actors/{self.actor_slug}/contacts/{self.id}.vcf")

    @classmethod
    def of(cls, person: contract.ContactPerson, actor_slug: str) -> "ContactPerson":
        return cls(id=strawberry.ID(person.id), name=person.name, function=person.function, email=person.email,
                   phone=person.phone, topics=person.topics, languages=person.languages, public=person.public,
                   redacted=person.redacted, actor_slug=actor_slug)


@strawberry.type(description="What other members see of an account.")
class PublicProfile:
    id: strawberry.ID
    username: str
    display_name: str


@strawberry.type(description="A member of an actor, with the public profile of their account.")
class Member:
    account_id: strawberry.ID
    role: MemberRole
    joined_at: datetime
    known_name: strawberry.Private[str | None]

    @strawberry.field
    async def profile(self, info: GatewayInfo) -> PublicProfile | None:
        found = await profile_loader(info).load(str(self.account_id))
        if found is None:
            return None
        return PublicProfile(id=strawberry.ID(found.id), username=found.username, display_name=found.display_name)

    @strawberry.field
    async def display_name(self, info: GatewayInfo) -> str | None:
        found = await profile_loader(info).load(str(self.account_id))
        return found.display_name if found is not None else self.known_name

    @strawberry.field
    async def username(self, info: GatewayInfo) -> str | None:
        found = await profile_loader(info).load(str(self.account_id))
        return found.username if found is not None else None

    @classmethod
    def of(cls, member: contract.Member) -> "Member":
        return cls(account_id=strawberry.ID(member.account_id), role=MemberRole(member.role),
                   joined_at=member.joined_at, known_name=member.display_name)


@strawberry.type(description="A pending invitation (owners and admins see them).")
class Invitation:
    id: strawberry.ID
    email: str
    role: MemberRole
    invited_by: strawberry.ID | None
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, invitation: contract.Invitation) -> "Invitation":
        return cls(id=strawberry.ID(invitation.id), email=invitation.email, role=MemberRole(invitation.role),
                   invited_by=strawberry.ID(invitation.invited_by) if invitation.invited_by else None,
                   created_at=invitation.created_at, expires_at=invitation.expires_at)


# ---- lists -----------------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, info: contract.PageInfo) -> "PageInfo":
        return cls(has_next_page=info.has_next_page, has_previous_page=info.has_previous_page,
                   start_cursor=info.start_cursor, end_cursor=info.end_cursor)


@strawberry.type(description="One change of an actor: which event, when, by whom, which fields.")
class HistoryEntry:
    version: int
    type: str = strawberry.field(description="What happened, e.g. actor_updated, offering_added.")
    occurred_at: datetime
    changes: list[str] = strawberry.field(description="The changed fields (camelCase).")
    subject: str | None = strawberry.field(description="The offering, contact person or member it concerns.")
    by_id: strawberry.Private[str | None]
    known_name: strawberry.Private[str | None]

    @strawberry.field(description="Who made the change; null when the platform itself did.")
    async def by(self, info: GatewayInfo) -> PublicProfile | None:
        if self.by_id is None:
            return None
        found = await profile_loader(info).load(self.by_id)
        if found is None:
            return PublicProfile(id=strawberry.ID(self.by_id), username="", display_name=self.known_name or "")
        return PublicProfile(id=strawberry.ID(found.id), username=found.username, display_name=found.display_name)

    @classmethod
    def of(cls, entry: contract.HistoryEntry) -> "HistoryEntry":
        return cls(version=entry.version, type=entry.type, occurred_at=entry.occurred_at, changes=entry.changes,
                   subject=entry.subject, by_id=entry.by, known_name=entry.by_display_name)


@strawberry.type
class ActorHistory:
    entries: list[HistoryEntry] = strawberry.field(description="Newest first.")
    page_info: PageInfo


# ---- the actor -------------------------------------------------------------------------


@strawberry.type(description="An organisation or authority in the directory, as the caller may see it.")
class Actor:
    id: strawberry.ID
    slug: str
    kind: str = strawberry.field(description="A slug of the `actorKinds` vocabulary.")
    name: str
    short_name: str | None
    description: str
    website: str | None
    email: str | None
    phone: str | None
    address: PostalAddress | None
    coordinates: Coordinates | None
    regions: list[RegionRef] = strawberry.field(description="Where the actor serves (and every region inside).")
    topics: list[str] = strawberry.field(description="Slugs of the `topics` vocabulary.")
    languages: list[str] = strawberry.field(description="ISO 639-1 codes.")
    offerings: list[Offering]
    contact_persons: list[ContactPerson]
    status: ActorStatus
    rejection_reason: str | None
    reviewed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(description="Send back as `expectedVersion` when updating.")
    viewer_role: MemberRole | None = strawberry.field(description="The caller's role on this actor, if any.")
    members: list[Member] = strawberry.field(description="Only for the actor's members and admins; else empty.")
    invitations: list[Invitation] = strawberry.field(description="Only for the actor's owners and admins.")

    @strawberry.field(description="Owners and admins: who changed what, when (newest first). Null, with a "
                                  "FORBIDDEN error, for anyone else.")
    async def history(self, info: GatewayInfo, first: int = 50, after: str | None = None) -> ActorHistory | None:
        request = query_request(lambda: contract.GetActorHistory(actor_id=str(self.id), first=first, after=after))
        reply = await ask(info, request, Directory.actor_history)
        return ActorHistory(entries=[HistoryEntry.of(e) for e in reply.entries], page_info=PageInfo.of(reply.page_info))

    @classmethod
    def of(cls, actor: contract.Actor) -> "Actor":
        return cls(
            id=strawberry.ID(actor.id), slug=actor.slug, kind=actor.kind, name=actor.name,
            short_name=actor.short_name, description=actor.description, website=actor.website,
            email=actor.email, phone=actor.phone, address=PostalAddress.of(actor.address),
            coordinates=Coordinates.of(actor.coordinates), regions=[RegionRef.of(r) for r in actor.regions],
            topics=actor.topics, languages=actor.languages,
            offerings=[Offering.of(o) for o in actor.offerings],
            contact_persons=[ContactPerson.of(p, actor.slug) for p in actor.contact_persons],
            status=ActorStatus(actor.status), rejection_reason=actor.rejection_reason,
            reviewed_at=actor.reviewed_at, created_at=actor.created_at, updated_at=actor.updated_at,
            version=actor.version, viewer_role=MemberRole(actor.viewer_role) if actor.viewer_role else None,
            members=[Member.of(m) for m in actor.members],
            invitations=[Invitation.of(i) for i in actor.invitations],
        )


@strawberry.type
class ActorEdge:
    cursor: str
    node: Actor


@strawberry.type(description="How many actors matching the whole query and filter have each value.")
class FacetCount:
    value: str
    count: int


@strawberry.type
class ActorFacets:
    kinds: list[FacetCount]
    topics: list[FacetCount]
    languages: list[FacetCount]


def _counts(counts: list[contract.FacetCount]) -> list[FacetCount]:
    return [FacetCount(value=c.value, count=c.count) for c in counts]


@strawberry.type(description="A page of actors (Relay connection), with counts over all matches.")
class ActorConnection:
    edges: list[ActorEdge]
    page_info: PageInfo
    counted: strawberry.Private[int | None]
    counted_facets: strawberry.Private[contract.Facets | None]

    # Counted by the directory only when the query selects them (Query.actors).
    @strawberry.field
    def total_count(self) -> int:
        assert self.counted is not None
        return self.counted

    @strawberry.field
    def facets(self) -> ActorFacets:
        assert self.counted_facets is not None
        f = self.counted_facets
        return ActorFacets(kinds=_counts(f.kinds), topics=_counts(f.topics), languages=_counts(f.languages))

    @classmethod
    def of(cls, reply: contract.ActorConnection) -> "ActorConnection":
        return cls(
            edges=[ActorEdge(cursor=e.cursor, node=Actor.of(e.node)) for e in reply.edges],
            page_info=PageInfo.of(reply.page_info), counted=reply.total_count, counted_facets=reply.facets,
        )


@strawberry.type(description="An actor responsible for a topic in a region, and by which region it serves it.")
class ResponsibleActor:
    actor: Actor
    served_via: RegionRef = strawberry.field(description="The most specific region by which the actor serves.")
    offerings: list[Offering] = strawberry.field(description="The actor's offerings on the topic there.")

    @classmethod
    def of(cls, entry: contract.ResponsibleActor) -> "ResponsibleActor":
        actor = Actor.of(entry.actor)
        wanted = set(entry.offering_ids)
        return cls(actor=actor, served_via=RegionRef.of(entry.served_via),
                   offerings=[o for o in actor.offerings if str(o.id) in wanted])


@strawberry.type
class ResponsibleActorEdge:
    cursor: str
    node: ResponsibleActor


@strawberry.type(description="Who serves a topic in a region (Relay connection): most specific first — "
                             "municipal, district, state — then by name.")
class ResponsibleActorConnection:
    region: Region
    edges: list[ResponsibleActorEdge]
    page_info: PageInfo
    counted: strawberry.Private[int | None]

    @strawberry.field(description="How many actors serve there in all.")
    def total_count(self) -> int:
        assert self.counted is not None  # asked for whenever selected (Query.responsibleActors)
        return self.counted

    @classmethod
    def of(cls, reply: contract.ResponsibleActorConnection) -> "ResponsibleActorConnection":
        return cls(region=Region.of(reply.region),
                   edges=[ResponsibleActorEdge(cursor=e.cursor, node=ResponsibleActor.of(e.node))
                          for e in reply.edges],
                   page_info=PageInfo.of(reply.page_info), counted=reply.total_count)


@strawberry.type
class TopicCoverage:
    topic: str
    actors: int = strawberry.field(
        description="Approved actors serving the topic in the region (themselves or by an offering).")
    offerings: int = strawberry.field(description="Offerings on the topic serving the region.")


@strawberry.type(description="Per topic, who serves a region; and the topics nobody serves there.")
class RegionCoverage:
    region: Region
    topics: list[TopicCoverage] = strawberry.field(description="Every topic of the vocabulary, in its order.")
    uncovered: list[str] = strawberry.field(description="Topics no approved actor or offering serves here.")

    @classmethod
    def of(cls, reply: contract.RegionCoverage) -> "RegionCoverage":
        return cls(region=Region.of(reply.region),
                   topics=[TopicCoverage(topic=t.topic, actors=t.actors, offerings=t.offerings) for t in reply.topics],
                   uncovered=reply.uncovered)
