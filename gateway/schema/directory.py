"""The directory: find actors, who is responsible where, and keep an actor's entry.

Resolvers turn GraphQL input into `proto.directory` requests and call the directory
service as the caller; the service decides everything (who may, what is valid). Partial
updates: a field left out stays as it is; a field sent as explicit `null` is emptied —
the resolver names it in the request's `clear` (or sends the empty value, for a field that
has one), since on the wire null means "unchanged".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from enum import Enum
from typing import Any, get_args

import strawberry
from pydantic import ValidationError
from graphql import GraphQLError
from gateway.context import GatewayInfo
from strawberry.types.nodes import SelectedField
from strawberry.types.unset import UNSET

from gateway.schema.directory_types import (
    Actor, ActorConnection, ActorStatus, Invitation, MemberRole, Offering, ContactPerson, Region,
    RegionCoverage, RegionLevel, ResponsibleActorConnection, Term, query_request,
)
from gateway.schema.errors import Outcome, UserError, ask, attempt, graphql_error
from gateway.schema.loaders import actor_loader
from proto import directory as contract
from proto.common import Endpoint, Q, R
from proto.directory import Directory
from proto.errors import ErrorCode, Invalid
from proto.validation import camel, invalid_from

# ---- turning input into requests -------------------------------------------------------


def plain(value: Any) -> Any:
    """A GraphQL input value as the proto model takes it: enums by value, inputs as dicts."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None and getattr(value, f.name) is not UNSET}
    return value


def given(data: Any) -> dict[str, Any]:
    """The fields of an input the client set (null and omitted alike: the contract's defaults apply)."""
    return plain(data)


def patch(data: Any, *, clearable: Collection[str], empty: dict[str, Any], keys: Collection[str]) -> dict[str, Any]:
    """An update input as a partial-update request: omitted → unchanged, null → cleared."""
    values: dict[str, Any] = {}
    clear: list[str] = []
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if value is UNSET or (f.name in keys and value is None):
            continue
        if value is not None:
            values[f.name] = plain(value)
        elif f.name in clearable:
            clear.append(f.name)
        elif f.name in empty:
            values[f.name] = empty[f.name]
        else:
            raise Invalid(f"{camel(f.name)} cannot be emptied; leave it out to keep it as it is", camel(f.name))
    if clear:
        values["clear"] = clear
    return values


ACTOR_CLEARABLE = get_args(contract.ActorClearable)
OFFERING_CLEARABLE = get_args(contract.OfferingClearable)
CONTACT_PERSON_CLEARABLE = get_args(contract.ContactPersonClearable)
KEYS = ("actor_id", "offering_id", "contact_person_id", "expected_version")


async def change(info: GatewayInfo, endpoint: Endpoint[Q, R], build: Callable[[], Q]) -> Outcome[R]:
    return await attempt(info, build, endpoint)


async def ask_or_none(info: GatewayInfo, request: Q, endpoint: Endpoint[Q, R]) -> R | None:
    """For a lookup by key: the reply, None when there is nothing (for this caller) to find."""
    try:
        return await ask(info, request, endpoint)
    except GraphQLError as e:
        if (e.extensions or {}).get("code") == ErrorCode.NOT_FOUND.value:
            return None
        raise


def selected(info: GatewayInfo) -> set[str]:
    """The names of the fields a query selects on this field's result (through fragments):
    the directory counts and facets only what is asked for."""
    names: set[str] = set()

    def walk(selections: list[Any]) -> None:
        for item in selections:
            if isinstance(item, SelectedField):
                names.add(item.name)
            else:  # a fragment spread or an inline fragment
                walk(item.selections)

    for field in info.selected_fields:
        walk(field.selections)
    return names


def actor_of(outcome: Outcome[contract.Actor]) -> Actor | None:
    return Actor.of(outcome.reply) if outcome.reply is not None else None


# ---- inputs ----------------------------------------------------------------------------


@strawberry.input
class ActorFilter:
    kinds: list[str] | None = strawberry.field(default=None, description="Actor-kind slugs; any of them.")
    topics: list[str] | None = strawberry.field(default=None, description="Topic slugs; any of them.")
    languages: list[str] | None = strawberry.field(default=None, description="ISO 639-1 codes; any of them.")
    region: str | None = strawberry.field(
        default=None, description="A region key (AGS): actors serving it, a region around it, or one inside it.")
    status: list[ActorStatus] | None = strawberry.field(
        default=None, description="Default APPROVED. Members also see their own actors; admins every actor.")


@strawberry.input
class PostalAddressInput:
    street: str = ""
    postal_code: str = ""
    locality: str
    country: str = "DE"


@strawberry.input
class CoordinatesInput:
    latitude: float
    longitude: float


@strawberry.input(description="A new actor; the caller becomes its owner and it waits for review.")
class CreateActorInput:
    kind: str = strawberry.field(description="A slug of `actorKinds`.")
    name: str
    short_name: str | None = None
    slug: str | None = strawberry.field(default=None, description="Made from the name when left out.")
    description: str | None = None
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    address: PostalAddressInput | None = None
    coordinates: CoordinatesInput | None = None
    regions: list[str] = strawberry.field(description="Keys (AGS) of the regions the actor serves; at least one.")
    topics: list[str] | None = None
    languages: list[str] | None = None
    client_mutation_id: str | None = strawberry.field(default=None, description=(
        "Your name for this creation (up to 100 characters). Sending the same request again with the same "
        "value — after a lost answer, say — returns the actor the first one created instead of a second."))


@strawberry.input(description="Change an actor. Omitted fields stay; `null` empties a field.")
class UpdateActorInput:
    actor_id: strawberry.ID
    expected_version: int = strawberry.field(description="The `version` you loaded; CONFLICT when it changed since.")
    kind: str | None = UNSET
    name: str | None = UNSET
    short_name: str | None = UNSET
    slug: str | None = UNSET
    description: str | None = UNSET
    website: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    address: PostalAddressInput | None = UNSET
    coordinates: CoordinatesInput | None = UNSET
    regions: list[str] | None = UNSET
    topics: list[str] | None = UNSET
    languages: list[str] | None = UNSET


@strawberry.input
class ApproveActorInput:
    actor_id: strawberry.ID


@strawberry.input
class RejectActorInput:
    actor_id: strawberry.ID
    reason: str = strawberry.field(description="Mailed to the owners.")


@strawberry.input
class AddOfferingInput:
    actor_id: strawberry.ID
    expected_version: int | None = None
    name: str
    description: str | None = None
    topics: list[str] | None = None
    languages: list[str] | None = None
    regions: list[str] | None = strawberry.field(default=None, description="Empty: wherever the actor serves.")
    eligibility: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None


@strawberry.input(description="Change an offering. Omitted fields stay; `null` empties a field.")
class UpdateOfferingInput:
    actor_id: strawberry.ID
    offering_id: strawberry.ID
    expected_version: int | None = None
    name: str | None = UNSET
    description: str | None = UNSET
    topics: list[str] | None = UNSET
    languages: list[str] | None = UNSET
    regions: list[str] | None = UNSET
    eligibility: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    website: str | None = UNSET


@strawberry.input
class RemoveOfferingInput:
    actor_id: strawberry.ID
    offering_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class AddContactPersonInput:
    actor_id: strawberry.ID
    expected_version: int | None = None
    name: str
    function: str | None = None
    email: str | None = None
    phone: str | None = None
    topics: list[str] | None = None
    languages: list[str] | None = None
    public: bool | None = strawberry.field(
        default=None, description="Show name, email and phone to everyone (default: signed-in people only).")


@strawberry.input(description="Change a contact person. Omitted fields stay; `null` empties a field.")
class UpdateContactPersonInput:
    actor_id: strawberry.ID
    contact_person_id: strawberry.ID
    expected_version: int | None = None
    name: str | None = UNSET
    function: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    topics: list[str] | None = UNSET
    languages: list[str] | None = UNSET
    public: bool | None = UNSET


@strawberry.input
class RemoveContactPersonInput:
    actor_id: strawberry.ID
    contact_person_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input(description="Mail a single-use link (valid 72 hours); a repeated invitation replaces the older.")
class InviteMemberInput:
    actor_id: strawberry.ID
    email: str
    role: MemberRole = MemberRole.EDITOR
    locale: str | None = strawberry.field(
        default=None, description="Language of the mail (de, en) when the address belongs to no account.")


@strawberry.input
class AcceptInvitationInput:
    token: str = strawberry.field(description="The token of the invitation link.")


@strawberry.input
class ChangeMemberRoleInput:
    actor_id: strawberry.ID
    account_id: strawberry.ID
    role: MemberRole


@strawberry.input
class RemoveMemberInput:
    actor_id: strawberry.ID
    account_id: strawberry.ID


@strawberry.input
class LeaveActorInput:
    actor_id: strawberry.ID


# ---- payloads --------------------------------------------------------------------------


@strawberry.type
class ActorPayload:
    actor: Actor | None = strawberry.field(description="The actor after the change; null with userErrors.")
    user_errors: list[UserError]


@strawberry.type
class CreateActorPayload(ActorPayload):
    client_mutation_id: str | None = strawberry.field(description="The input's clientMutationId, as sent.")


@strawberry.type
class UpdateActorPayload(ActorPayload):
    pass


@strawberry.type
class ApproveActorPayload(ActorPayload):
    pass


@strawberry.type
class RejectActorPayload(ActorPayload):
    pass


@strawberry.type
class AddOfferingPayload(ActorPayload):
    offering: Offering | None


@strawberry.type
class UpdateOfferingPayload(ActorPayload):
    offering: Offering | None


@strawberry.type
class RemoveOfferingPayload(ActorPayload):
    pass


@strawberry.type
class AddContactPersonPayload(ActorPayload):
    contact_person: ContactPerson | None


@strawberry.type
class UpdateContactPersonPayload(ActorPayload):
    contact_person: ContactPerson | None


@strawberry.type
class RemoveContactPersonPayload(ActorPayload):
    pass


@strawberry.type
class InviteMemberPayload:
    invitation: Invitation | None
    user_errors: list[UserError]


@strawberry.type
class AcceptInvitationPayload(ActorPayload):
    pass


@strawberry.type
class ChangeMemberRolePayload(ActorPayload):
    pass


@strawberry.type
class RemoveMemberPayload(ActorPayload):
    pass


@strawberry.type
class LeaveActorPayload:
    ok: bool
    user_errors: list[UserError]


def by_id(items: list[Any], wanted: str) -> Any | None:
    return next((item for item in items if str(item.id) == wanted), None)


# ---- queries ---------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(description="Find actors: German-aware full text (umlauts folded, parts of compounds), "
                                  "filters, and counts per kind, topic and language over all matches.")
    async def actors(self, info: GatewayInfo, query: str | None = None, filter: ActorFilter | None = None,
                     first: int = 20, after: str | None = None) -> ActorConnection:
        asked = selected(info)
        values: dict[str, Any] = {"query": query, "first": first, "after": after,
                                  "with_total": "totalCount" in asked, "with_facets": "facets" in asked}
        if filter is not None:
            values["filter"] = given(filter)
        request = query_request(lambda: contract.SearchActors.model_validate(values))
        return ActorConnection.of(await ask(info, request, Directory.search_actors))

    @strawberry.field(description="Who serves a topic in a region, most specific first: municipal, district, "
                                  "state; then by name. `languages`: any of them.")
    async def responsible_actors(self, info: GatewayInfo, topic: str, region: str,
                                 languages: list[str] | None = None, first: int = 20,
                                 after: str | None = None) -> ResponsibleActorConnection:
        request = query_request(lambda: contract.ResponsibleActors(
            topic=topic, region=region, languages=languages or [], first=first, after=after,
            with_total="totalCount" in selected(info)))
        return ResponsibleActorConnection.of(await ask(info, request, Directory.responsible_actors))

    @strawberry.field(description="Per topic, how many approved actors and offerings serve a region; "
                                  "and the topics nobody serves there.")
    async def region_coverage(self, info: GatewayInfo, region: str) -> RegionCoverage:
        request = query_request(lambda: contract.GetRegionCoverage(region=region))
        return RegionCoverage.of(await ask(info, request, Directory.region_coverage))

    @strawberry.field(description="One actor by id or by slug (give exactly one); null when there is none "
                                  "the caller may see.")
    async def actor(self, info: GatewayInfo, id: strawberry.ID | None = None, slug: str | None = None) -> Actor | None:
        if (id is None) == (slug is None):
            raise graphql_error(Invalid("give either an id or a slug", "id"))
        if id is not None:
            query_request(lambda: contract.GetActor(id=str(id)))  # the id's shape, named `id`
            found = await actor_loader(info).load(str(id))
            return Actor.of(found) if found is not None else None
        request = query_request(lambda: contract.GetActor(slug=slug))
        reply = await ask_or_none(info, request, Directory.get_actor)
        if reply is None:
            return None
        actor_loader(info).prime(reply.id, reply)
        return Actor.of(reply)

    @strawberry.field(description="The signed-in caller's actors, in any status.")
    async def my_actors(self, info: GatewayInfo) -> list[Actor]:
        reply = await ask(info, contract.MyActors(), Directory.my_actors)
        return [Actor.of(a) for a in reply.actors]

    @strawberry.field(description="One region by its key (AGS); null when there is none.")
    async def region(self, info: GatewayInfo, ags: str) -> Region | None:
        request = query_request(lambda: contract.GetRegion(ags=ags))
        reply = await ask_or_none(info, request, Directory.get_region)
        return Region.of(reply) if reply is not None else None

    @strawberry.field(description="The regions directly inside `parent` (without it: the states). "
                                  "`query` narrows by name, umlauts folded; `level` by level.")
    async def regions(self, info: GatewayInfo, parent: str | None = None, level: RegionLevel | None = None,
                      query: str | None = None) -> list[Region]:
        request = query_request(lambda: contract.ListRegions(
            parent=parent, level=level.value if level else None, query=query))
        reply = await ask(info, request, Directory.list_regions)
        return [Region.of(r) for r in reply.regions]

    @strawberry.field(description="The topic vocabulary, with German and English labels.")
    def topics(self) -> list[Term]:
        return [Term.of(t) for t in contract.TOPICS]

    @strawberry.field(description="The actor-kind vocabulary, with German and English labels.")
    def actor_kinds(self) -> list[Term]:
        return [Term.of(t) for t in contract.ACTOR_KINDS]


# ---- mutations -------------------------------------------------------------------------


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an actor; the caller owns it; it is pending until an admin approves.")
    async def create_actor(self, info: GatewayInfo, input: CreateActorInput) -> CreateActorPayload:
        def build() -> contract.CreateActor:
            values = given(input)
            if "client_mutation_id" in values:
                values["idempotency_key"] = values.pop("client_mutation_id")
            try:
                return contract.CreateActor.model_validate(values)
            except ValidationError as e:
                problem = invalid_from(e)
                if problem.field == "idempotencyKey":  # the contract's name for the client's
                    problem.field = "clientMutationId"
                raise problem from None

        outcome = await change(info, Directory.create_actor, build)
        return CreateActorPayload(actor=actor_of(outcome), user_errors=outcome.user_errors,
                                  client_mutation_id=input.client_mutation_id)

    @strawberry.mutation(description="Owners and editors: change an actor's profile.")
    async def update_actor(self, info: GatewayInfo, input: UpdateActorInput) -> UpdateActorPayload:
        outcome = await change(info, Directory.update_actor, lambda: contract.UpdateActor.model_validate(patch(
            input, clearable=ACTOR_CLEARABLE, empty={"description": "", "topics": [], "languages": [],
                                                     "regions": []}, keys=KEYS)))
        return UpdateActorPayload(actor=actor_of(outcome), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Admins: approve an actor, making it public; mails the owners.")
    async def approve_actor(self, info: GatewayInfo, input: ApproveActorInput) -> ApproveActorPayload:
        outcome = await change(info, Directory.approve_actor, lambda: contract.ApproveActor(actor_id=input.actor_id))
        return ApproveActorPayload(actor=actor_of(outcome), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Admins: reject an actor with a reason; mails the owners.")
    async def reject_actor(self, info: GatewayInfo, input: RejectActorInput) -> RejectActorPayload:
        outcome = await change(info, Directory.reject_actor,
                               lambda: contract.RejectActor(actor_id=input.actor_id, reason=input.reason))
        return RejectActorPayload(actor=actor_of(outcome), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors: add an offering.")
    async def add_offering(self, info: GatewayInfo, input: AddOfferingInput) -> AddOfferingPayload:
        outcome = await change(info, Directory.add_offering, lambda: contract.AddOffering.model_validate(given(input)))
        actor = actor_of(outcome)
        added = outcome.reply.added_id if outcome.reply else None
        return AddOfferingPayload(actor=actor, offering=by_id(actor.offerings, added) if actor and added else None,
                                  user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors: change an offering.")
    async def update_offering(self, info: GatewayInfo, input: UpdateOfferingInput) -> UpdateOfferingPayload:
        outcome = await change(info, Directory.update_offering, lambda: contract.UpdateOffering.model_validate(patch(
            input, clearable=OFFERING_CLEARABLE,
            empty={"description": "", "eligibility": "", "topics": [], "languages": [], "regions": []}, keys=KEYS)))
        actor = actor_of(outcome)
        return UpdateOfferingPayload(actor=actor, offering=by_id(actor.offerings, input.offering_id) if actor else None,
                                     user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors: remove an offering.")
    async def remove_offering(self, info: GatewayInfo, input: RemoveOfferingInput) -> RemoveOfferingPayload:
        outcome = await change(info, Directory.remove_offering,
                               lambda: contract.RemoveOffering.model_validate(given(input)))
        return RemoveOfferingPayload(actor=actor_of(outcome), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors: add a contact person.")
    async def add_contact_person(self, info: GatewayInfo, input: AddContactPersonInput) -> AddContactPersonPayload:
        outcome = await change(info, Directory.add_contact_person,
                               lambda: contract.AddContactPerson.model_validate(given(input)))
        actor = actor_of(outcome)
        added = outcome.reply.added_id if outcome.reply else None
        return AddContactPersonPayload(actor=actor,
                                       contact_person=by_id(actor.contact_persons, added) if actor and added else None,
                                       user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors: change a contact person.")
    async def update_contact_person(
        self, info: GatewayInfo, input: UpdateContactPersonInput
    ) -> UpdateContactPersonPayload:
        outcome = await change(info, Directory.update_contact_person, lambda: contract.UpdateContactPerson.
                               model_validate(patch(input, clearable=CONTACT_PERSON_CLEARABLE,
                                                    empty={"topics": [], "languages": []}, keys=KEYS)))
        actor = actor_of(outcome)
        person = by_id(actor.contact_persons, input.contact_person_id) if actor else None
        return UpdateContactPersonPayload(actor=actor, contact_person=person, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors: remove a contact person.")
    async def remove_contact_person(
        self, info: GatewayInfo, input: RemoveContactPersonInput
    ) -> RemoveContactPersonPayload:
        outcome = await change(info, Directory.remove_contact_person,
                               lambda: contract.RemoveContactPerson.model_validate(given(input)))
        return RemoveContactPersonPayload(actor=actor_of(outcome), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners: mail someone an invitation link to join the actor.")
    async def invite_member(self, info: GatewayInfo, input: InviteMemberInput) -> InviteMemberPayload:
        outcome = await change(info, Directory.invite_member,
                               lambda: contract.InviteMember.model_validate(given(input)))
        invitation = Invitation.of(outcome.reply) if outcome.reply is not None else None
        return InviteMemberPayload(invitation=invitation, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Join an actor with the token of an invitation link: only the account "
                                     "whose confirmed address the invitation was mailed to may.")
    async def accept_invitation(self, info: GatewayInfo, input: AcceptInvitationInput) -> AcceptInvitationPayload:
        outcome = await change(info, Directory.accept_invitation, lambda: contract.AcceptInvitation(token=input.token))
        return AcceptInvitationPayload(actor=actor_of(outcome), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners: make a member owner or editor.")
    async def change_member_role(self, info: GatewayInfo, input: ChangeMemberRoleInput) -> ChangeMemberRolePayload:
        outcome = await change(info, Directory.change_member_role,
                               lambda: contract.ChangeMemberRole.model_validate(given(input)))
        return ChangeMemberRolePayload(actor=actor_of(outcome), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners: remove a member.")
    async def remove_member(self, info: GatewayInfo, input: RemoveMemberInput) -> RemoveMemberPayload:
        outcome = await change(info, Directory.remove_member,
                               lambda: contract.RemoveMember.model_validate(given(input)))
        return RemoveMemberPayload(actor=actor_of(outcome), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Stop being a member of an actor (not as its last owner).")
    async def leave_actor(self, info: GatewayInfo, input: LeaveActorInput) -> LeaveActorPayload:
        outcome = await change(info, Directory.leave_actor, lambda: contract.LeaveActor(actor_id=input.actor_id))
        return LeaveActorPayload(ok=outcome.ok, user_errors=outcome.user_errors)
