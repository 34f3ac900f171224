"""Notifications' rules, without I/O: a person's follows and settings (decide, evolve), whom a
published item concerns and why (`recipients`), how they are bucketed into delivery events,
and when a digest is due (`digest_slot`), DST included.

`decide_*` return the one event that records the whole change (None: nothing to change), or
raise `Invalid` / `NotFound` naming the field in its public (camelCase) spelling.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from proto import notifications as api
from proto.envelope import Event, stable_id
from proto.errors import Invalid, NotFound

LOCAL_ZONE = ZoneInfo(api.DIGEST_TIME_ZONE)
BUCKETS = 64  # delivery events per source event at most: 10,000 followers make ~160 per event

KIND_NAMES = {"article": "Artikel", "press-release": "Pressemitteilungen", "event": "Veranstaltungen",
              "funding-programme": "Förderprogramme"}


# ---- state -----------------------------------------------------------------------------

@dataclass(frozen=True)
class FollowState:
    id: str
    target: api.FollowTarget
    email: api.EmailCadence
    automatic: bool
    created_at: datetime


@dataclass(frozen=True)
class SubscriberState:
    """One person's follows and mail settings; `version`: stream sequence of its last event."""

    account_id: str
    version: int = 0
    follows: dict[str, FollowState] = field(default_factory=dict)
    settings: api.MailSettings = api.MailSettings()

    def follow_of(self, target: api.FollowTarget) -> FollowState | None:
        return next((f for f in self.follows.values() if f.target == target), None)


def evolve(state: SubscriberState, event: Event, *, version: int, at: datetime) -> SubscriberState:
    follows = dict(state.follows)
    settings = state.settings
    match event:
        case api.FollowAdded():
            follows[event.follow_id] = FollowState(event.follow_id, event.target, event.email, event.automatic, at)
        case api.FollowChanged():
            if (old := follows.get(event.follow_id)) is not None:
                follows[event.follow_id] = replace(old, email=event.email)
        case api.FollowRemoved():
            follows.pop(event.follow_id, None)
        case api.MailSettingsChanged():
            settings = event.settings
    return SubscriberState(state.account_id, version, follows, settings)


# ---- follows ----------------------------------------------------------------------------

def decide_follow(state: SubscriberState, req: api.FollowRequest, *, follow_id: str,
                  automatic: bool = False) -> Event | None:
    """A new follow, or the existing follow of the same target with the new cadence."""
    existing = state.follow_of(req.target)
    if existing is not None:
        if automatic or existing.email == req.email:
            return None  # a default never overrides what the person chose
        return api.FollowChanged(account_id=state.account_id, follow_id=existing.id, email=req.email)
    if len(state.follows) >= api.FOLLOWS_MAX:
        if automatic:
            return None
        raise Invalid(f"you follow {api.FOLLOWS_MAX} things already; unfollow some first", "target")
    return api.FollowAdded(account_id=state.account_id, follow_id=follow_id, target=req.target, email=req.email,
                           automatic=automatic)


def _own(state: SubscriberState, follow_id: str) -> FollowState:
    follow = state.follows.get(follow_id)
    if follow is None:
        # Someone else's follow and none at all answer alike: nothing to learn about others.
        raise NotFound("you have no such follow", "followId")
    return follow


def decide_update_follow(state: SubscriberState, follow_id: str, email: api.EmailCadence) -> Event | None:
    follow = _own(state, follow_id)
    if follow.email == email:
        return None
    return api.FollowChanged(account_id=state.account_id, follow_id=follow_id, email=email)


def decide_unfollow(state: SubscriberState, follow_id: str) -> Event:
    _own(state, follow_id)
    return api.FollowRemoved(account_id=state.account_id, follow_id=follow_id)


def decide_mail_settings(state: SubscriberState, req: api.UpdateMailSettings) -> Event | None:
    changes = req.model_dump(exclude_none=True)
    settings = state.settings.model_copy(update=changes)
    if settings == state.settings:
        return None
    return api.MailSettingsChanged(account_id=state.account_id, settings=settings)


def default_follow_id(account_id: str, target: api.FollowTarget) -> str:
    """The follow a membership makes: the same id each time, so a repeat makes none."""
    return stable_id("follow", account_id, target.type, target.key)


# ---- fan-out ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    """One follow that an item matches."""

    account_id: str
    follow_id: str
    target: api.FollowTarget
    email: api.EmailCadence
    name: str


def notification_id(source: str, account_id: str) -> str:
    """One notification per person and source event, whichever replica or attempt makes it."""
    return stable_id("notification", source, account_id)


def recipients(source: str, matches: Iterable[Match], *, skip: Iterable[str] = ()) -> list[api.Recipient]:
    """One recipient per person, however many of their follows match: every match a reason,
    the most immediate cadence theirs (and that follow's id for the unsubscribe link)."""
    skipped = set(skip)
    by_account: dict[str, list[Match]] = {}
    for match in matches:
        if match.account_id not in skipped:
            by_account.setdefault(match.account_id, []).append(match)
    found = []
    # A handful of targets for thousands of people: one Reason object per target and name.
    # Keyed by plain strings, and a person's reasons told apart by object: hashing a frozen
    # model is slow enough that it was half of a 10,000-person fan-out's decision.
    known: dict[tuple[str, str, str], api.Reason] = {}
    target_keys: dict[int, tuple[str, str]] = {}  # by object: the matches share their targets

    def reason(m: Match) -> api.Reason:
        target = target_keys.get(id(m.target))
        if target is None:
            target = target_keys[id(m.target)] = (m.target.type, m.target.key)
        found_reason = known.get((*target, m.name))
        if found_reason is None:
            found_reason = known[(*target, m.name)] = api.Reason(target=m.target, name=m.name)
        return found_reason

    for account_id in sorted(by_account):
        mine = sorted(by_account[account_id], key=lambda m: (api.EMAIL_CADENCES.index(m.email), m.follow_id))
        reasons = list({id(r): r for r in map(reason, mine)}.values())
        found.append(api.Recipient(account_id=account_id, notification_id=notification_id(source, account_id),
                                   reasons=reasons, email=mine[0].email,
                                   follow_id=mine[0].follow_id if mine[0].email != "off" else None))
    return found


def bucket_of(account_id: str) -> int:
    """An account's bucket: always the same, so a repeated fan-out stores each person once."""
    return int.from_bytes(hashlib.sha256(account_id.encode()).digest()[:4], "big") % BUCKETS


def buckets(source: str, people: Sequence[api.Recipient]) -> list[tuple[str, list[api.Recipient]]]:
    """(delivery id, recipients) per non-empty bucket, in bucket order."""
    grouped: dict[int, list[api.Recipient]] = {}
    for person in people:
        grouped.setdefault(bucket_of(person.account_id), []).append(person)
    return [(stable_id("delivery", source, str(b)), grouped[b]) for b in sorted(grouped)]


SUMMARY_KEPT = 300  # characters of an item's summary a notification carries


def item_content(notice_kind: str, item_id: str, title: str, summary: str, path: str, actor_id: str,
                 actor_name: str, language: str, kind: str = "item",
                 translations: Sequence[tuple[str, str, str]] = ()) -> api.NotificationContent:
    """`translations`: (language, title, summary) of the item's other versions."""
    return api.NotificationContent.model_validate({
        "kind": kind, "title": title, "summary": summary[:SUMMARY_KEPT], "path": path, "item_id": item_id,
        "item_kind": notice_kind, "actor_id": actor_id, "actor_name": actor_name, "language": language,
        "translations": [{"language": code, "title": t, "summary": text[:SUMMARY_KEPT]}
                         for code, t, text in translations if code != language]})


# ---- digests ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Slot:
    """One digest period: its key (`2026-03-29`, `2026-W14`) and the moment it is due (UTC)."""

    period: str
    due_at: datetime


def _at_hour(day: date, hour: int) -> datetime:
    # A local hour that a spring-forward skips (02:00) is read as the wall time it would have
    # been (zoneinfo's fold 0): 03:00 CEST; one that autumn repeats is its first occurrence.
    return datetime.combine(day, time(hour), LOCAL_ZONE).astimezone(UTC)


def digest_slot(now: datetime, settings: api.MailSettings, cadence: api.DigestCadence) -> Slot:
    """The latest period whose digest time has come by `now`, in Europe/Berlin wall time."""
    today = now.astimezone(LOCAL_ZONE).date()
    if cadence == "daily":
        for day in (today, today - timedelta(days=1)):
            due = _at_hour(day, settings.digest_hour)
            if due <= now:
                return Slot(day.isoformat(), due)
        raise AssertionError("yesterday's hour has always come")
    weekday = api.WEEKDAYS.index(settings.digest_weekday)
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    due = _at_hour(day, settings.digest_hour)
    if due > now:
        day -= timedelta(days=7)
        due = _at_hour(day, settings.digest_hour)
    year, week, _ = day.isocalendar()
    return Slot(f"{year}-W{week:02d}", due)


def digest_id(account_id: str, cadence: str, period: str) -> str:
    return stable_id("digest", account_id, cadence, period)
