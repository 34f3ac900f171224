"""News' rules, without I/O: who may write and publish an item, what valid input is, and how
each event changes an item's state.

`decide_*` check the rules on the current state and return the one event that records the
whole change (None: nothing to change), or raise `Invalid` / `Forbidden` / `Conflict` /
`NotFound` naming the field in its public (camelCase) spelling. `evolve` applies an event.

Who may do what rests on news' own copy of the directory (`ActorFacts`, kept by
reactions.py from `directory.events.>`): the actor's owners and editors write its items; an
actor that is pending or rejected writes drafts but publishes nothing; admins withdraw any
item (with a reason) but write none of another actor's.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from pydantic import BaseModel, ConfigDict, HttpUrl, TypeAdapter, ValidationError

from proto import directory as vocab
from proto import news as api
from proto.envelope import Event
from proto.errors import Conflict, Forbidden, Invalid, NotFound
from proto.validation import camel
from services.kernel.auth import Principal
from services.kernel.folding import fold
from services.news import ical

CLOSING_SOON = timedelta(days=14)  # a programme whose deadline is this near is "closing soon"
SCHEDULE_AHEAD = timedelta(days=2 * 366)
LOCAL_ZONE = ZoneInfo(api.DEFAULT_TIME_ZONE)  # whose "today" a deadline is measured against


# ---- state -----------------------------------------------------------------------------

class ActorFacts(BaseModel):
    """What news knows of a directory actor: enough to say who may write for it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    slug: str
    status: vocab.ActorStatus
    members: dict[str, vocab.MemberRole] = {}  # account id →

    def role_of(self, account_id: str | None) -> vocab.MemberRole | None:
        return self.members.get(account_id or "")

    @property
    def owners(self) -> list[str]:
        return [account for account, role in self.members.items() if role == "owner"]


class ItemState(BaseModel):
    """One item as its events made it. `version`: stream sequence of its last event;
    `revision`: how many times its content was edited (the calendar's SEQUENCE)."""

    model_config = ConfigDict(frozen=True)

    id: str
    actor_id: str
    kind: api.ItemKind
    author_id: str
    version: int
    revision: int = 0
    content: api.ItemContent
    status: api.ItemStatus = "draft"
    publish_at: datetime | None = None
    published_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None
    created_at: datetime
    updated_at: datetime


# ---- who may do what -------------------------------------------------------------------

def may_edit(actor: ActorFacts | None, principal: Principal | None) -> bool:
    return principal is not None and actor is not None and actor.role_of(principal.account_id) is not None


def can_read(state: ItemState, actor: ActorFacts | None, principal: Principal | None) -> bool:
    """Published items for everyone (members-only ones for the signed-in); the rest only for
    the actor's editors and admins."""
    if state.status == "published":
        return state.content.visibility == "public" or principal is not None
    return principal is not None and (principal.is_admin or may_edit(actor, principal))


def require_visible(state: ItemState, actor: ActorFacts | None, principal: Principal | None) -> None:
    # An item the caller may not see does not exist for them: no hint that it does.
    if not can_read(state, actor, principal):
        raise NotFound("there is no such item", "itemId")


def require_editor(actor: ActorFacts | None, principal: Principal) -> ActorFacts:
    if actor is None:
        raise NotFound("there is no such actor", "actorId")
    if not may_edit(actor, principal):
        raise Forbidden("only the actor's owners and editors may write and publish its news")
    return actor


def require_may_publish(actor: ActorFacts) -> None:
    if actor.status != "approved":
        raise Forbidden(
            "the actor is not approved yet (or was rejected): its items can be written as drafts, "
            "and published once an administrator approved it", "actorId")


def check_version(state: ItemState, expected: int | None) -> None:
    if expected is not None and expected != state.version:
        raise Conflict("this item was changed by someone else since you loaded it; reload and try again",
                       "expectedVersion")


def require_not_withdrawn(state: ItemState) -> None:
    if state.status == "withdrawn":
        raise Conflict("this item was withdrawn; write a new one instead", "itemId")


# ---- checking input --------------------------------------------------------------------

MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9:-]*(\s[^<>]*)?/?\s*>|<!--")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
_url = TypeAdapter(HttpUrl)


def check_text(value: str, field: str, *, multiline: bool = False) -> str:
    if MARKUP.search(value):
        raise Invalid("HTML or script is not allowed here; write plain text (Markdown goes in the body)", field)
    if (CONTROL if multiline else CONTROL_OR_BREAK).search(value):
        raise Invalid("this text contains control characters", field)
    return value


def check_body(value: str, field: str) -> str:
    if len(value) > api.BODY_MAX:
        raise Invalid(f"the text may be at most {api.BODY_MAX:,} characters long (it has {len(value):,})", field)
    if CONTROL.search(value):
        raise Invalid("this text contains control characters", field)
    return value


def check_url(value: str, field: str, *, https_only: bool = False) -> str:
    try:
        url = _url.validate_python(value)
    except ValidationError:
        raise Invalid("enter a web address starting with https:// or http://", field) from None
    if not url.host or "." not in url.host:
        raise Invalid("enter a complete web address, such as https://www.example.de", field)
    if https_only and url.scheme != "https":
        raise Invalid("an image must come from an https:// address", field)
    return value


def check_language(code: str, field: str) -> str:
    code = code.strip().lower()
    if not LANGUAGE_CODE.match(code) or pycountry.languages.get(alpha_2=code) is None:
        raise Invalid(f"“{code}” is not an ISO 639-1 language code (such as de, en, ar, uk)", field)
    return code


def check_languages(codes: Iterable[str], field: str) -> list[str]:
    return list(dict.fromkeys(check_language(c, field) for c in codes))


def check_topics(topics: Iterable[str], field: str) -> list[str]:
    result: list[str] = []
    for topic in topics:
        if topic not in vocab.TOPIC_SLUGS:
            raise Invalid(f"“{topic}” is not a topic of the vocabulary (see `topics`)", field)
        if topic not in result:
            result.append(topic)
    return result


def check_regions(keys: Iterable[str], field: str, known: Collection[str]) -> list[str]:
    result: list[str] = []
    for key in keys:
        if key not in known:
            raise Invalid(f"“{key}” is not a known region key (AGS)", field)
        if key not in result:
            result.append(key)
    return result


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"“{name}” is not a time zone of the tz database (such as Europe/Berlin)",
                      "event.timeZone") from None
    return name


def check_event(details: api.EventDetails) -> api.EventDetails:
    """The event as stored: local times, a bounded rule in normal form, checked exceptions."""
    tz = ZoneInfo(check_time_zone(details.time_zone))
    start, end = ical.wall_time(details.starts_at, tz), ical.wall_time(details.ends_at, tz)
    if details.all_day:
        start, end = datetime.combine(start.date(), datetime.min.time()), datetime.combine(
            end.date(), datetime.min.time())
        if end < start:
            raise Invalid("the last day is before the first", "event.endsAt")
    elif end <= start:
        raise Invalid("the event ends before it starts", "event.endsAt")
    for name in ("place_name", "organiser"):
        value = getattr(details, name)
        if value is not None:
            check_text(value, f"event.{camel(name)}")
    for name in ("online_url", "registration_url"):
        value = getattr(details, name)
        if value is not None:
            check_url(value, f"event.{camel(name)}")
    values: dict[str, Any] = {"starts_at": start, "ends_at": end}
    starts: list[datetime] = [start]
    if details.recurrence is not None:
        rule, starts = ical.check_rule(details.model_copy(update=values))
        values["recurrence"] = rule
    elif details.changed_occurrences:
        raise Invalid("only a repeating event has occurrences to cancel or move", "event.changedOccurrences")
    changes: list[api.OccurrenceChange] = []
    seen: set[datetime] = set()
    length = end - start
    for n, change in enumerate(details.changed_occurrences):
        field = f"event.changedOccurrences.{n}"
        occurrence = ical.wall_time(change.occurrence, tz)
        if details.all_day:
            occurrence = datetime.combine(occurrence.date(), datetime.min.time())
        if occurrence not in starts:
            raise Invalid("the event has no occurrence starting then (give the start the rule gives it)",
                          f"{field}.occurrence")
        if occurrence in seen:
            raise Invalid("this occurrence is changed twice", f"{field}.occurrence")
        seen.add(occurrence)
        moved_start = ical.wall_time(change.starts_at, tz) if change.starts_at else None
        moved_end = ical.wall_time(change.ends_at, tz) if change.ends_at else None
        if not change.cancelled and moved_start is None:
            raise Invalid("say whether the occurrence is cancelled, or when it starts instead", f"{field}.startsAt")
        if moved_start is not None:
            moved_end = moved_end or moved_start + length
            if moved_end <= moved_start and not details.all_day:
                raise Invalid("the occurrence ends before it starts", f"{field}.endsAt")
        changes.append(api.OccurrenceChange(occurrence=occurrence, cancelled=change.cancelled,
                                            starts_at=moved_start, ends_at=moved_end))
    values["changed_occurrences"] = sorted(changes, key=lambda c: c.occurrence)
    return details.model_copy(update=values)


def check_funding(details: api.FundingDetails, *, today: date, deadline_changed: bool) -> api.FundingDetails:
    check_text(details.funder, "funding.funder")
    if details.rolling and details.deadline is not None:
        raise Invalid("a programme with rolling applications has no deadline; give one or the other",
                      "funding.deadline")
    if not details.rolling and details.deadline is None:
        raise Invalid("give the application deadline, or say that applications are rolling", "funding.deadline")
    if deadline_changed and details.deadline is not None and details.deadline < today:
        raise Invalid("the application deadline is in the past", "funding.deadline")
    if details.amount_min is not None and details.amount_max is not None and details.amount_max < details.amount_min:
        raise Invalid("the largest amount is smaller than the smallest", "funding.amountMax")
    return details.model_copy(update={"eligible_applicants": list(dict.fromkeys(details.eligible_applicants))})


def check_content(content: api.ItemContent, kind: api.ItemKind, *, known_regions: Collection[str],
                  today: date, previous: api.ItemContent | None = None) -> api.ItemContent:
    """The content as it will be stored: every field checked, lists without repeats."""
    check_text(content.title, "title")
    check_text(content.summary, "summary", multiline=True)
    check_body(content.body, "body")
    language = check_language(content.language, "language")
    topics = check_topics(content.topics, "topics")
    if not content.regions:
        raise Invalid("name at least one region the item concerns (the state, for statewide news)", "regions")
    regions = check_regions(content.regions, "regions", known_regions)
    if content.link is not None:
        check_url(content.link, "link")
    tags: list[str] = []
    for tag in content.tags:
        check_text(tag, "tags")
        if fold(tag) not in (fold(t) for t in tags):
            tags.append(tag)
    if len(tags) > api.TAGS_MAX:
        raise Invalid(f"at most {api.TAGS_MAX} tags", "tags")
    if content.image is not None:
        check_url(content.image.url, "image.url", https_only=True)
        check_text(content.image.alt, "image.alt")
    if len(content.translations) > api.TRANSLATIONS_MAX:
        raise Invalid(f"at most {api.TRANSLATIONS_MAX} translations", "translations")
    translations: list[api.Translation] = []
    for n, translation in enumerate(content.translations):
        field = f"translations.{n}"
        code = check_language(translation.language, f"{field}.language")
        if code == language or code in (t.language for t in translations):
            raise Invalid("there is a version in this language already", f"{field}.language")
        check_text(translation.title, f"{field}.title")
        check_text(translation.summary, f"{field}.summary", multiline=True)
        check_body(translation.body, f"{field}.body")
        translations.append(translation.model_copy(update={"language": code}))
    event = content.event
    if kind == "event":
        if event is None:
            raise Invalid("an event needs its time: starts, ends, time zone", "event")
        event = check_event(event)
    elif event is not None:
        raise Invalid("only an event has event details", "event")
    funding = content.funding
    if kind == "funding-programme":
        if funding is None:
            raise Invalid("a funding programme needs its funder and deadline", "funding")
        before = previous.funding.deadline if previous is not None and previous.funding is not None else None
        funding = check_funding(funding, today=today, deadline_changed=previous is None or funding.deadline != before)
    elif funding is not None:
        raise Invalid("only a funding programme has funding details", "funding")
    return content.model_copy(update={
        "language": language, "topics": topics, "regions": regions, "tags": tags, "translations": translations,
        "event": event, "funding": funding,
    })


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL_ZONE).date()


def funding_status(funding: api.FundingDetails, today: date) -> api.FundingStatus:
    if funding.rolling or funding.deadline is None:
        return "open"
    if funding.deadline < today:
        return "closed"
    if funding.deadline - today < CLOSING_SOON:
        return "closing-soon"
    return "open"


# ---- notices ---------------------------------------------------------------------------

def path_of(item_id: str) -> str:
    return f"/news/{item_id}"


def first_start(content: api.ItemContent, item_id: str) -> datetime | None:
    if content.event is None:
        return None
    found = ical.occurrences(content.event, item_id)
    return found[0].starts_at if found else None


def notice(item_id: str, kind: api.ItemKind, content: api.ItemContent, actor: ActorFacts,
           scope: Collection[str]) -> api.Notice:
    """What a consumer needs to decide whom to tell; `scope` from the region hierarchy."""
    return api.Notice(
        kind=kind, actor_id=actor.id, actor_name=actor.name, language=content.language, title=content.title,
        summary=content.summary,
        translations=[api.NoticeText(language=t.language, title=t.title, summary=t.summary)
                      for t in content.translations],
        topics=list(content.topics), regions=list(content.regions), region_scope=sorted(scope),
        visibility=content.visibility, link=content.link, path=path_of(item_id),
        starts_at=first_start(content, item_id),
        deadline=content.funding.deadline if content.funding is not None else None,
    )


# ---- deciding --------------------------------------------------------------------------

def _build(values: dict[str, Any]) -> api.ItemContent:
    try:
        return api.ItemContent.model_validate(values)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        loc = [camel(str(p)) if isinstance(p, str) else str(p) for p in first.get("loc", ())]
        raise Invalid(str(first.get("msg", "invalid value")), ".".join(loc) or None) from None


CONTENT_FIELDS = set(api.ItemContent.model_fields)


def decide_create(cmd: api.CreateNewsItem, *, item_id: str, principal: Principal, actor: ActorFacts | None,
                  known_regions: Collection[str], now: datetime) -> api.ItemCreated:
    actor = require_editor(actor, principal)
    content = check_content(_build(cmd.model_dump(include=CONTENT_FIELDS)), cmd.kind,
                            known_regions=known_regions, today=local_today(now))
    return api.ItemCreated(item_id=item_id, actor_id=actor.id, kind=cmd.kind, author_id=principal.account_id,
                           content=content)


def _patch(current: api.ItemContent, cmd: api.UpdateNewsItem) -> dict[str, Any]:
    values = current.model_dump()
    for name in CONTENT_FIELDS:
        value = getattr(cmd, name, None)
        if value is None:
            continue
        if name in cmd.clear:
            raise Invalid(f"{camel(name)} is both set and cleared", "clear")
        if isinstance(value, BaseModel):
            values[name] = value.model_dump()
        elif isinstance(value, list):
            values[name] = [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
        else:
            values[name] = value
    for name in cmd.clear:
        values[name] = None
    return values


def decide_update(state: ItemState, cmd: api.UpdateNewsItem, principal: Principal, actor: ActorFacts | None,
                  known_regions: Collection[str], now: datetime, *,
                  scope: Collection[str]) -> api.ItemUpdated | None:
    """`scope`: the region scope of the regions the item will have, for a published item's notice."""
    require_visible(state, actor, principal)
    actor = require_editor(actor, principal)
    require_not_withdrawn(state)
    check_version(state, cmd.expected_version)
    content = check_content(_build(_patch(state.content, cmd)), state.kind, known_regions=known_regions,
                            today=local_today(now), previous=state.content)
    changed = [name for name in api.ItemContent.model_fields
               if getattr(state.content, name) != getattr(content, name)]
    if not changed:
        return None
    published = state.status == "published"
    return api.ItemUpdated(
        item_id=state.id, content=content, changed=changed,
        notice=notice(state.id, state.kind, content, actor, scope) if published else None,
    )


def decide_publish(state: ItemState, principal: Principal, actor: ActorFacts | None, expected: int | None,
                   scope: Collection[str]) -> api.ItemPublished | None:
    require_visible(state, actor, principal)
    actor = require_editor(actor, principal)
    require_not_withdrawn(state)
    check_version(state, expected)
    if state.status == "published":
        return None
    require_may_publish(actor)
    return api.ItemPublished(item_id=state.id, notice=notice(state.id, state.kind, state.content, actor, scope))


def decide_schedule(state: ItemState, principal: Principal, actor: ActorFacts | None, *,
                    publish_at: datetime | None, expected: int | None,
                    now: datetime) -> api.ItemScheduled | api.ScheduleCancelled | None:
    require_visible(state, actor, principal)
    actor = require_editor(actor, principal)
    require_not_withdrawn(state)
    check_version(state, expected)
    if state.status == "published":
        raise Conflict("this item is published already", "itemId")
    if publish_at is None:
        return api.ScheduleCancelled(item_id=state.id) if state.status == "scheduled" else None
    if publish_at.tzinfo is None:
        raise Invalid("give the time with its offset (e.g. 2026-05-04T09:00:00+02:00)", "publishAt")
    publish_at = publish_at.astimezone(UTC)
    if publish_at <= now:
        raise Invalid("the time to publish is in the past; publish now instead", "publishAt")
    if publish_at - now > SCHEDULE_AHEAD:
        raise Invalid("an item can be scheduled at most two years ahead", "publishAt")
    require_may_publish(actor)
    if state.status == "scheduled" and state.publish_at == publish_at:
        return None
    return api.ItemScheduled(item_id=state.id, publish_at=publish_at)


def decide_due(state: ItemState, actor: ActorFacts | None, *, now: datetime,
               scope: Collection[str]) -> api.ItemPublished | api.ScheduleCancelled | None:
    """The service's own decision when a scheduled item's time has come (no caller)."""
    if state.status != "scheduled" or state.publish_at is None or state.publish_at > now:
        return None
    if actor is None or actor.status != "approved":
        return api.ScheduleCancelled(
            item_id=state.id, reason="the actor was not approved when the item was to be published")
    return api.ItemPublished(item_id=state.id, notice=notice(state.id, state.kind, state.content, actor, scope),
                             scheduled=True)


def decide_withdraw(state: ItemState, principal: Principal, actor: ActorFacts | None, *, reason: str | None,
                    scope: Collection[str]) -> api.ItemWithdrawn | None:
    require_visible(state, actor, principal)
    editor = may_edit(actor, principal)
    if not editor and not principal.is_admin:
        raise Forbidden("only the actor's owners and editors, or an administrator, may withdraw its news")
    if state.status == "withdrawn":
        return None
    if reason is not None:
        check_text(reason, "reason", multiline=True)
    by_admin = not editor
    if by_admin and not reason:
        raise Invalid("give a reason: it is mailed to the actor's owners", "reason")
    if actor is None:
        raise NotFound("there is no such actor", "actorId")
    return api.ItemWithdrawn(item_id=state.id, reason=reason, by_admin=by_admin,
                             notice=notice(state.id, state.kind, state.content, actor, scope))


# ---- evolving --------------------------------------------------------------------------

def evolve(state: ItemState | None, event: Event, *, version: int, at: datetime) -> ItemState:
    """The state after `event` (stream sequence `version`, appended at `at`)."""
    if isinstance(event, api.ItemCreated):
        return ItemState(id=event.item_id, actor_id=event.actor_id, kind=event.kind, author_id=event.author_id,
                         version=version, content=event.content, created_at=at, updated_at=at)
    if state is None:
        raise ValueError(f"{event.TYPE} for an item that was never created")
    change: dict[str, Any] = {"version": version, "updated_at": at}
    match event:
        case api.ItemUpdated():
            change.update(content=event.content, revision=state.revision + 1)
        case api.ItemScheduled():
            change.update(status="scheduled", publish_at=event.publish_at)
        case api.ScheduleCancelled():
            change.update(status="draft", publish_at=None)
        case api.ItemPublished():
            change.update(status="published", publish_at=None, published_at=at)
        case api.ItemWithdrawn():
            # Withdrawing changes what a calendar shows (the entry is gone): a new SEQUENCE.
            change.update(status="withdrawn", withdrawn_at=at, withdrawal_reason=event.reason,
                          revision=state.revision + 1, publish_at=None)
        case _:
            raise ValueError(f"no rule for {event.TYPE}")
    return state.model_copy(update=change)


def describe(event: Event) -> list[str]:
    """For the history: the camelCase fields an event changed."""
    match event:
        case api.ItemCreated():
            return [camel(n) for n, v in event.content.model_dump().items() if v not in (None, "", [])]
        case api.ItemUpdated():
            return [camel(f) for f in event.changed]
        case api.ItemScheduled():
            return ["status", "scheduledFor"]
        case api.ScheduleCancelled():
            return ["status", "scheduledFor"]
        case api.ItemPublished():
            return ["status", "publishedAt"]
        case api.ItemWithdrawn():
            return ["status", "withdrawalReason"] if event.reason else ["status"]
    return []
