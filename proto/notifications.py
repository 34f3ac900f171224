"""Notifications' contract: follows, mail settings, the inbox, unsubscribe links — and the
`MAIL` work queue it delivers (proto/mail.py, services/kernel/mailer.py).

A person follows what concerns them: an actor, a topic, a region or a kind of item. When
news publishes an item, notifications tells every follower it concerns once — one
notification per person and item, however many of their follows match, with the follows
that matched as its reasons. A region follow covers what is published for the region, for
the regions inside it and for the larger regions around it (the item notice's
`region_scope`). Other notices come the same way: an invitation to an actor, a change of
one's membership, an actor approved or rejected, an item withdrawn by an administrator.

Each follow says how its news is mailed (`email`): at once, in the daily or the weekly
digest, or not at all. A notification matched by several follows is mailed by the most
immediate of them, once. Digests go at the person's hour (`digest_hour`, and
`digest_weekday` for the weekly one), in the platform's time zone, Europe/Berlin; `paused`
stops all of this person's notification mail (the inbox keeps filling).

The inbox is read newest first; `after` is a notification id, for the inbox's pages as for
the live subscription's replay. The read state is the server's: every device shows the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from proto.common import Empty, Endpoint, Reply, Request
from proto.directory import Ags, Id
from proto.envelope import Event
from proto.news import ItemKind
from proto.privacy import PersonalDataContract

SERVICE = "notifications"

# ---- vocabularies -----------------------------------------------------------------------

FollowTargetType = Literal["actor", "topic", "region", "kind"]
FOLLOW_TARGET_TYPES: tuple[str, ...] = ("actor", "topic", "region", "kind")
EmailCadence = Literal["immediate", "daily", "weekly", "off"]
# Most immediate first: a notification matched by several follows is mailed by the first.
EMAIL_CADENCES: tuple[str, ...] = ("immediate", "daily", "weekly", "off")
DigestCadence = Literal["daily", "weekly"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DIGEST_TIME_ZONE = "Europe/Berlin"

# What a notification is about: a published item, or a notice about the person's part in an actor.
NotificationKind = Literal["item", "invitation", "membership", "actor-approved", "actor-rejected", "item-withdrawn"]

FOLLOWS_MAX = 200  # a person's follows: more is not following, it is reading everything
MARK_MAX = 100  # ids per markNotificationsRead

First = Annotated[int, Field(ge=1, le=100)]
TopicSlug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Hour = Annotated[int, Field(ge=0, le=23)]
Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


# ---- field groups: spelled once, shared by events, requests and replies --------------------

class FollowTarget(BaseModel):
    """What a follow is of: exactly one of an actor (id), a topic (slug of the directory's
    vocabulary), a region (key, AGS) or a kind of item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: Id | None = None
    topic: TopicSlug | None = None
    region: Ags | None = None
    kind: ItemKind | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "FollowTarget":
        given = [name for name in FOLLOW_TARGET_TYPES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of actor, topic, region or kind")
        return self

    @property
    def type(self) -> FollowTargetType:
        found: FollowTargetType
        for found in ("actor", "topic", "region", "kind"):
            if getattr(self, found) is not None:
                return found
        raise AssertionError("checked at validation: exactly one is given")

    @property
    def key(self) -> str:
        value = getattr(self, self.type)
        assert isinstance(value, str)
        return value

    @classmethod
    def of(cls, type_: str, key: str) -> "FollowTarget":
        return cls.model_validate({type_: key})


class MailSettings(BaseModel):
    """A person's notification mail, account-wide. `digest_hour`: local hour (0–23, Europe/
    Berlin) of the daily and the weekly digest; `digest_weekday`: the weekly digest's day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    paused: bool = False
    digest_hour: Hour = 7
    digest_weekday: Weekday = "monday"


class Reason(BaseModel):
    """Why someone is told: one of their follows that matched, and its target's name then."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: FollowTarget
    name: str


class ContentText(BaseModel):
    """A notification's words in one language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str
    title: str
    summary: str = ""


class NotificationContent(BaseModel):
    """What a notification says, the same for everyone told of the same thing. `path`: where
    it leads on Lotse, relative to the platform's public URL. `title`, `summary` are in
    `language` (an item's original); `translations`: the item's other language versions,
    so each reader is told in theirs (`text_for`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: NotificationKind
    title: str
    summary: str = ""
    path: str
    item_id: str | None = None
    item_kind: ItemKind | None = None
    actor_id: str | None = None
    actor_name: str | None = None
    language: str = "de"
    translations: list[ContentText] = []

    def text_for(self, preferred: Sequence[str]) -> ContentText:
        """The first of the reader's languages this notification has, else its original."""
        versions = {t.language: t for t in self.translations}
        versions[self.language] = ContentText(language=self.language, title=self.title, summary=self.summary)
        return next((versions[code] for code in preferred if code in versions), versions[self.language])

    @property
    def languages(self) -> list[str]:
        return list(dict.fromkeys([self.language, *(t.language for t in self.translations)]))


# ---- replies ------------------------------------------------------------------------------

class Follow(Reply):
    id: str
    target: FollowTarget
    target_name: str  # the actor's or region's name, the topic's or kind's label
    email: EmailCadence
    automatic: bool  # made by the platform (a membership's regions), not by the person
    created_at: datetime


class FollowList(Reply):
    follows: list[Follow]


class MailSettingsInfo(Reply, MailSettings):
    model_config = ConfigDict(extra="ignore", frozen=False)

    time_zone: str = DIGEST_TIME_ZONE


class Notification(Reply, NotificationContent):
    """One notification in a person's inbox. `position`: its place in the order of the
    person's notifications (grows with every new one), for replaying what a client missed."""

    model_config = ConfigDict(extra="ignore", frozen=False)

    id: str
    reasons: list[Reason]
    read: bool
    created_at: datetime
    position: int


class PageInfo(Reply):
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


class NotificationEdge(Reply):
    cursor: str
    node: Notification


class NotificationConnection(Reply):
    edges: list[NotificationEdge]
    page_info: PageInfo
    unread_count: int


class NotificationList(Reply):
    notifications: list[Notification]
    more: bool  # more follow after the last one


class UnreadCount(Reply):
    count: int


class MarkedRead(Reply):
    marked: int  # how many of the caller's unread notifications this marked read
    unread_count: int


class UnsubscribeInfo(Reply):
    """What an unsubscribe link turns off, for the page that asks to confirm it."""

    what: str  # in words: "region “Saarbrücken”", "the daily digest"
    email: EmailCadence  # the mail it turns off now
    done: bool  # already off
    target: FollowTarget | None = None  # a follow's link: what it follows
    target_name: str | None = None
    digest: DigestCadence | None = None  # a digest's link: which one


# ---- requests -----------------------------------------------------------------------------

class FollowRequest(Request):
    """Follow a target; following it again changes the existing follow's `email`."""

    target: FollowTarget
    email: EmailCadence = "daily"


class UpdateFollow(Request):
    follow_id: Id
    email: EmailCadence


class Unfollow(Request):
    follow_id: Id


class UpdateMailSettings(Request):
    """A field left out (null) stays as it is."""

    paused: bool | None = None
    digest_hour: Hour | None = None
    digest_weekday: Weekday | None = None


class GetNotifications(Request):
    """The caller's inbox, newest first; `after`: the last notification id of the page before.
    `at_least`: answer once this replica's view holds the stream up to this sequence — a
    gateway asks for what its live side has pushed, so the inbox never lacks a notification
    a phone was just shown."""

    unread_only: bool = False
    first: First = 20
    after: Id | None = None
    at_least: Annotated[int, Field(ge=0)] | None = None


class GetMissedNotifications(Request):
    """What came after `after` (a notification id of the caller's), oldest first: what a
    live subscriber missed while away. `at_least`: answer once this replica's view holds the
    stream up to this sequence (the live side has seen that far)."""

    after: Id
    first: First = 100
    at_least: Annotated[int, Field(ge=0)] | None = None


class MarkNotificationsRead(Request):
    ids: Annotated[list[Id], Field(min_length=1, max_length=MARK_MAX)]


class Unsubscribe(Request):
    """An unsubscribe link's token, from a mail: no sign-in needed."""

    token: Token


class Notifications(PersonalDataContract):
    """notifications' endpoints: `client.notifications.<verb>(request, caller)`. Every one but
    the unsubscribe pair is the signed-in caller's own; they hold personal data (whom a person
    follows, what they were told), so the contract answers the export and the erasure check."""

    service = SERVICE

    follow = Endpoint(FollowRequest, Follow, "Follow an actor, topic, region or kind of item.")
    update_follow = Endpoint(UpdateFollow, Follow, "Change how a follow's news is mailed.")
    unfollow = Endpoint(Unfollow, FollowList, "Stop following; answers the follows left.")
    follows = Endpoint(Empty, FollowList, "The caller's follows.")
    mail_settings = Endpoint(Empty, MailSettingsInfo, "The caller's notification mail settings.")
    update_mail_settings = Endpoint(UpdateMailSettings, MailSettingsInfo, "Pause mail; digest hour and weekday.")
    notifications = Endpoint(GetNotifications, NotificationConnection, "The caller's inbox, newest first.")
    missed_notifications = Endpoint(GetMissedNotifications, NotificationList,
                                    "The caller's notifications after one of theirs, oldest first (live replay).")
    unread_count = Endpoint(Empty, UnreadCount, "How many of the caller's notifications are unread.")
    mark_read = Endpoint(MarkNotificationsRead, MarkedRead, "Mark some of the caller's notifications read.")
    mark_all_read = Endpoint(Empty, MarkedRead, "Mark every notification the caller has now read.")
    unsubscribe_info = Endpoint(Unsubscribe, UnsubscribeInfo, "What an unsubscribe link turns off (no sign-in).")
    unsubscribe = Endpoint(Unsubscribe, UnsubscribeInfo, "Turn off the mail an unsubscribe link names (no sign-in).")


ENDPOINTS = Notifications.endpoints()


# ---- events --------------------------------------------------------------------------------
# notifications.events.subscriber.<account_id>: one person's follows, settings, read marks and
# digests. notifications.events.delivery.<id>: who was told of one thing — one event per
# source event and bucket of recipients (an account always falls in the same bucket), stored
# once (appended with expected last subject sequence 0), so nobody is told twice.

AGGREGATE_SUBSCRIBER = "subscriber"
AGGREGATE_DELIVERY = "delivery"
AGGREGATE_RETRACTION = "retraction"


class FollowAdded(Event):
    TYPE = "notifications.follow_added"
    account_id: str
    follow_id: str
    target: FollowTarget
    email: EmailCadence
    automatic: bool = False


class FollowChanged(Event):
    TYPE = "notifications.follow_changed"
    account_id: str
    follow_id: str
    email: EmailCadence


class FollowRemoved(Event):
    TYPE = "notifications.follow_removed"
    account_id: str
    follow_id: str


class MailSettingsChanged(Event):
    """The whole settings after the change."""

    TYPE = "notifications.mail_settings_changed"
    account_id: str
    settings: MailSettings


class NotificationsRead(Event):
    """These of the person's notifications were read (ids of someone else's are never here)."""

    TYPE = "notifications.notifications_read"
    account_id: str
    notification_ids: list[str]


class AllNotificationsRead(Event):
    """Every notification of the person up to `up_to` (a position) was read; newer ones stay unread."""

    TYPE = "notifications.all_notifications_read"
    account_id: str
    up_to: int


class DigestCompiled(Event):
    """One digest of one period (`period`: the local date of a daily one, `2026-W14` for a
    weekly one), with what it lists; the mail follows from this event, once."""

    TYPE = "notifications.digest_compiled"
    account_id: str
    digest_id: str
    cadence: DigestCadence
    period: str
    notification_ids: list[str]
    up_to: int  # position of the newest notification considered: the next digest starts after it


class Recipient(BaseModel):
    """One person told: their notification's id (derived from the source event and the
    account, so a repeat is the same notification), why, and how it is mailed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str
    notification_id: str
    reasons: list[Reason] = []
    email: EmailCadence = "off"
    follow_id: str | None = None  # the follow whose `email` decides the mail, for its unsubscribe link


class NotificationsDelivered(Event):
    """Notifications of one source event (`source`: its envelope id) to a bucket of people."""

    TYPE = "notifications.notifications_delivered"
    source: str
    content: NotificationContent
    recipients: list[Recipient]


class ItemRetracted(Event):
    """The item was withdrawn: its notifications leave every inbox."""

    TYPE = "notifications.item_retracted"
    item_id: str
