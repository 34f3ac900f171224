"""Notifications: follows and mail settings, the inbox and its read state, and the live
`notificationReceived`.

Resolvers turn GraphQL input into `proto.notifications` requests and call the service as the
caller; the service decides everything. The subscription is the gateway's own: it replays
what the caller missed (from the service) and then hands on what the NOTIFICATIONS stream
brings (gateway/notifications_live.py), without a gap or a repeat in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from enum import Enum

import jwt
import strawberry
from starlette.websockets import WebSocket, WebSocketState

from gateway.context import GatewayContext, GatewayInfo
from gateway.languages import of_request
from gateway.notifications_live import NotificationHub, NotificationListener
from gateway.schema.directory import given
from gateway.schema.directory_types import PageInfo, query_request
from gateway.schema.errors import UserError, ask, attempt, graphql_error
from gateway.schema.news_types import NewsKind
from proto import notifications as contract
from proto.common import Empty
from proto.errors import LotseError, Unavailable
from proto.notifications import Notifications

SESSION_EXPIRED_CLOSE_CODE = 4403  # graphql-transport-ws: Forbidden — as a revoked session
SESSION_EXPIRED = "your session has expired: sign in again and resubscribe"
REVERIFY_AFTER = 60.0  # seconds: a quiet live subscription checks its token at least this often


@strawberry.enum(description="How a follow's news is mailed: at once, in the daily or weekly digest, or not.")
class EmailCadence(Enum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


@strawberry.enum
class Weekday(Enum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


@strawberry.enum(description="What a notification is about.")
class NotificationKind(Enum):
    ITEM = "item"
    INVITATION = "invitation"
    MEMBERSHIP = "membership"
    ACTOR_APPROVED = "actor-approved"
    ACTOR_REJECTED = "actor-rejected"
    ITEM_WITHDRAWN = "item-withdrawn"


@strawberry.input(one_of=True, description="Exactly one: an actor (id), a topic (slug), a region (key, AGS) "
                                           "— which covers the regions inside it and around it — or a kind of item.")
class FollowTargetInput:
    actor: strawberry.ID | None = strawberry.UNSET
    topic: str | None = strawberry.UNSET
    region: str | None = strawberry.UNSET
    kind: NewsKind | None = strawberry.UNSET


@strawberry.type(description="What a follow is of: one of the fields is set.")
class FollowTarget:
    actor: strawberry.ID | None
    topic: str | None
    region: str | None
    kind: NewsKind | None

    @classmethod
    def of(cls, target: contract.FollowTarget) -> "FollowTarget":
        return cls(actor=strawberry.ID(target.actor) if target.actor else None, topic=target.topic,
                   region=target.region, kind=NewsKind(target.kind) if target.kind else None)


@strawberry.type
class Follow:
    id: strawberry.ID
    target: FollowTarget
    target_name: str = strawberry.field(description="The actor's or region's name, the topic's or kind's label.")
    email: EmailCadence
    automatic: bool = strawberry.field(description="Made by the platform when you joined an actor; yours to change.")
    created_at: datetime

    @classmethod
    def of(cls, follow: contract.Follow) -> "Follow":
        return cls(id=strawberry.ID(follow.id), target=FollowTarget.of(follow.target), target_name=follow.target_name,
                   email=EmailCadence(follow.email), automatic=follow.automatic, created_at=follow.created_at)


@strawberry.type(description="Account-wide notification mail; digest times are Europe/Berlin wall time.")
class MailSettings:
    paused: bool = strawberry.field(description="No notification mail at all (the inbox keeps filling).")
    digest_hour: int
    digest_weekday: Weekday
    time_zone: str

    @classmethod
    def of(cls, settings: contract.MailSettingsInfo) -> "MailSettings":
        return cls(paused=settings.paused, digest_hour=settings.digest_hour,
                   digest_weekday=Weekday(settings.digest_weekday), time_zone=settings.time_zone)


@strawberry.type(description="Why you were told: one of your follows that matched.")
class NotificationReason:
    target: FollowTarget
    name: str


@strawberry.type
class Notification:
    id: strawberry.ID
    kind: NotificationKind
    title: str
    summary: str
    url: str = strawberry.field(description="Where it leads on Lotse.")
    language: str = strawberry.field(description="The language of `title` and `summary`: the first of the "
                                                 "reader's (`lang`, else Accept-Language) the item has, else "
                                                 "its original.")
    available_languages: list[str] = strawberry.field(description="Every language the notification has.")
    item_id: strawberry.ID | None
    item_kind: NewsKind | None
    actor_id: strawberry.ID | None
    actor_name: str | None
    reasons: list[NotificationReason]
    read: bool
    created_at: datetime

    @classmethod
    def of(cls, n: contract.Notification, link: str, lang: tuple[str, ...]) -> "Notification":
        text = n.text_for(lang)
        return cls(id=strawberry.ID(n.id), kind=NotificationKind(n.kind), title=text.title, summary=text.summary,
                   language=text.language, available_languages=n.languages,
                   url=link, item_id=strawberry.ID(n.item_id) if n.item_id else None,
                   item_kind=NewsKind(n.item_kind) if n.item_kind else None,
                   actor_id=strawberry.ID(n.actor_id) if n.actor_id else None, actor_name=n.actor_name,
                   reasons=[NotificationReason(target=FollowTarget.of(r.target), name=r.name) for r in n.reasons],
                   read=n.read, created_at=n.created_at)


def notification_of(context: GatewayContext, n: contract.Notification, lang: tuple[str, ...]) -> Notification:
    return Notification.of(n, context.gateway.settings.link(n.path), lang)


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo
    unread_count: int


@strawberry.input
class FollowInput:
    target: FollowTargetInput
    email: EmailCadence | None = strawberry.field(default=None, description="Default DAILY.")


@strawberry.input
class UpdateFollowInput:
    follow_id: strawberry.ID
    email: EmailCadence


@strawberry.input
class UnfollowInput:
    follow_id: strawberry.ID


@strawberry.input(description="Fields left out stay as they are.")
class UpdateMailSettingsInput:
    paused: bool | None = None
    digest_hour: int | None = strawberry.field(default=None, description="0–23, Europe/Berlin.")
    digest_weekday: Weekday | None = strawberry.field(default=None, description="The weekly digest's day.")


@strawberry.type
class FollowPayload:
    follow: Follow | None
    user_errors: list[UserError]


@strawberry.type
class UnfollowPayload:
    follows: list[Follow] | None = strawberry.field(description="The follows left.")
    user_errors: list[UserError]


@strawberry.type
class MailSettingsPayload:
    mail_settings: MailSettings | None
    user_errors: list[UserError]


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int = strawberry.field(description="How many of your unread notifications this marked read.")
    unread_count: int | None
    user_errors: list[UserError]


@strawberry.type
class UnsubscribePayload:
    what: str | None = strawberry.field(description="What was turned off.")
    user_errors: list[UserError]


def _follow_payload(reply: contract.Follow | None, errors: list[UserError]) -> FollowPayload:
    return FollowPayload(follow=Follow.of(reply) if reply else None, user_errors=errors)


def _marked(reply: contract.MarkedRead | None, errors: list[UserError]) -> MarkNotificationsReadPayload:
    return MarkNotificationsReadPayload(marked=reply.marked if reply else 0,
                                        unread_count=reply.unread_count if reply else None, user_errors=errors)


@strawberry.type
class Query:
    @strawberry.field(description="Your follows.")
    async def follows(self, info: GatewayInfo) -> list[Follow]:
        return [Follow.of(f) for f in (await ask(info, Empty(), Notifications.follows)).follows]

    @strawberry.field(description="Your notification mail settings.")
    async def mail_settings(self, info: GatewayInfo) -> MailSettings:
        return MailSettings.of(await ask(info, Empty(), Notifications.mail_settings))

    @strawberry.field(description="Your inbox, newest first; `after`: the last notification id of the page before; "
                                  "`lang`: the language to read items in (else Accept-Language, else the original). "
                                  "Withdrawn items leave it.")
    async def notifications(self, info: GatewayInfo, unread_only: bool = False, first: int = 20,
                            after: strawberry.ID | None = None, lang: str | None = None) -> NotificationConnection:
        request = query_request(lambda: contract.GetNotifications(
            unread_only=unread_only, first=first, after=str(after) if after else None,
            at_least=info.context.gateway.notifications_seen))
        reply = await ask(info, request, Notifications.notifications)
        codes = of_request(lang, info.context.request)
        return NotificationConnection(
            edges=[NotificationEdge(cursor=e.cursor, node=notification_of(info.context, e.node, codes))
                   for e in reply.edges],
            page_info=PageInfo.of(reply.page_info), unread_count=reply.unread_count)  # type: ignore[arg-type]

    @strawberry.field(description="How many of your notifications are unread (the same on every device).")
    async def unread_notification_count(self, info: GatewayInfo) -> int:
        return (await ask(info, Empty(), Notifications.unread_count)).count


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Follow an actor, topic, region or kind of item; following it again "
                                     "changes how it is mailed.")
    async def follow(self, info: GatewayInfo, input: FollowInput) -> FollowPayload:
        outcome = await attempt(info, lambda: contract.FollowRequest.model_validate(given(input)), Notifications.follow)
        return _follow_payload(outcome.reply, outcome.user_errors)

    @strawberry.mutation(description="Change how a follow's news is mailed.")
    async def update_follow(self, info: GatewayInfo, input: UpdateFollowInput) -> FollowPayload:
        outcome = await attempt(info, lambda: contract.UpdateFollow.model_validate(given(input)),
                                Notifications.update_follow)
        return _follow_payload(outcome.reply, outcome.user_errors)

    @strawberry.mutation(description="Stop following.")
    async def unfollow(self, info: GatewayInfo, input: UnfollowInput) -> UnfollowPayload:
        outcome = await attempt(info, lambda: contract.Unfollow.model_validate(given(input)), Notifications.unfollow)
        follows = [Follow.of(f) for f in outcome.reply.follows] if outcome.reply else None
        return UnfollowPayload(follows=follows, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Pause all notification mail; the digests' hour and weekday.")
    async def update_mail_settings(self, info: GatewayInfo, input: UpdateMailSettingsInput) -> MailSettingsPayload:
        outcome = await attempt(info, lambda: contract.UpdateMailSettings.model_validate(given(input)),
                                Notifications.update_mail_settings)
        return MailSettingsPayload(mail_settings=MailSettings.of(outcome.reply) if outcome.reply else None,
                                   user_errors=outcome.user_errors)

    @strawberry.mutation(description="Mark some of your notifications read; ids that are not yours change nothing.")
    async def mark_notifications_read(self, info: GatewayInfo, ids: list[strawberry.ID]
                                      ) -> MarkNotificationsReadPayload:
        outcome = await attempt(info, lambda: contract.MarkNotificationsRead(ids=[str(i) for i in ids]),
                                Notifications.mark_read)
        return _marked(outcome.reply, outcome.user_errors)

    @strawberry.mutation(description="Mark every notification you have now read.")
    async def mark_all_notifications_read(self, info: GatewayInfo) -> MarkNotificationsReadPayload:
        outcome = await attempt(info, lambda: Empty(), Notifications.mark_all_read)
        return _marked(outcome.reply, outcome.user_errors)

    @strawberry.mutation(description="Turn off the mail an unsubscribe link (from a mail) names; no sign-in.")
    async def unsubscribe(self, info: GatewayInfo, token: str) -> UnsubscribePayload:
        outcome = await attempt(info, lambda: contract.Unsubscribe(token=token), Notifications.unsubscribe)
        return UnsubscribePayload(what=outcome.reply.what if outcome.reply else None, user_errors=outcome.user_errors)


# ---- the subscription ---------------------------------------------------------------------------

def _expires_at(token: str) -> datetime | None:
    """When the (already verified) token expires: the subscription ends then."""
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


async def _missed(context: GatewayContext, hub: NotificationHub, after: str) -> list[contract.Notification]:
    """Every notification of the caller's after `after`, oldest first, from a view that holds
    at least what the hub has seen."""
    found: list[contract.Notification] = []
    cursor = after
    while True:
        page = await context.gateway.client.notifications.missed_notifications(
            contract.GetMissedNotifications(after=cursor, first=100, at_least=hub.last_seq), context.caller)
        found += page.notifications
        if not page.more or not page.notifications:
            return found
        cursor = page.notifications[-1].id


async def _close_expired(context: GatewayContext) -> None:
    socket = context.request
    if isinstance(socket, WebSocket) and WebSocketState.DISCONNECTED not in (
            socket.application_state, socket.client_state):
        await socket.close(code=SESSION_EXPIRED_CLOSE_CODE, reason=SESSION_EXPIRED)


async def received(context: GatewayContext, hub: NotificationHub, listener: NotificationListener,
                   replay: list[contract.Notification], after: str | None, lang: tuple[str, ...]
                   ) -> AsyncGenerator[Notification, None]:
    last_position = -1
    last_id = after
    try:
        while True:
            for n in replay:
                if n.position > last_position:
                    yield notification_of(context, n, lang)
                    last_position, last_id = n.position, n.id
            replay = []
            expires = _expires_at(context.token or "")
            while not listener.closed:
                if listener.overflowed and last_id is not None:
                    break  # too many at once for the queue: take them from the service
                try:
                    n = listener.queue.get_nowait()
                except asyncio.QueueEmpty:
                    listener.wake.clear()
                    left = (expires - context.gateway.clock.now()).total_seconds() if expires else REVERIFY_AFTER
                    try:
                        await asyncio.wait_for(listener.wake.wait(), max(min(left, REVERIFY_AFTER), 0.01))
                        woke = True
                    except TimeoutError:
                        woke = False
                    # The token again (a signature check, a millisecond under load) when it may have
                    # run out or the wait timed out — not at every wake: a thousand subscribers wake
                    # for one item. A revoked session is closed by gateway.connections meanwhile.
                    if not woke or (expires is not None and context.gateway.clock.now() >= expires):
                        try:
                            context.principal()
                        except LotseError:
                            await _close_expired(context)
                            return
                    continue
                if n.position <= last_position:
                    continue  # replayed already
                yield notification_of(context, n, lang)
                last_position, last_id = n.position, n.id
            if listener.closed:
                return
            listener.overflowed = False
            while not listener.queue.empty():
                listener.queue.get_nowait()
            assert last_id is not None
            replay = await _missed(context, hub, last_id)
    finally:
        hub.remove(listener)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Your notifications as they come. With `after` (the last notification id you saw) first every "
                    "one you missed since, in order, then live ones: no gap, none twice. Over WebSocket with the "
                    "access token in connection_init; ends (close 4403) when the session ends or the token expires.")
    async def notification_received(self, info: GatewayInfo, after: strawberry.ID | None = None,
                                    lang: str | None = None) -> AsyncGenerator[Notification, None]:
        context = info.context
        try:
            principal = context.principal()
            hub = context.gateway.notification_hub
            if not hub.following:
                raise Unavailable("live notifications are starting; try again in a moment")
        except LotseError as e:
            raise graphql_error(e) from None
        # Listen first, then ask what was missed: what arrives meanwhile waits in the queue.
        listener = hub.add(principal.account_id)
        try:
            replay = await _missed(context, hub, str(after)) if after else []
        except LotseError as e:
            hub.remove(listener)
            raise graphql_error(e) from None
        except BaseException:
            hub.remove(listener)
            raise
        return received(context, hub, listener, replay, str(after) if after else None,
                        of_request(lang, context.request))

