"""The directory's rules, without I/O: who may change an actor, what valid input is, and
how each event changes an actor's state.

`decide_*` functions check the rules on the current state and return the one event that
records the whole change (None: nothing to change), or raise `Invalid` / `Forbidden` /
`Conflict` / `NotFound` naming the field in its public (camelCase) spelling. `evolve`
applies an event to the state; the view stores its result, so the state a command decides
on is exactly what the events say.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
import pycountry
from pydantic import BaseModel, EmailStr, HttpUrl, TypeAdapter, ValidationError

from proto import directory as api
from proto.envelope import Event
from proto.errors import Conflict, Forbidden, Invalid, NotFound
from proto.privacy import FORMER_MEMBER, ErasureBlocker
from proto.validation import camel
from services.kernel.auth import Principal

INVITATION_VALIDITY = timedelta(hours=72)
DEFAULT_PHONE_REGION = "DE"  # numbers without +country code are read as German ones

# ---- state ---------------------------------------------------------------------------


Membership = api.MemberRecord
PendingInvitation = api.InvitationRecord


class ActorState(api.ActorRecord):
    """One actor as its events made it (the fields: `proto.directory.ActorRecord`, which the
    redaction snapshot carries as well), with the questions the rules ask of it."""

    def role_of(self, account_id: str | None) -> api.MemberRole | None:
        membership = self.members.get(account_id or "")
        return membership.role if membership else None

    @property
    def owners(self) -> list[str]:
        return [account for account, m in self.members.items() if m.role == "owner"]


# ---- who may do what -----------------------------------------------------------------

def can_see(state: ActorState, principal: Principal | None) -> bool:
    """Only approved actors are public; members and admins also see the others."""
    if state.status == "approved":
        return True
    return principal is not None and (principal.is_admin or state.role_of(principal.account_id) is not None)


def require_visible(state: ActorState, principal: Principal | None) -> None:
    # An actor the caller may not see does not exist for them: no hint that it does.
    if not can_see(state, principal):
        raise NotFound("there is no such actor", "actorId")


def require_editor(state: ActorState, principal: Principal) -> None:
    if state.role_of(principal.account_id) not in ("owner", "editor"):
        raise Forbidden("only the actor's owners and editors may change it")


def require_owner(state: ActorState, principal: Principal) -> None:
    if state.role_of(principal.account_id) != "owner":
        raise Forbidden("only the actor's owners may manage its members")


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only platform administrators may do this")


def may_read_history(state: ActorState, principal: Principal) -> bool:
    return principal.is_admin or state.role_of(principal.account_id) == "owner"


def check_version(state: ActorState, expected: int | None) -> None:
    """An editor sends the version they saw; anything newer means someone else changed
    the actor meanwhile, and overwriting their change silently would lose it."""
    if expected is not None and expected != state.version:
        raise Conflict(
            "this actor was changed by someone else since you loaded it; reload and try again",
            "expectedVersion",
        )


# ---- checking input ------------------------------------------------------------------

# A tag (`<b>`, `</p>`, `<script …>`, `<img/>`) or an HTML comment. Text that merely
# contains "<" or "&" ("Kinder < 6", "Jugend & Familie") is fine: it is stored as given
# and escaped wherever it is shown.
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9:-]*(\s[^<>]*)?/?\s*>|<!--")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
POSTAL_CODE_DE = re.compile(r"^\d{5}$")

_email = TypeAdapter(EmailStr)
_url = TypeAdapter(HttpUrl)


def check_text(value: str, field: str, *, multiline: bool = False) -> str:
    if MARKUP.search(value):
        raise Invalid("HTML or script is not allowed here; write plain text", field)
    if (CONTROL if multiline else CONTROL_OR_BREAK).search(value):
        raise Invalid("this text contains control characters", field)
    return value


# The checks of addresses, web addresses and phone numbers are most of an import's cost
# (email-validator alone: a third of a millisecond per address), and an import asks each
# twice (the check pass, then the commit pass): their verdicts are kept, keyed by the text.
VERDICTS = 100_000  # per kind: an import of a federal state's actors checked once


@lru_cache(maxsize=VERDICTS)
def _is_email(value: str) -> bool:
    try:
        _email.validate_python(value)
    except ValidationError:
        return False
    return True


def check_email(value: str, field: str) -> str:
    if not _is_email(value):
        raise Invalid("this is not a valid email address", field)
    return value


@lru_cache(maxsize=VERDICTS)
def _url_problem(value: str) -> str | None:
    try:
        url = _url.validate_python(value)
    except ValidationError:
        return "enter a web address starting with https:// or http://"
    # A bare word ("https://diakonie") resolves only on some networks; people mean a site.
    if not url.host or "." not in url.host:
        return "enter a complete web address, such as https://www.example.de"
    return None


def check_url(value: str, field: str) -> str:
    if problem := _url_problem(value):
        raise Invalid(problem, field)
    return value


@lru_cache(maxsize=VERDICTS)
def _phone_problem(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return "this is not a phone number"
    if not phonenumbers.is_valid_number(number):
        return "this phone number cannot be dialled; check the digits and the area code"
    return None


def check_phone(value: str, field: str) -> str:
    if problem := _phone_problem(value):
        raise Invalid(problem, field)
    return value


@lru_cache(maxsize=1024)  # a few hundred codes; pycountry's lookup is slow, and asked for every row of an import
def _is_language(code: str) -> bool:
    return pycountry.languages.get(alpha_2=code) is not None


@lru_cache(maxsize=1024)
def _is_country(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code) is not None


def check_languages(codes: Iterable[str], field: str) -> list[str]:
    """ISO 639-1 codes, lower-cased, each once, in the order given."""
    result: list[str] = []
    for raw in codes:
        code = raw.strip().lower()
        if not LANGUAGE_CODE.match(code) or not _is_language(code):
            raise Invalid(f"“{raw}” is not an ISO 639-1 language code (such as de, en, ar, uk)", field)
        if code not in result:
            result.append(code)
    return result


def check_regions(keys: Iterable[str], field: str, known: Collection[str]) -> list[str]:
    result: list[str] = []
    for key in keys:
        if key not in known:
            raise Invalid(f"“{key}” is not a known region key (AGS)", field)
        if key not in result:
            result.append(key)
    return result


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def check_address(address: api.PostalAddress | None) -> None:
    if address is None:
        return
    for name in ("street", "postal_code", "locality"):
        check_text(getattr(address, name), f"address.{camel(name)}")
    if address.country == "DE" and address.postal_code and not POSTAL_CODE_DE.match(address.postal_code):
        raise Invalid("a German postal code has five digits", "address.postalCode")
    if not _is_country(address.country):
        raise Invalid("not an ISO 3166 country code", "address.country")


def _check_channels(email: str | None, phone: str | None, website: str | None) -> None:
    if email is not None:
        check_email(email, "email")
    if phone is not None:
        check_phone(phone, "phone")
    if website is not None:
        check_url(website, "website")


def _require_regions(regions: list[str]) -> None:
    if not regions:
        raise Invalid("name at least one region the actor serves", "regions")


def profile_problems(profile: api.ActorProfile, known_regions: Collection[str]) -> list[Invalid]:
    """Every problem of a profile, in field order: an import reports them all at once,
    where `check_profile` stops at the first."""
    checks: list[Callable[[], object]] = [
        lambda: check_text(profile.name, "name"),
        lambda: profile.short_name is None or check_text(profile.short_name, "shortName"),
        lambda: check_text(profile.description, "description", multiline=True),
        lambda: profile.email is None or check_email(profile.email, "email"),
        lambda: profile.phone is None or check_phone(profile.phone, "phone"),
        lambda: profile.website is None or check_url(profile.website, "website"),
        lambda: check_address(profile.address),
        lambda: _require_regions(profile.regions),
        lambda: check_regions(profile.regions, "regions", known_regions),
        lambda: check_languages(profile.languages, "languages"),
    ]
    problems = []
    for check in checks:
        try:
            check()
        except Invalid as e:
            problems.append(e)
    return problems


def check_profile(profile: api.ActorProfile, known_regions: Collection[str]) -> api.ActorProfile:
    """The profile as it will be stored: every field checked, lists without repeats."""
    if problems := profile_problems(profile, known_regions):
        raise problems[0]
    return stored_profile(profile, known_regions)


def stored_profile(profile: api.ActorProfile, known_regions: Collection[str]) -> api.ActorProfile:
    """A profile without problems (`profile_problems` found none) as it will be stored: lists
    without repeats. An import checks each row once and keeps this for writing."""
    return profile.model_copy(update={
        "regions": check_regions(profile.regions, "regions", known_regions),
        "topics": unique(profile.topics),
        "languages": check_languages(profile.languages, "languages"),
    })


def check_offering(offering: api.OfferingData, known_regions: Collection[str]) -> api.OfferingData:
    check_text(offering.name, "name")
    check_text(offering.description, "description", multiline=True)
    check_text(offering.eligibility, "eligibility", multiline=True)
    _check_channels(offering.email, offering.phone, offering.website)
    return offering.model_copy(update={
        "regions": check_regions(offering.regions, "regions", known_regions),
        "topics": unique(offering.topics),
        "languages": check_languages(offering.languages, "languages"),
    })


def check_contact_person(person: api.ContactPersonData) -> api.ContactPersonData:
    check_text(person.name, "name")
    if person.function is not None:
        check_text(person.function, "function")
    _check_channels(person.email, person.phone, None)
    return person.model_copy(update={
        "topics": unique(person.topics),
        "languages": check_languages(person.languages, "languages"),
    })


def _build(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """Build an event model from checked request fields, naming a failing field."""
    try:
        return model.model_validate(values)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        loc = [camel(str(p)) if isinstance(p, str) else str(p) for p in first.get("loc", ())]
        raise Invalid(str(first.get("msg", "invalid value")), ".".join(loc) or None) from None


def _patch(current: BaseModel, cmd: BaseModel, clear: list[str]) -> dict[str, Any]:
    """The values after a partial update: sent values replace, `clear` empties, null keeps."""
    values = current.model_dump()
    for name in type(current).model_fields:
        value = getattr(cmd, name, None)
        if value is None:
            continue
        if name in clear:
            raise Invalid(f"{camel(name)} is both set and cleared", "clear")
        values[name] = value.model_dump() if isinstance(value, BaseModel) else value
    for name in clear:
        values[name] = None
    return values


def _changed(before: BaseModel, after: BaseModel) -> list[str]:
    return [name for name in type(before).model_fields if getattr(before, name) != getattr(after, name)]


# ---- slugs ---------------------------------------------------------------------------

GERMAN_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def slugify(name: str) -> str:
    """`Wohnungsbaugenossenschaft Saarbrücken eG` → `wohnungsbaugenossenschaft-saarbruecken-eg`."""
    text = unicodedata.normalize("NFKD", name.translate(GERMAN_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:70].strip("-")
    # A name in another script leaves nothing; the suffix the service adds keeps it unique.
    return slug if len(slug) >= 2 else "akteur"


# ---- deciding: the actor itself ------------------------------------------------------

PROFILE_FIELDS = set(api.ActorProfile.model_fields)  # what of a request becomes the profile

def decide_create(cmd: api.CreateActor, *, actor_id: str, owner: Principal, slug: str,
                  known_regions: Collection[str]) -> api.ActorCreated:
    values = cmd.model_dump(include=PROFILE_FIELDS - {"slug"})
    profile = check_profile(_build(api.ActorProfile, {**values, "slug": slug}), known_regions)
    return api.ActorCreated(actor_id=actor_id, owner_id=owner.account_id, profile=profile)


def import_slug(row: api.CreateActor) -> str:
    """An imported actor's slug: the row's own, else made from its name, never suffixed
    ("name-2"), so importing a file again finds the actors it made the first time."""
    return row.slug or slugify(row.name)


def repeated(keys: list[str]) -> dict[int, int]:
    """Position → position of the first equal key, for every key that came before."""
    first: dict[str, int] = {}
    found = {}
    for position, key in enumerate(keys):
        if key in first:
            found[position] = first[key]
        else:
            first[key] = position
    return found


def import_profile(row: api.CreateActor, slug: str) -> api.ActorProfile:
    """An import row (the fields of `create_actor`) as the profile it would store, unchecked."""
    return _build(api.ActorProfile, {**row.model_dump(include=PROFILE_FIELDS - {"slug"}), "slug": slug})


def decide_import(row: api.CreateActor, *, actor_id: str, slug: str, known_regions: Collection[str],
                  checked: api.ActorProfile | None = None) -> api.ActorImported:
    """An operator's import: checked as `decide_create` checks, approved at once, no owner.
    Who runs the import is trusted by NATS permissions, not by a token (see service.py).
    `checked`: the row's profile as `check_profile` gave it already (each row is checked once)."""
    profile = checked if checked is not None else check_profile(import_profile(row, slug), known_regions)
    return api.ActorImported(actor_id=actor_id, profile=profile)


def decide_update(state: ActorState, cmd: api.UpdateActor, principal: Principal,
                  known_regions: Collection[str]) -> api.ActorUpdated | None:
    require_editor(state, principal)
    check_version(state, cmd.expected_version)
    values = _patch(state.profile, cmd, list(cmd.clear))
    profile = check_profile(_build(api.ActorProfile, values), known_regions)
    changed = _changed(state.profile, profile)
    if not changed:
        return None
    return api.ActorUpdated(
        actor_id=state.id, profile=profile, changed=changed, resubmitted=state.status == "rejected"
    )


def decide_approve(state: ActorState, principal: Principal) -> api.ActorApproved | None:
    require_admin(principal)
    if state.status == "approved":
        return None
    return api.ActorApproved(actor_id=state.id)


def decide_reject(state: ActorState, principal: Principal, reason: str) -> api.ActorRejected | None:
    require_admin(principal)
    check_text(reason, "reason", multiline=True)
    if state.status == "rejected" and state.rejection_reason == reason:
        return None
    return api.ActorRejected(actor_id=state.id, reason=reason)


# ---- deciding: offerings and contact persons -----------------------------------------

OFFERING_FIELDS = set(api.OfferingData.model_fields)
CONTACT_FIELDS = set(api.ContactPersonData.model_fields)


def decide_add_offering(state: ActorState, cmd: api.AddOffering, principal: Principal, *,
                        offering_id: str, known_regions: Collection[str]) -> api.OfferingAdded:
    require_editor(state, principal)
    check_version(state, cmd.expected_version)
    offering = check_offering(_build(api.OfferingData, cmd.model_dump(include=OFFERING_FIELDS)), known_regions)
    return api.OfferingAdded(actor_id=state.id, offering_id=offering_id, offering=offering)


def _offering(state: ActorState, offering_id: str) -> api.OfferingData:
    if offering_id not in state.offerings:
        raise NotFound("this actor has no such offering", "offeringId")
    return state.offerings[offering_id]


def decide_update_offering(state: ActorState, cmd: api.UpdateOffering, principal: Principal,
                           known_regions: Collection[str]) -> api.OfferingUpdated | None:
    require_editor(state, principal)
    check_version(state, cmd.expected_version)
    current = _offering(state, cmd.offering_id)
    values = _patch(current, cmd, list(cmd.clear))
    offering = check_offering(_build(api.OfferingData, values), known_regions)
    changed = _changed(current, offering)
    if not changed:
        return None
    return api.OfferingUpdated(actor_id=state.id, offering_id=cmd.offering_id, offering=offering,
                               changed=changed)


def decide_remove_offering(state: ActorState, cmd: api.RemoveOffering,
                           principal: Principal) -> api.OfferingRemoved:
    require_editor(state, principal)
    check_version(state, cmd.expected_version)
    _offering(state, cmd.offering_id)
    return api.OfferingRemoved(actor_id=state.id, offering_id=cmd.offering_id)


def decide_add_contact_person(state: ActorState, cmd: api.AddContactPerson, principal: Principal, *,
                              contact_person_id: str) -> api.ContactPersonAdded:
    require_editor(state, principal)
    check_version(state, cmd.expected_version)
    person = check_contact_person(_build(api.ContactPersonData, cmd.model_dump(include=CONTACT_FIELDS)))
    return api.ContactPersonAdded(actor_id=state.id, contact_person_id=contact_person_id, person=person)


def _contact_person(state: ActorState, contact_person_id: str) -> api.ContactPersonData:
    if contact_person_id not in state.contact_persons:
        raise NotFound("this actor has no such contact person", "contactPersonId")
    return state.contact_persons[contact_person_id]


def decide_update_contact_person(state: ActorState, cmd: api.UpdateContactPerson,
                                 principal: Principal) -> api.ContactPersonUpdated | None:
    require_editor(state, principal)
    check_version(state, cmd.expected_version)
    current = _contact_person(state, cmd.contact_person_id)
    values = _patch(current, cmd, list(cmd.clear))
    person = check_contact_person(_build(api.ContactPersonData, values))
    changed = _changed(current, person)
    if not changed:
        return None
    return api.ContactPersonUpdated(actor_id=state.id, contact_person_id=cmd.contact_person_id,
                                    person=person, changed=changed)


def decide_remove_contact_person(state: ActorState, cmd: api.RemoveContactPerson,
                                 principal: Principal) -> api.ContactPersonRemoved:
    require_editor(state, principal)
    check_version(state, cmd.expected_version)
    _contact_person(state, cmd.contact_person_id)
    return api.ContactPersonRemoved(actor_id=state.id, contact_person_id=cmd.contact_person_id)


# ---- deciding: members ---------------------------------------------------------------

def email_key(email: str) -> str:
    if email.isascii():  # nearly every address: NFKC changes no ASCII text, casefold is lower
        return email.strip().lower()
    return unicodedata.normalize("NFKC", email).strip().casefold()


def decide_invite(state: ActorState, principal: Principal, *, email: str, role: api.MemberRole,
                  invitation_id: str, token_hash: str, now: datetime,
                  member_emails: Collection[str]) -> api.MemberInvited:
    """`member_emails`: the (lower-cased) addresses of the accounts that are members now.

    Owners invite; so do admins, because an imported actor has no owner until an admin
    invites the first one."""
    if not principal.is_admin:
        require_owner(state, principal)
    check_email(email, "email")
    key = email_key(email)
    if key in member_emails:
        raise Conflict("this person is already a member of the actor", "email")
    previous = state.invitations.get(key)
    return api.MemberInvited(
        actor_id=state.id, invitation_id=invitation_id, email=key, role=role, token_hash=token_hash,
        expires_at=now + INVITATION_VALIDITY, replaces=previous.id if previous else None,
    )


def decide_accept(state: ActorState, principal: Principal, *, token_hash: str, now: datetime,
                  accepting_email: str) -> api.InvitationAccepted:
    """An invitation is for the address it was mailed to, not for whoever holds the link:
    only the account whose (confirmed) address it is may accept it. `accepting_email`: the
    accepting account's address, lower-cased."""
    invitation = next((i for i in state.invitations.values() if i.token_hash == token_hash), None)
    if invitation is None:
        raise Invalid("this invitation link is not valid any more: it was used or replaced by a newer one",
                      "token")
    if invitation.expires_at <= now:
        raise Invalid("this invitation link has expired; ask for a new invitation", "token")
    if email_key(accepting_email) != invitation.email:
        raise Forbidden("this invitation was sent to another address; sign in with the account of that "
                        "address, or ask for an invitation to yours", "token")
    if state.role_of(principal.account_id) is not None:
        raise Conflict("you are already a member of this actor", "token")
    return api.InvitationAccepted(actor_id=state.id, invitation_id=invitation.id,
                                  account_id=principal.account_id, role=invitation.role)


def _member(state: ActorState, account_id: str) -> Membership:
    if account_id not in state.members:
        raise NotFound("this account is not a member of the actor", "accountId")
    return state.members[account_id]


def _keeps_an_owner(state: ActorState, account_id: str) -> bool:
    return any(a != account_id for a in state.owners)


def decide_change_role(state: ActorState, principal: Principal, *, account_id: str,
                       role: api.MemberRole) -> api.MemberRoleChanged | None:
    require_owner(state, principal)
    current = _member(state, account_id)
    if current.role == role:
        return None
    if current.role == "owner" and not _keeps_an_owner(state, account_id):
        raise Conflict("an actor needs at least one owner; make someone else owner first", "role")
    return api.MemberRoleChanged(actor_id=state.id, account_id=account_id, role=role)


def decide_remove_member(state: ActorState, principal: Principal, *,
                         account_id: str) -> api.MemberRemoved:
    require_owner(state, principal)
    current = _member(state, account_id)
    if current.role == "owner" and not _keeps_an_owner(state, account_id):
        raise Conflict("an actor needs at least one owner; make someone else owner first", "accountId")
    return api.MemberRemoved(actor_id=state.id, account_id=account_id)


def decide_leave(state: ActorState, principal: Principal) -> api.MemberLeft:
    if state.role_of(principal.account_id) is None:
        raise NotFound("you are not a member of this actor", "actorId")
    if state.role_of(principal.account_id) == "owner" and not _keeps_an_owner(state, principal.account_id):
        raise Conflict("you are the last owner; make someone else owner before you leave", "actorId")
    return api.MemberLeft(actor_id=state.id, account_id=principal.account_id)


# ---- evolving ------------------------------------------------------------------------

def _empty() -> dict[str, dict[str, Any]]:
    # Given, not defaulted: pydantic deep-copies a mutable default for every new instance,
    # which was a tenth of a rebuild's time (copying empty dicts).
    return {"offerings": {}, "contact_persons": {}, "invitations": {}}


def evolve(state: ActorState | None, event: Event, *, version: int, at: datetime,
           by: str | None) -> ActorState:
    """The state after `event` (stream sequence `version`, appended at `at` by `by`)."""
    if isinstance(event, api.ActorRedacted):
        # The whole record: a rebuilt view starts here (the events before it are erased).
        return ActorState.model_validate({**event.actor.model_dump(), "version": version})
    if isinstance(event, api.ActorCreated):
        return ActorState(
            id=event.actor_id, version=version, profile=event.profile, created_at=at, updated_at=at,
            members={event.owner_id: Membership(role="owner", joined_at=at)}, **_empty(),
        )
    if isinstance(event, api.ActorImported):
        return ActorState(
            id=event.actor_id, version=version, profile=event.profile, status="approved", reviewed_at=at,
            created_at=at, updated_at=at, members={}, **_empty(),
        )
    if state is None:
        raise ValueError(f"{event.TYPE} for an actor that was never created")
    change: dict[str, Any] = {"version": version, "updated_at": at}
    match event:
        case api.ActorUpdated():
            change["profile"] = event.profile
            if event.resubmitted:
                change.update(status="pending", rejection_reason=None)
        case api.ActorApproved():
            change.update(status="approved", rejection_reason=None, reviewed_at=at)
        case api.ActorRejected():
            change.update(status="rejected", rejection_reason=event.reason, reviewed_at=at)
        case api.OfferingAdded() | api.OfferingUpdated():
            change["offerings"] = {**state.offerings, event.offering_id: event.offering}
        case api.OfferingRemoved():
            change["offerings"] = {k: v for k, v in state.offerings.items() if k != event.offering_id}
        case api.ContactPersonAdded() | api.ContactPersonUpdated():
            change["contact_persons"] = {**state.contact_persons, event.contact_person_id: event.person}
        case api.ContactPersonRemoved():
            change["contact_persons"] = {
                k: v for k, v in state.contact_persons.items() if k != event.contact_person_id
            }
        case api.MemberInvited():
            invitation = PendingInvitation(
                id=event.invitation_id, email=event.email, role=event.role, token_hash=event.token_hash,
                expires_at=event.expires_at, invited_by=by, created_at=at,
            )
            change["invitations"] = {**state.invitations, event.email: invitation}
        case api.InvitationAccepted():
            change["invitations"] = {
                k: v for k, v in state.invitations.items() if v.id != event.invitation_id
            }
            change["members"] = {**state.members, event.account_id: Membership(role=event.role, joined_at=at)}
        case api.MemberRoleChanged():
            joined = state.members[event.account_id].joined_at
            change["members"] = {**state.members, event.account_id: Membership(role=event.role, joined_at=joined)}
        case api.MemberRemoved() | api.MemberLeft():
            change["members"] = {k: v for k, v in state.members.items() if k != event.account_id}
        case _:
            raise ValueError(f"no rule for {event.TYPE}")
    return state.model_copy(update=change)


def describe(event: Event, state: ActorState | None) -> tuple[list[str], str | None]:
    """For the history: the camelCase fields an event changed, and what it concerns.

    `state` is the actor before the event (to name a removed offering, for instance).
    Never a token hash: history is shown to people.
    """
    match event:
        case api.ActorCreated() | api.ActorImported():
            profile = event.profile  # its fields as they are: a model_dump would copy every value
            fields = [n for n in type(profile).model_fields if getattr(profile, n) not in (None, "", [])]
            return [camel(f) for f in fields], None
        case api.ActorUpdated():
            return [camel(f) for f in event.changed], None
        case api.ActorApproved():
            return ["status"], None
        case api.ActorRejected():
            return ["status", "rejectionReason"], event.reason
        case api.OfferingAdded():
            return ["offerings"], event.offering.name
        case api.OfferingUpdated():
            return [camel(f) for f in event.changed], event.offering.name
        case api.OfferingRemoved():
            gone = state.offerings.get(event.offering_id) if state else None
            return ["offerings"], gone.name if gone else event.offering_id
        case api.ContactPersonAdded():
            return ["contactPersons"], event.person.name
        case api.ContactPersonUpdated():
            return [camel(f) for f in event.changed], event.person.name
        case api.ContactPersonRemoved():
            gone_person = state.contact_persons.get(event.contact_person_id) if state else None
            return ["contactPersons"], gone_person.name if gone_person else event.contact_person_id
        case api.MemberInvited():
            return ["invitations"], event.email
        case api.InvitationAccepted():
            return ["members"], event.account_id
        case api.MemberRoleChanged():
            return ["members"], event.account_id
        case api.MemberRemoved() | api.MemberLeft():
            return ["members"], event.account_id
    return [], None


def with_slug(event: api.ActorCreated, slug: str) -> api.ActorCreated:
    """The decided creation under the slug the service could claim (`name`, or `name-2` …
    when taken): the same decision, only the address name differs."""
    return event.model_copy(update={"profile": event.profile.model_copy(update={"slug": slug})})


# ---- a person's data: what an erasure takes out of an actor ---------------------------

# History types whose `subject` names a person (see `describe`): an invitee's address, a
# member's account id, a contact person's name. A data export leaves those subjects out of
# the person's own history lines (they are about others); an erasure redacts the person's.
SUBJECT_IS_ADDRESS = frozenset({"member_invited"})
SUBJECT_IS_ACCOUNT = frozenset({"invitation_accepted", "member_role_changed", "member_removed", "member_left"})
SUBJECT_IS_CONTACT = frozenset({"contact_person_added", "contact_person_updated", "contact_person_removed"})
SUBJECT_NAMES_A_PERSON = SUBJECT_IS_ADDRESS | SUBJECT_IS_ACCOUNT | SUBJECT_IS_CONTACT


def mentioned_addresses(event: Event) -> set[str]:
    """The mail addresses an event mentions (folded): the view indexes them, so that an
    erasure finds every actor whose events ever held a person's address."""
    found: list[str | None] = []
    match event:
        case api.ActorCreated() | api.ActorImported() | api.ActorUpdated():
            found.append(event.profile.email)
        case api.OfferingAdded() | api.OfferingUpdated():
            found.append(event.offering.email)
        case api.ContactPersonAdded() | api.ContactPersonUpdated():
            found.append(event.person.email)
        case api.MemberInvited():
            found.append(event.email)
        case api.ActorRedacted():
            return record_addresses(event.actor, event.history)
    return {email_key(a) for a in found if a}


def record_addresses(record: api.ActorRecord, history: Iterable[api.HistoryRecord]) -> set[str]:
    """The addresses a redaction snapshot still holds: its record's and its history's."""
    found = [record.profile.email, *(o.email for o in record.offerings.values()),
             *(p.email for p in record.contact_persons.values()), *record.invitations]
    found += [h.subject for h in history if h.type in SUBJECT_IS_ADDRESS and h.subject != FORMER_MEMBER]
    return {email_key(a) for a in found if a}


def contact_names(events: Iterable[Event], addresses: set[str]) -> set[str]:
    """The names contact persons with one of these (folded) addresses ever had on the actor
    (folded)."""
    return {event.person.name.casefold() for event in events
            if isinstance(event, (api.ContactPersonAdded, api.ContactPersonUpdated))
            and event.person.email and email_key(event.person.email) in addresses}


def holds_person(state: ActorState, account_id: str, addresses: set[str]) -> bool:
    """Whether the actor's state still holds something of the person."""
    return account_id in state.members or bool(addresses & record_addresses(state, ()))


def _without(value: str | None, addresses: set[str]) -> str | None:
    return None if value and email_key(value) in addresses else value


def _redacted_line(line: api.HistoryRecord, *, account_id: str, addresses: set[str],
                   names: set[str]) -> api.HistoryRecord:
    subject = line.subject
    if subject is None:
        return line
    about_them = (
        (line.type in SUBJECT_IS_ADDRESS and email_key(subject) in addresses)
        or (line.type in SUBJECT_IS_ACCOUNT and subject == account_id)
        or (line.type in SUBJECT_IS_CONTACT and subject.casefold() in names)
    )
    return line.model_copy(update={"subject": FORMER_MEMBER}) if about_them else line


def redact(state: ActorState, history: Iterable[api.HistoryRecord], *, account_id: str, addresses: set[str],
           names: set[str]) -> api.ActorRedacted:
    """The actor without the person: their membership, invitations to their addresses (every
    one the account had: folded), contact persons with one of them, their address where the
    actor or an offering gives it; history lines about them name `FORMER_MEMBER`. Lines they
    authored keep their account id, an opaque id. `names`: the names of contact persons with
    their addresses (`contact_names`), which those contact persons' history lines carry."""
    contacts = {pid: p for pid, p in state.contact_persons.items()
                if not (p.email and email_key(p.email) in addresses)}
    offerings = {oid: o.model_copy(update={"email": _without(o.email, addresses)})
                 for oid, o in state.offerings.items()}
    profile = state.profile.model_copy(update={"email": _without(state.profile.email, addresses)})
    record = api.ActorRecord.model_validate({
        **state.model_dump(),
        "profile": profile,
        "offerings": offerings,
        "contact_persons": contacts,
        "members": {a: m for a, m in state.members.items() if a != account_id},
        "invitations": {key: i for key, i in state.invitations.items() if key not in addresses},
    })
    lines = [_redacted_line(line, account_id=account_id, addresses=addresses, names=names)
             for line in history if line.seq <= state.version]
    return api.ActorRedacted(actor_id=state.id, account_id=account_id, actor=record, history=lines)


def last_owner_of(states: Iterable[ActorState], account_id: str) -> list[ActorState]:
    """The actors that would be left without an owner if the account went."""
    return [s for s in states if s.role_of(account_id) == "owner" and not _keeps_an_owner(s, account_id)]


def erasure_blocker(states: list[ActorState]) -> ErasureBlocker | None:
    if not states:
        return None
    names = [s.profile.name for s in states]
    listed = ", ".join(f"“{name}”" for name in names)
    return ErasureBlocker(
        message=f"you are the last owner of {listed}: make another member owner, or invite a new owner, "
                "before you delete your account",
        names=names,
    )
