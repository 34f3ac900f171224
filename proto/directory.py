"""Directory's contract: actors, their offerings, contact persons and members; regions; search.

Vocabularies (actor kinds, topics, region levels) are closed: the slug is the wire value,
the labels are what people read. Languages are ISO 639-1 codes ("de", "ar", "uk").
Regions are named by their official municipality key (AGS): 2 digits for a state,
5 for a district, 8 for a municipality.

Region semantics, the same in every query: an actor that serves a region serves all the
regions inside it (a district actor serves the district's municipalities; a statewide
actor serves the whole state).

Partial updates (`update_actor`, `update_offering`, `update_contact_person`): a field that
is null (or not sent) stays as it is; a value replaces it (an empty list empties a list);
an optional field is emptied by naming it in `clear`. Explicit, so that no serializer's
habit of sending every field as null can erase anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from proto.common import Accepted, Endpoint, Locale, Reply, Request
from proto.envelope import Event
from proto.privacy import PersonalDataContract

SERVICE = "directory"


class Term(BaseModel):
    """One entry of a closed vocabulary."""

    model_config = ConfigDict(frozen=True)

    slug: str
    de: str
    en: str


# ---- vocabularies -------------------------------------------------------------------

ACTOR_KINDS: tuple[Term, ...] = (
    Term(slug="state-authority", de="Landesministerium oder Landesbehörde", en="State ministry or authority"),
    Term(slug="district", de="Landkreis", en="District"),
    Term(slug="municipality", de="Kommune", en="Municipality"),
    Term(slug="job-centre", de="Jobcenter oder Agentur für Arbeit", en="Job centre or employment agency"),
    Term(slug="housing-company", de="Wohnungsunternehmen", en="Housing company"),
    Term(slug="housing-cooperative", de="Wohnungsbaugenossenschaft", en="Housing cooperative"),
    Term(slug="welfare-association", de="Wohlfahrtsverband", en="Welfare association"),
    Term(slug="migrant-organisation", de="Migrantenorganisation", en="Migrant organisation"),
    Term(slug="counselling-service", de="Beratungsstelle", en="Counselling service"),
    Term(slug="recognition-advice", de="Anerkennungsberatung", en="Recognition advice"),
    Term(slug="language-course-provider", de="Sprachkursträger", en="Language-course provider"),
    Term(slug="education-provider", de="Bildungs- oder Weiterbildungsträger", en="Education or training provider"),
    Term(slug="volunteer-initiative", de="Ehrenamtliche Initiative", en="Volunteer initiative"),
    Term(slug="business-association", de="Wirtschaftsverband oder Kammer", en="Business association"),
    Term(slug="other", de="Sonstige", en="Other"),
)

TOPICS: tuple[Term, ...] = (
    Term(slug="housing", de="Wohnen", en="Housing"),
    Term(slug="language-courses", de="Sprachkurse", en="Language courses"),
    Term(slug="integration-courses", de="Integrationskurse", en="Integration courses"),
    Term(
        slug="recognition-of-qualifications",
        de="Anerkennung ausländischer Abschlüsse",
        en="Recognition of foreign qualifications",
    ),
    Term(slug="employment", de="Arbeit und Beschäftigung", en="Work and employment"),
    Term(slug="vocational-training", de="Ausbildung", en="Vocational training"),
    Term(slug="education", de="Schule und Bildung", en="School and education"),
    Term(slug="childcare", de="Kinderbetreuung", en="Childcare"),
    Term(slug="asylum-procedure-counselling", de="Asylverfahrensberatung", en="Asylum procedure counselling"),
    Term(slug="residence-law", de="Aufenthaltsrecht", en="Residence law"),
    Term(slug="family-reunification", de="Familiennachzug", en="Family reunification"),
    Term(slug="naturalisation", de="Einbürgerung", en="Naturalisation"),
    Term(slug="social-benefits", de="Sozialleistungen", en="Social benefits"),
    Term(slug="social-counselling", de="Sozialberatung", en="Social counselling"),
    Term(slug="legal-advice", de="Rechtsberatung", en="Legal advice"),
    Term(slug="health", de="Gesundheit", en="Health"),
    Term(slug="psychosocial-support", de="Psychosoziale Unterstützung", en="Psychosocial support"),
    Term(slug="anti-discrimination", de="Antidiskriminierung", en="Anti-discrimination"),
    Term(slug="women-and-girls", de="Frauen und Mädchen", en="Women and girls"),
    Term(slug="youth", de="Jugend", en="Youth"),
    Term(slug="family", de="Familie", en="Family"),
    Term(slug="volunteering", de="Ehrenamt", en="Volunteering"),
    Term(slug="mentoring", de="Mentoring und Lotsen", en="Mentoring and guides"),
    Term(slug="interpreting", de="Dolmetschen und Sprachmittlung", en="Interpreting and language mediation"),
)

REGION_LEVELS: tuple[Term, ...] = (
    Term(slug="state", de="Bundesland", en="State"),
    Term(slug="district", de="Landkreis oder kreisfreie Stadt", en="District"),
    Term(slug="municipality", de="Gemeinde", en="Municipality"),
)

ACTOR_KIND_SLUGS = tuple(t.slug for t in ACTOR_KINDS)
TOPIC_SLUGS = tuple(t.slug for t in TOPICS)

# Subscripting Literal with a tuple is the same as listing its items: the vocabulary above
# stays the single place where a slug is spelled.
ActorKind = Literal[ACTOR_KIND_SLUGS]  # type: ignore[valid-type]
Topic = Literal[TOPIC_SLUGS]  # type: ignore[valid-type]
RegionLevel = Literal["state", "district", "municipality"]
ActorStatus = Literal["pending", "approved", "rejected"]
MemberRole = Literal["owner", "editor"]

# ---- field types ----------------------------------------------------------------------
# Shape only (lengths, vocabularies). What a value means (a real language code, a
# dialable phone number, an http(s) address, no markup) is checked by the directory's
# domain, which names the field the same way.

Id = Annotated[str, Field(min_length=1, max_length=64)]
Ags = Annotated[str, Field(min_length=1, max_length=12)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Slug = Annotated[str, StringConstraints(min_length=2, max_length=80, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Description = Annotated[str, Field(max_length=5000)]
Note = Annotated[str, Field(max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
EmailText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Function = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LanguageCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)]
Topics = Annotated[list[Topic], Field(max_length=40)]
Languages = Annotated[list[LanguageCode], Field(max_length=60)]
Regions = Annotated[list[Ags], Field(max_length=500)]
Query = Annotated[str, Field(max_length=200)]
First = Annotated[int, Field(ge=1, le=100)]
Cursor = Annotated[str, Field(max_length=200)]


class PostalAddress(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    street: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10)] = ""
    locality: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "DE"  # ISO 3166-1 alpha-2


class Coordinates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]


# ---- field groups: each entity's fields, spelled once ---------------------------------
# The event data, the create request and the reply of an entity share its group; what
# differs between them (an id, the slug, regions as keys or as named references) is
# declared where it differs. A partial update (`UpdateActor` …) names the same fields once
# more, each optional: pydantic has no typed "all optional" of a model.

class ActorDetails(BaseModel):
    """What owners and editors say about an actor, besides its slug and regions."""

    kind: ActorKind
    name: Name
    short_name: ShortName | None = None
    description: Description = ""
    website: Url | None = None
    email: EmailText | None = None
    phone: Phone | None = None
    address: PostalAddress | None = None
    coordinates: Coordinates | None = None
    topics: Topics = []
    languages: Languages = []


class OfferingDetails(BaseModel):
    """What an offering says, besides where it is offered."""

    name: Name
    description: Description = ""
    topics: Topics = []
    languages: Languages = []
    eligibility: Note = ""
    email: EmailText | None = None
    phone: Phone | None = None
    website: Url | None = None


class ContactPersonDetails(BaseModel):
    """A person to ask. Name, email and phone are personal data: shown to signed-in
    people only, unless `public`."""

    name: Name
    function: Function | None = None
    email: EmailText | None = None
    phone: Phone | None = None
    topics: Topics = []
    languages: Languages = []
    public: bool = False


# ---- what events carry ----------------------------------------------------------------

class ActorProfile(ActorDetails):
    """Everything about an actor that its owners and editors edit, as one value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    regions: Regions = []


class OfferingData(OfferingDetails):
    """A named service of an actor (HSDS "service"). Empty `regions`: where the actor serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: Regions = []


class ContactPersonData(ContactPersonDetails):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ags: Ags
    name: Name
    level: RegionLevel
    parent_ags: Ags | None = None


# ---- replies --------------------------------------------------------------------------

class RegionRef(Reply):
    ags: str
    name: str
    level: RegionLevel


class Region(Reply):
    ags: str
    name: str
    level: RegionLevel
    parent_ags: str | None
    path: list[RegionRef] = []  # the ancestors, state first
    children: int = 0  # how many regions lie directly inside


class RegionList(Reply):
    regions: list[Region]


class Offering(Reply, OfferingDetails):
    id: str
    regions: list[RegionRef]  # empty: wherever the actor serves


class ContactPerson(Reply):
    """`redacted`: the caller may not see this person's personal data (name, email, phone).

    Not built on `ContactPersonDetails`: the personal fields are optional here (redacted)."""

    id: str
    name: str | None
    function: str | None
    email: str | None
    phone: str | None
    topics: list[str]
    languages: list[str]
    public: bool
    redacted: bool


class Member(Reply):
    account_id: str
    role: MemberRole
    display_name: str | None
    joined_at: datetime


class Invitation(Reply):
    id: str
    email: str
    role: MemberRole
    invited_by: str | None
    created_at: datetime
    expires_at: datetime


class Actor(Reply, ActorDetails):
    """An actor as the caller may see it.

    `members` only for the actor's members and admins; `invitations` only for its owners
    and admins; `version` is what `update_*` commands send back as `expected_version`;
    `added_id` names the offering or contact person that an `add_*` command just created.
    """

    id: str
    slug: str
    regions: list[RegionRef]
    offerings: list[Offering]
    contact_persons: list[ContactPerson]
    status: ActorStatus
    rejection_reason: str | None
    reviewed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    added_id: str | None = None
    version: int
    viewer_role: MemberRole | None
    members: list[Member]
    invitations: list[Invitation]


class ActorList(Reply):
    actors: list[Actor]


class PageInfo(Reply):
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


class ActorEdge(Reply):
    cursor: str
    node: Actor


class FacetCount(Reply):
    value: str
    count: int


class Facets(Reply):
    """Counts over every actor that matches the current query and filter (not just the page)."""

    kinds: list[FacetCount]
    topics: list[FacetCount]
    languages: list[FacetCount]


class ActorConnection(Reply):
    """`total_count` and `facets` only when asked for (`SearchActors.with_total`, `with_facets`)."""

    edges: list[ActorEdge]
    page_info: PageInfo
    total_count: int | None = None
    facets: Facets | None = None


class ResponsibleActor(Reply):
    actor: Actor
    served_via: RegionRef  # the most specific region by which the actor serves the asked one
    offering_ids: list[str]  # the actor's offerings on the topic there


class ResponsibleActorEdge(Reply):
    cursor: str
    node: ResponsibleActor


class ResponsibleActorConnection(Reply):
    """Municipal first, then district, then state; then by name. `total_count` only when asked for."""

    region: Region
    edges: list[ResponsibleActorEdge]
    page_info: PageInfo
    total_count: int | None = None


class TopicCoverage(Reply):
    topic: str
    actors: int
    offerings: int


class RegionCoverage(Reply):
    region: Region
    topics: list[TopicCoverage]  # every topic of the vocabulary, in its order
    uncovered: list[str]  # topics no approved actor or offering serves here


class HistoryEntry(Reply):
    version: int  # stream sequence of the event
    type: str  # event type without the service prefix, e.g. "actor_updated"
    occurred_at: datetime
    by: str | None
    by_display_name: str | None
    changes: list[str]  # camelCase names of the changed fields
    subject: str | None  # the offering, contact person or member it concerns


class ActorHistory(Reply):
    entries: list[HistoryEntry]  # newest first
    page_info: PageInfo


class Vocabulary(Reply):
    terms: list[Term]


class ActorExport(Reply):
    """One page of the public directory; `next_after`: send it as `after` for the next page,
    None when this was the last."""

    actors: list[Actor]
    next_after: str | None


class InvitationSummary(Reply):
    """What an invitation link's page may show before anyone signs in: nothing more."""

    actor_name: str
    role: MemberRole


class ImportProblem(Reply):
    """What is wrong with one row of an actor import; `row` counts from 0 in `actors`."""

    row: int
    field: str | None  # camelCase, as everywhere
    message: str


class ImportedActor(Reply):
    """`new`: a dry run would create it; `created`: it was; `unchanged`: the same actor is
    in the directory already (an import run twice), so nothing is written for it."""

    row: int
    actor_id: str | None
    slug: str
    outcome: Literal["new", "created", "unchanged"]


class ActorsImportReport(Reply):
    """`committed`: the rows were written. Never true while `problems` is not empty: a
    batch with one bad row writes nothing."""

    committed: bool
    actors: list[ImportedActor]
    problems: list[ImportProblem]


class RegionsImportSummary(Reply):
    states: int
    created: int
    updated: int
    unchanged: int


# ---- requests: reading ----------------------------------------------------------------

class ActorFilter(BaseModel):
    """`region`: actors active in it — serving it, a region around it, or a region inside
    it. `status`: anonymous callers see approved actors only; members also their own
    actors; admins every actor. Unset: approved."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[ActorKind] = Field(default=[], max_length=20)
    topics: list[Topic] = Field(default=[], max_length=40)
    languages: list[LanguageCode] = Field(default=[], max_length=60)
    region: Ags | None = None
    status: list[ActorStatus] = Field(default=[], max_length=3)


class SearchActors(Request):
    """Full text fit for German (umlauts and ß match their ASCII spellings, parts of
    compounds match), ranked by relevance then name; without `query`, by name."""

    query: Query | None = None
    filter: ActorFilter = ActorFilter()
    first: First = 20
    after: Cursor | None = None
    with_total: bool = True  # count every match (`total_count`)
    with_facets: bool = True  # count per kind, topic and language (`facets`)


class ResponsibleActors(Request):
    topic: Topic
    region: Ags
    languages: Languages = []  # any of them; empty: any language
    first: First = 20
    after: Cursor | None = None
    with_total: bool = True


class GetRegionCoverage(Request):
    region: Ags


class GetActor(Request):
    """By `id` or by `slug`, exactly one."""

    id: Id | None = None
    slug: Annotated[str, Field(max_length=80)] | None = None


class GetActors(Request):
    """For DataLoaders: the visible ones among `ids`, in no promised order."""

    ids: list[Id] = Field(max_length=200)


class MyActors(Request):
    """The caller's actors, in any status."""


class GetRegion(Request):
    ags: Ags


class ListRegions(Request):
    """Without `parent`: the states. `query` narrows by name (umlauts folded)."""

    parent: Ags | None = None
    level: RegionLevel | None = None
    query: Annotated[str, Field(max_length=100)] | None = None


class GetActorHistory(Request):
    actor_id: Id
    first: First = 50
    after: Cursor | None = None


class ListTopics(Request):
    pass


class ListKinds(Request):
    pass


class ExportActors(Request):
    """The public directory as anyone may see it, whoever asks: approved actors only, and
    contact persons' personal data only where the person is public. In id order, one page
    at a time (a page must fit one NATS message); `after`: the previous page's `next_after`."""

    after: Id | None = None
    first: Annotated[int, Field(ge=1, le=100)] = 50


class DescribeInvitation(Request):
    """For the invitation link's page: which actor invites, as which role. Unknown, used,
    replaced and expired tokens all answer the same NOT_FOUND."""

    token: Annotated[str, Field(min_length=1, max_length=200)]


# ---- requests: writing ----------------------------------------------------------------

class CreateActor(Request, ActorDetails):
    """The caller becomes the owner; the actor is pending until an admin approves it.
    Without `slug`, one is made from the name.

    `idempotency_key`: the client's name for this creation (GraphQL `clientMutationId`). A
    retry with the same key by the same caller — after a lost reply, say — answers with the
    actor the first request created, as it is now, instead of creating a second one."""

    slug: Slug | None = None
    regions: Regions = Field(min_length=1, max_length=500)
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None


ActorClearable = Literal["short_name", "website", "email", "phone", "address", "coordinates"]
OfferingClearable = Literal["email", "phone", "website"]
ContactPersonClearable = Literal["function", "email", "phone"]


class UpdateActor(Request):
    """`expected_version`: the `version` the editor saw; a newer one answers CONFLICT.
    Editing a rejected actor submits it for review again (pending)."""

    actor_id: Id
    expected_version: int
    clear: list[ActorClearable] = Field(default=[], max_length=6)
    kind: ActorKind | None = None
    name: Name | None = None
    short_name: ShortName | None = None
    slug: Slug | None = None
    description: Description | None = None
    website: Url | None = None
    email: EmailText | None = None
    phone: Phone | None = None
    address: PostalAddress | None = None
    coordinates: Coordinates | None = None
    regions: Regions | None = None
    topics: Topics | None = None
    languages: Languages | None = None


class ApproveActor(Request):
    actor_id: Id


class RejectActor(Request):
    actor_id: Id
    reason: Reason


class AddOffering(Request, OfferingDetails):
    actor_id: Id
    expected_version: int | None = None
    regions: Regions = []


class UpdateOffering(Request):
    actor_id: Id
    offering_id: Id
    expected_version: int | None = None
    clear: list[OfferingClearable] = Field(default=[], max_length=3)
    name: Name | None = None
    description: Description | None = None
    topics: Topics | None = None
    languages: Languages | None = None
    regions: Regions | None = None
    eligibility: Note | None = None
    email: EmailText | None = None
    phone: Phone | None = None
    website: Url | None = None


class RemoveOffering(Request):
    actor_id: Id
    offering_id: Id
    expected_version: int | None = None


class AddContactPerson(Request, ContactPersonDetails):
    actor_id: Id
    expected_version: int | None = None


class UpdateContactPerson(Request):
    actor_id: Id
    contact_person_id: Id
    expected_version: int | None = None
    clear: list[ContactPersonClearable] = Field(default=[], max_length=3)
    name: Name | None = None
    function: Function | None = None
    email: EmailText | None = None
    phone: Phone | None = None
    topics: Topics | None = None
    languages: Languages | None = None
    public: bool | None = None


class RemoveContactPerson(Request):
    actor_id: Id
    contact_person_id: Id
    expected_version: int | None = None


class InviteMember(Request):
    """Mails a single-use link valid 72 hours; a repeated invitation replaces the older.
    `locale`: of the mail, when the address belongs to no known account."""

    actor_id: Id
    email: EmailText
    role: MemberRole = "editor"
    locale: Locale = "de"


class AcceptInvitation(Request):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class ChangeMemberRole(Request):
    actor_id: Id
    account_id: Id
    role: MemberRole


class RemoveMember(Request):
    actor_id: Id
    account_id: Id


class LeaveActor(Request):
    actor_id: Id


class ImportRegions(Request):
    """Operator (NATS permissions) or admin: a regions CSV (`ags,name,level,parent_ags`,
    `#` comments). Regions are created or renamed, never deleted. The CLI sends a large
    file one state at a time (`services.directory.regions.split_by_state`)."""

    csv: Annotated[str, Field(min_length=1, max_length=240_000)]


class ImportActors(Request):
    """Operator only (NATS permissions; `lotse admin import-actors`): actors from a
    partner's list, approved at once and owned by nobody until an admin invites an owner.

    Each row has the fields of `create_actor`; without `slug`, one is made from the name.
    A row whose name or slug an actor already holds is a problem, unless that actor has
    exactly the row's profile (the same file imported again): then it is `unchanged`.
    `commit` false (the default) only checks. The CLI sends a large file in several
    requests, all checked before any is committed."""

    actors: list[CreateActor] = Field(min_length=1, max_length=200)
    commit: bool = False


class Directory(PersonalDataContract):
    """directory's endpoints: `client.directory.<verb>(request, caller)`; `Directory.<verb>` describes one."""

    service = SERVICE

    search_actors = Endpoint(SearchActors, ActorConnection, "Find actors: full text, filters, facets.", repeatable=True)
    responsible_actors = Endpoint(
        ResponsibleActors, ResponsibleActorConnection, "Who serves a topic in a region, most specific first.",
        repeatable=True,
    )
    region_coverage = Endpoint(
        GetRegionCoverage, RegionCoverage, "Per topic, how many actors and offerings serve a region.",
        repeatable=True,
    )
    get_actor = Endpoint(GetActor, Actor, "One actor by id or slug.", repeatable=True)
    get_actors = Endpoint(GetActors, ActorList, "Visible actors by id (for DataLoaders).", repeatable=True)
    my_actors = Endpoint(MyActors, ActorList, "The caller's actors.", repeatable=True)
    get_region = Endpoint(GetRegion, Region, "One region by its key (AGS).", repeatable=True)
    list_regions = Endpoint(ListRegions, RegionList, "The regions inside one, or the states.", repeatable=True)
    actor_history = Endpoint(
        GetActorHistory, ActorHistory, "Owners and admins: who changed what, when.",
        repeatable=True,
    )
    list_topics = Endpoint(ListTopics, Vocabulary, "The topic vocabulary.", repeatable=True)
    list_kinds = Endpoint(ListKinds, Vocabulary, "The actor-kind vocabulary.", repeatable=True)
    export_actors = Endpoint(
        ExportActors, ActorExport, "The public directory, page by page (for open-data exports).",
        repeatable=True,
    )
    describe_invitation = Endpoint(
        DescribeInvitation, InvitationSummary, "An invitation link's actor name and role.",
        repeatable=True,
    )
    create_actor = Endpoint(CreateActor, Actor, "Create a pending actor; the caller owns it.")
    update_actor = Endpoint(UpdateActor, Actor, "Owners and editors: change the profile.")
    approve_actor = Endpoint(ApproveActor, Actor, "Admin: approve; mails the owners.")
    reject_actor = Endpoint(RejectActor, Actor, "Admin: reject with a reason; mails the owners.")
    add_offering = Endpoint(AddOffering, Actor, "Owners and editors: add an offering.")
    update_offering = Endpoint(UpdateOffering, Actor, "Owners and editors: change an offering.")
    remove_offering = Endpoint(RemoveOffering, Actor, "Owners and editors: remove an offering.")
    add_contact_person = Endpoint(AddContactPerson, Actor, "Owners and editors: add a contact person.")
    update_contact_person = Endpoint(UpdateContactPerson, Actor, "Owners and editors: change a contact person.")
    remove_contact_person = Endpoint(RemoveContactPerson, Actor, "Owners and editors: remove a contact person.")
    invite_member = Endpoint(InviteMember, Invitation, "Owners: mail an invitation link.")
    accept_invitation = Endpoint(AcceptInvitation, Actor, "Join an actor by an invitation link's token.")
    change_member_role = Endpoint(ChangeMemberRole, Actor, "Owners: make a member owner or editor.")
    remove_member = Endpoint(RemoveMember, Actor, "Owners: remove a member.")
    leave_actor = Endpoint(LeaveActor, Accepted, "Stop being a member (not as the last owner).")
    import_regions = Endpoint(
        ImportRegions, RegionsImportSummary, "Operator or admin: import regions from CSV.",
        repeatable=True,
    )
    import_actors = Endpoint(
        ImportActors, ActorsImportReport, "Operator: check or import approved, unowned actors.",
        repeatable=True,
    )


ENDPOINTS = Directory.endpoints()


# ---- events: subject directory.events.actor.<actor_id> --------------------------------
# Every event names its actor, so a consumer (news: who may write for which actor) needs
# no subject parsing. Membership: ActorCreated (the owner; ActorImported has none),
# InvitationAccepted (joins), MemberRoleChanged, MemberRemoved, MemberLeft.

class ActorCreated(Event):
    TYPE = "directory.actor_created"
    actor_id: str
    owner_id: str
    profile: ActorProfile


class ActorImported(Event):
    """Created and approved in one step by an operator's import; no members yet (an admin
    invites the first owner)."""

    TYPE = "directory.actor_imported"
    actor_id: str
    profile: ActorProfile


class ActorUpdated(Event):
    """The whole profile after the change; `changed` names what differs (snake_case)."""

    TYPE = "directory.actor_updated"
    actor_id: str
    profile: ActorProfile
    changed: list[str]
    resubmitted: bool = False  # a rejected actor went back to pending


class ActorApproved(Event):
    TYPE = "directory.actor_approved"
    actor_id: str


class ActorRejected(Event):
    TYPE = "directory.actor_rejected"
    actor_id: str
    reason: str


class OfferingAdded(Event):
    TYPE = "directory.offering_added"
    actor_id: str
    offering_id: str
    offering: OfferingData


class OfferingUpdated(Event):
    TYPE = "directory.offering_updated"
    actor_id: str
    offering_id: str
    offering: OfferingData
    changed: list[str]


class OfferingRemoved(Event):
    TYPE = "directory.offering_removed"
    actor_id: str
    offering_id: str


class ContactPersonAdded(Event):
    TYPE = "directory.contact_person_added"
    actor_id: str
    contact_person_id: str
    person: ContactPersonData


class ContactPersonUpdated(Event):
    TYPE = "directory.contact_person_updated"
    actor_id: str
    contact_person_id: str
    person: ContactPersonData
    changed: list[str]


class ContactPersonRemoved(Event):
    TYPE = "directory.contact_person_removed"
    actor_id: str
    contact_person_id: str


class MemberInvited(Event):
    """Only the token's SHA-256 hash; an earlier invitation of the same address is void."""

    TYPE = "directory.member_invited"
    actor_id: str
    invitation_id: str
    email: str  # lower-cased
    role: MemberRole
    token_hash: str
    expires_at: datetime
    replaces: str | None = None


class InvitationAccepted(Event):
    TYPE = "directory.invitation_accepted"
    actor_id: str
    invitation_id: str
    account_id: str
    role: MemberRole


class MemberRoleChanged(Event):
    TYPE = "directory.member_role_changed"
    actor_id: str
    account_id: str
    role: MemberRole


class MemberRemoved(Event):
    TYPE = "directory.member_removed"
    actor_id: str
    account_id: str


class MemberLeft(Event):
    TYPE = "directory.member_left"
    actor_id: str
    account_id: str


# ---- an actor's whole record: the state commands decide on, and the redaction snapshot ---

class MemberRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: MemberRole
    joined_at: datetime


class InvitationRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    email: str
    role: MemberRole
    token_hash: str
    expires_at: datetime
    invited_by: str | None
    created_at: datetime


class ActorRecord(BaseModel):
    """One actor as its events made it (services/directory/domain.py's `ActorState` is this
    with its rules). `version`: stream sequence of its last event."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: int
    profile: ActorProfile
    status: ActorStatus = "pending"
    rejection_reason: str | None = None
    reviewed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    offerings: dict[str, OfferingData] = {}
    contact_persons: dict[str, ContactPersonData] = {}
    members: dict[str, MemberRecord] = {}  # account id →
    invitations: dict[str, InvitationRecord] = {}  # lower-cased email →


class HistoryRecord(BaseModel):
    """One line of an actor's history as the view keeps it (`HistoryEntry` without names)."""

    model_config = ConfigDict(frozen=True)

    seq: int
    type: str
    occurred_at: datetime
    by: str | None
    changes: list[str]
    subject: str | None


class ActorRedacted(Event):
    """An erased person's data taken out of an actor: its whole record and history as they
    are without it (their membership, invitations to their address, contact persons with
    their address; history lines about them say `proto.privacy.FORMER_MEMBER`). Every
    earlier event of the actor is erased from the stream afterwards, so this snapshot is
    where a rebuilt view starts. `account_id`: whose erasure it was, an opaque id."""

    TYPE = "directory.actor_redacted"
    actor_id: str
    account_id: str
    actor: ActorRecord
    history: list[HistoryRecord]


# ---- events: subject directory.events.regions.<state_ags> -----------------------------

class RegionsImported(Event):
    """One state's regions as imported (new or renamed ones only); never deletes."""

    TYPE = "directory.regions_imported"
    state_ags: str
    regions: list[RegionData]


AGGREGATE_ACTOR = "actor"
AGGREGATE_REGIONS = "regions"
