"""Notifications: follows, the inbox, notices, mail at once and in digests — and the mailer.

Endpoints: parse, authorise (every one is the caller's own, but the unsubscribe pair, which
the link's token authorises), decide with `domain`, append to the person's subscriber
subject with its version as the expected sequence, reply once the view applied it.

Exactly once, across replicas, restarts and redeliveries:
- Fan-out (`news.events.>`, one durable consumer): whom an item concerns is decided from
  this replica's views; the recipients go out in delivery events, one per bucket of
  accounts (an account always in the same bucket), each with a deterministic id and
  appended with expected last subject sequence 0. A repeat of the same source event —
  after a kill -9 mid fan-out, a redelivery, another replica racing — stores nothing
  twice: a bucket already stored is refused by the stream, and a notification's id is
  derived from the source event and the account. The inbox is the projection of these.
- Mail (`notifications.events.>`, one durable consumer): each stored delivery or digest
  event is mailed once; the mail's id (its Nats-Msg-Id in the MAIL queue, deduplicated for
  two minutes) is the notification's or digest's id, and the consumer redelivers within
  ten seconds, well inside that window.
- Digests: every replica looks every `digest_interval` seconds; a period's digest is
  claimed in the `notifications-digests` bucket with `create` (a claim whose digest never
  appeared is taken over after a grace period with a compare-and-set `update`), then
  appended with the person's version as the expected sequence and a deterministic id.
"""

from __future__ import annotations

import asyncio
import time
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import nats.js.errors
from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue

from proto import directory as vocab
from proto import identity
from proto import news, subjects
from proto import notifications as api
from proto.common import Empty
from proto.envelope import Envelope, Event, new_id, stable_id
from proto.errors import Invalid, Unavailable
from services.kernel.auth import Principal
from services.kernel.clock import Clock
from services.kernel.commands import Decision
from services.kernel.endpoints import RequestContext
from services.kernel.eventstore import WrongLastSequence
from services.kernel.follower import Follower
from services.kernel.logging import get_logger
from services.kernel.mailer import Mailer
from services.kernel.outbox import enqueue
from services.kernel.runtime import ServiceRuntime
from services.kernel.secrets import platform_secret
from services.kernel.settings import Settings
from services.kernel.streams import ensure_kv
from services.notifications import domain, mails, replies, views
from services.notifications.domain import SubscriberState
from services.notifications.links import Scope, UnsubscribeLinks
from services.notifications.privacy import NotificationsPersonalData
from services.notifications.reactions import AccountsView, DirectoryFacts, Reaction
from services.notifications.views import NotificationsView

log = get_logger("notifications")

DIGEST_INTERVAL = 30.0  # seconds between a replica's looks for due digests
CLAIM_GRACE = timedelta(minutes=2)  # a digest claimed this long ago and never compiled is taken over
CLAIM_TTL = timedelta(days=9)  # a claim outlives its period's week
INBOX_PATH = "/notifications"
# News older than this when the fan-out first sees it is not told: the first start on a
# platform with a history (its consumers begin at the streams' start) must not mail every
# past publication and role change. Default follows are made from the whole history.
STALE_AFTER = timedelta(days=2)
MAIL_DEFER_MAX = 5.0  # seconds immediate mail waits at most for a fan-out under way to be in the inbox

Decide = Callable[[SubscriberState], "Awaitable[Event | None]"]


class NotificationsService(ServiceRuntime):
    name = "notifications"

    def __init__(self, settings: Settings, clock: Clock):
        super().__init__(settings, clock, NotificationsView(), api.ENDPOINTS)
        self.mailer: Mailer | None = None
        self.directory: Follower | None = None
        self.accounts: Follower | None = None
        self.reactions: list[Reaction] = []
        self.fanout: Reaction | None = None
        self.links = UnsubscribeLinks(platform_secret(settings))
        self.claims: KeyValue | None = None
        self.digest_interval = DIGEST_INTERVAL
        self._digests: asyncio.Task[None] | None = None
        self._fanning_out = 0  # fan-outs under way in this replica
        self._delivered_up_to = 0  # stream sequence of the last delivery a fan-out here stored

    # ---- lifecycle -------------------------------------------------------------------------

    async def on_start(self) -> None:
        assert self.js is not None
        replicas = self.settings.nats_stream_replicas
        self.directory = await self.follow_stream(vocab.SERVICE, DirectoryFacts())
        self.accounts = await self.follow_stream(identity.SERVICE, AccountsView())
        self.claims = await ensure_kv(self.js, subjects.KV_DIGESTS, ttl=CLAIM_TTL, replicas=replicas)
        self.fanout = Reaction(self.js, stream_of=news.SERVICE, durable="fanout", handler=self._on_news,
                               replicas=replicas)
        self.reactions = [
            self.fanout,
            Reaction(self.js, stream_of=vocab.SERVICE, durable="notices", handler=self._on_directory,
                     replicas=replicas),
            Reaction(self.js, stream_of=api.SERVICE, durable="mail", handler=self._on_own, replicas=replicas),
        ]
        for reaction in self.reactions:
            await reaction.start()
        self._digests = asyncio.create_task(self._digest_loop(), name="notifications-digests")
        self.mailer = Mailer(self.js, self.settings, self.clock, defer_bulk=self.delivering)
        await self.mailer.start()

    async def on_stop(self) -> None:
        if self._digests is not None:
            self._digests.cancel()
            try:
                await self._digests
            except asyncio.CancelledError:
                pass
            self._digests = None
        for reaction in self.reactions:
            await reaction.stop()
        if self.mailer:
            await self.mailer.stop()

    def personal_data(self) -> NotificationsPersonalData:
        return NotificationsPersonalData(self)

    async def _change(self, account_id: str, decide: Decide, *, by: str | None,
                      event_id: str | None = None) -> SubscriberState:
        """One command on a person's subscriber subject: load, decide, append, evolve."""
        decided: list[tuple[SubscriberState, Event | None]] = []

        async def decision() -> Decision | None:
            state = await views.load_subscriber(self.db, account_id)
            event = await decide(state)
            decided[:] = [(state, event)]
            if event is None:
                return None
            return Decision(api.AGGREGATE_SUBSCRIBER, account_id, event, state.version, event_id)

        assert self.commands is not None
        appended = await self.commands.run(decision, by=by)
        state, event = decided[0]
        if appended is None or event is None:
            return state
        return domain.evolve(state, event, version=appended.seq, at=appended.envelope.occurred_at)

    async def _append_once(self, aggregate: str, aggregate_id: str, event: Event) -> int:
        """Append an event that must be stored once ever (its subject names it; expected 0):
        its stream sequence, or 0 when it was stored before."""
        assert self.store is not None
        envelope = self.store.envelope(event, None, aggregate_id)
        try:
            return await self.store.publish(aggregate, aggregate_id, envelope, expected=0)
        except WrongLastSequence:
            return 0  # stored before: by another replica, or by this one before a crash

    def delivering(self) -> bool:
        """Whether a fan-out here is under way or its inbox rows are not all written yet:
        mail, which may come a little later, waits for it (the mailer and `_on_own`)."""
        return self._fanning_out > 0 or (self.projector is not None
                                         and self.projector.applied < self._delivered_up_to)

    async def _until_delivered(self) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + MAIL_DEFER_MAX
        while self.delivering() and loop.time() < until:
            await asyncio.sleep(0.02)

    # ---- follows -----------------------------------------------------------------------------

    async def _check_target(self, target: api.FollowTarget, principal: Principal) -> None:
        key = target.key
        if target.type == "actor":
            actor = await views.actor(self.db, key)
            if actor is None or (actor.status != "approved" and principal.account_id not in actor.members
                                 and not principal.is_admin):
                raise Invalid(f"there is no actor “{key}”", "target.actor")
        elif target.type == "topic":
            if key not in vocab.TOPIC_SLUGS:
                raise Invalid(f"“{key}” is not a topic of the vocabulary (see `topics`)", "target.topic")
        elif target.type == "region":
            if not await views.region_names(self.db, [key]):
                raise Invalid(f"“{key}” is not a known region key (AGS)", "target.region")

    async def _follow_reply(self, state: SubscriberState, follow_id: str) -> api.Follow:
        return (await replies.follows(self.db, [state.follows[follow_id]]))[0]

    async def follow(self, req: api.FollowRequest, ctx: RequestContext) -> api.Follow:
        principal = ctx.principal()
        await self._check_target(req.target, principal)
        follow_id = new_id()

        async def decide(state: SubscriberState) -> Event | None:
            return domain.decide_follow(state, req, follow_id=follow_id)

        state = await self._change(principal.account_id, decide, by=principal.account_id)
        found = state.follow_of(req.target)
        assert found is not None
        return await self._follow_reply(state, found.id)

    async def update_follow(self, req: api.UpdateFollow, ctx: RequestContext) -> api.Follow:
        principal = ctx.principal()

        async def decide(state: SubscriberState) -> Event | None:
            return domain.decide_update_follow(state, req.follow_id, req.email)

        state = await self._change(principal.account_id, decide, by=principal.account_id)
        return await self._follow_reply(state, req.follow_id)

    async def unfollow(self, req: api.Unfollow, ctx: RequestContext) -> api.FollowList:
        principal = ctx.principal()

        async def decide(state: SubscriberState) -> Event | None:
            return domain.decide_unfollow(state, req.follow_id)

        state = await self._change(principal.account_id, decide, by=principal.account_id)
        return api.FollowList(follows=await replies.follows(self.db, list(state.follows.values())))

    async def follows(self, req: Empty, ctx: RequestContext) -> api.FollowList:
        principal = ctx.principal()
        state = await views.load_subscriber(self.db, principal.account_id)
        return api.FollowList(follows=await replies.follows(self.db, list(state.follows.values())))

    async def mail_settings(self, req: Empty, ctx: RequestContext) -> api.MailSettingsInfo:
        principal = ctx.principal()
        return replies.mail_settings((await views.load_subscriber(self.db, principal.account_id)).settings)

    async def update_mail_settings(self, req: api.UpdateMailSettings, ctx: RequestContext) -> api.MailSettingsInfo:
        principal = ctx.principal()

        async def decide(state: SubscriberState) -> Event | None:
            return domain.decide_mail_settings(state, req)

        state = await self._change(principal.account_id, decide, by=principal.account_id)
        return replies.mail_settings(state.settings)

    # ---- the inbox ---------------------------------------------------------------------------

    async def _position(self, account_id: str, notification_id: str) -> int:
        position = await views.position_of(self.db, account_id, notification_id)
        if position is None:
            # Someone else's and none at all answer alike.
            raise Invalid("this is not a notification of yours", "after")
        return position

    async def _holding(self, at_least: int | None) -> None:
        """Return once this replica's view holds the stream up to `at_least`."""
        if at_least is None:
            return
        assert self.projector is not None
        try:
            await self.projector.wait_for(at_least, timeout=5)
        except TimeoutError:
            raise Unavailable("notifications are catching up; try again in a moment") from None

    async def notifications(self, req: api.GetNotifications, ctx: RequestContext) -> api.NotificationConnection:
        principal = ctx.principal()
        await self._holding(req.at_least)
        before = await self._position(principal.account_id, req.after) if req.after else None
        rows = await views.inbox(self.db, principal.account_id, unread_only=req.unread_only, before=before,
                                 limit=req.first + 1)
        return replies.connection(rows, first=req.first, after=req.after,
                                  unread=await views.unread_count(self.db, principal.account_id))

    async def missed_notifications(self, req: api.GetMissedNotifications,
                                   ctx: RequestContext) -> api.NotificationList:
        principal = ctx.principal()
        await self._holding(req.at_least)
        after = await self._position(principal.account_id, req.after)
        rows = await views.since(self.db, principal.account_id, after, req.first + 1)
        return api.NotificationList(notifications=[r.reply() for r in rows[:req.first]], more=len(rows) > req.first)

    async def unread_count(self, req: Empty, ctx: RequestContext) -> api.UnreadCount:
        principal = ctx.principal()
        return api.UnreadCount(count=await views.unread_count(self.db, principal.account_id))

    async def mark_read(self, req: api.MarkNotificationsRead, ctx: RequestContext) -> api.MarkedRead:
        principal = ctx.principal()
        account_id = principal.account_id
        marked: list[str] = []

        async def decide(state: SubscriberState) -> Event | None:
            # Only the caller's own unread ones: an id of someone else's changes nothing and
            # is answered like one that does not exist (marked 0).
            marked[:] = await views.unread_among(self.db, account_id, list(dict.fromkeys(req.ids)))
            if not marked:
                return None
            return api.NotificationsRead(account_id=account_id, notification_ids=list(marked))

        await self._change(account_id, decide, by=account_id)
        return api.MarkedRead(marked=len(marked), unread_count=await views.unread_count(self.db, account_id))

    async def mark_all_read(self, req: Empty, ctx: RequestContext) -> api.MarkedRead:
        principal = ctx.principal()
        account_id = principal.account_id
        before = await views.unread_count(self.db, account_id)

        async def decide(state: SubscriberState) -> Event | None:
            newest = await views.newest_unread(self.db, account_id)
            return None if newest is None else api.AllNotificationsRead(account_id=account_id, up_to=newest)

        await self._change(account_id, decide, by=account_id)
        after = await views.unread_count(self.db, account_id)
        return api.MarkedRead(marked=max(before - after, 0), unread_count=after)

    # ---- unsubscribe links -----------------------------------------------------------------------

    async def _scope(self, req: api.Unsubscribe) -> tuple[Scope, SubscriberState]:
        scope = self.links.read(req.token)
        return scope, await views.load_subscriber(self.db, scope.account_id)

    async def _describe(self, scope: Scope, state: SubscriberState) -> api.UnsubscribeInfo:
        if scope.follow_id is not None:
            follow = state.follows.get(scope.follow_id)
            if follow is None:
                return api.UnsubscribeInfo(what="a follow you have ended", email="off", done=True)
            name = (await views.target_names(self.db, [follow.target]))[(follow.target.type, follow.target.key)]
            return api.UnsubscribeInfo(what=f"{follow.target.type} “{name}”", email=follow.email,
                                       done=follow.email == "off", target=follow.target, target_name=name)
        cadence: api.DigestCadence = "weekly" if scope.digest == "weekly" else "daily"
        left = [f for f in state.follows.values() if f.email == cadence]
        return api.UnsubscribeInfo(what=f"the {cadence} digest", email=cadence if left else "off",
                                   done=not left, digest=cadence)

    async def unsubscribe_info(self, req: api.Unsubscribe, ctx: RequestContext) -> api.UnsubscribeInfo:
        scope, state = await self._scope(req)
        return await self._describe(scope, state)

    async def unsubscribe(self, req: api.Unsubscribe, ctx: RequestContext) -> api.UnsubscribeInfo:
        scope, state = await self._scope(req)
        before = await self._describe(scope, state)
        targets = ([scope.follow_id] if scope.follow_id in state.follows else []) if scope.follow_id else \
            [f.id for f in state.follows.values() if f.email == scope.digest]
        for follow_id in targets:
            async def decide(current: SubscriberState, follow_id: str = follow_id) -> Event | None:
                if follow_id not in current.follows:
                    return None
                return domain.decide_update_follow(current, follow_id, "off")

            state = await self._change(scope.account_id, decide, by=scope.account_id)
        log.info("notifications.unsubscribed", account_id=scope.account_id, follows=len(targets))
        return before.model_copy(update={"done": True})

    # ---- fan-out: news.events.> ---------------------------------------------------------------

    def _stale(self, envelope: Envelope) -> bool:
        return self.clock.now() - envelope.occurred_at > STALE_AFTER

    async def _on_news(self, envelope: Envelope, seq: int, progress: Callable[[], Awaitable[None]]) -> None:
        if envelope.type == news.ItemPublished.TYPE and self._stale(envelope):
            log.info("notifications.stale_publication", seq=seq)
        elif envelope.type == news.ItemPublished.TYPE:
            self._fanning_out += 1
            try:
                await self._fan_out(envelope, news.ItemPublished.model_validate(envelope.data), progress)
            finally:
                self._fanning_out -= 1
        elif envelope.type == news.ItemWithdrawn.TYPE:
            await self._retract(envelope, news.ItemWithdrawn.model_validate(envelope.data))

    async def _withdrawn(self, item_id: str) -> bool:
        """Whether the item's newest event is its withdrawal: asked of the stream itself, so a
        fan-out that runs late never tells of an item that is gone by now."""
        assert self.js is not None
        subject = subjects.aggregate_subject(news.SERVICE, news.AGGREGATE_ITEM, item_id)
        try:
            last = await self.js.get_last_msg(subjects.stream_name(news.SERVICE), subject)
        except NotFoundError:
            return True  # erased: nothing to tell
        try:
            return Envelope.model_validate_json(last.data or b"").type == news.ItemWithdrawn.TYPE
        except ValueError:
            return False

    async def _fan_out(self, envelope: Envelope, event: news.ItemPublished,
                       progress: Callable[[], Awaitable[None]]) -> None:
        notice = event.notice
        started = time.perf_counter()
        if await self._withdrawn(event.item_id):
            log.info("notifications.withdrawn_before_delivery", item_id=event.item_id)
            return
        assert self.directory is not None
        await self.directory.projector.catch_up()
        actor = await views.actor(self.db, notice.actor_id)
        if actor is None or actor.status != "approved":
            log.warning("notifications.actor_not_approved", item_id=event.item_id, actor_id=notice.actor_id)
            return
        matches = await views.matching_follows(self.db, actor_id=notice.actor_id, kind=notice.kind,
                                               topics=notice.topics, region_scope=notice.region_scope)
        matched = time.perf_counter()
        people = domain.recipients(envelope.id, matches, skip=[envelope.by] if envelope.by else [])
        content = domain.item_content(notice.kind, event.item_id, notice.title, notice.summary, notice.path,
                                      notice.actor_id, notice.actor_name, notice.language,
                                      translations=[(t.language, t.title, t.summary) for t in notice.translations])

        async def deliver(delivery_id: str, group: list[api.Recipient]) -> int:
            return await self._append_once(api.AGGREGATE_DELIVERY, delivery_id, api.NotificationsDelivered(
                source=envelope.id, content=content, recipients=group))

        # Every bucket at once: each is its own subject, stored once whatever the order, and
        # 64 appends in flight take one round trip to the server instead of 64 in a row.
        decided = time.perf_counter()
        seqs = await asyncio.gather(*(deliver(d, g) for d, g in domain.buckets(envelope.id, people)))
        appended = time.perf_counter()
        await progress()
        self._delivered_up_to = max(self._delivered_up_to, *seqs, 0)
        stored = sum(1 for seq in seqs if seq)
        # Where a fan-out's time goes (README, Benchmarks): finding the followers, deciding who
        # is told and why, storing the deliveries.
        log.info("notifications.fanned_out", item_id=event.item_id, people=len(people), deliveries=stored,
                 match_ms=round((matched - started) * 1000), decide_ms=round((decided - matched) * 1000),
                 append_ms=round((appended - decided) * 1000))

    async def _retract(self, envelope: Envelope, event: news.ItemWithdrawn) -> None:
        await self._append_once(api.AGGREGATE_RETRACTION, stable_id("retraction", envelope.id),
                                api.ItemRetracted(item_id=event.item_id))
        if not event.by_admin:
            return
        assert self.directory is not None
        await self.directory.projector.catch_up()
        actor = await views.actor(self.db, event.notice.actor_id)
        if actor is None:
            return
        # The owners are mailed by news (with the reason); here they find it in their inbox.
        await self._notice(envelope.id, actor.owners, lambda de: domain.item_content(
            event.notice.kind, event.item_id,
            f"„{event.notice.title}“ wurde von der Administration zurückgezogen" if de else
            f"“{event.notice.title}” was withdrawn by the administrators",
            event.reason or "", event.notice.path, actor.id, actor.name, "de" if de else "en", kind="item-withdrawn"),
            email="off")

    # ---- notices and default follows: directory.events.> ----------------------------------------

    async def _notice(self, source: str, account_ids: list[str],
                      content: Callable[[bool], api.NotificationContent], *, email: api.EmailCadence) -> None:
        """A notice to each of these people, in their language; one delivery each."""
        accounts = await views.accounts_by_ids(self.db, account_ids)
        for account_id in account_ids:
            account = accounts.get(account_id)
            de = account is None or account.locale != "en"
            recipient = api.Recipient(account_id=account_id, notification_id=domain.notification_id(source, account_id),
                                      email=email)
            await self._append_once(api.AGGREGATE_DELIVERY, stable_id("delivery", source, account_id),
                                    api.NotificationsDelivered(source=stable_id("notice", source, account_id),
                                                               content=content(de), recipients=[recipient]))

    async def _default_follows(self, source: str, account_id: str, regions: list[str]) -> None:
        """Someone who becomes a member of an actor follows its regions, daily; a region they
        follow already keeps the cadence they chose."""
        for ags in regions:
            target = api.FollowTarget(region=ags)
            follow_id = domain.default_follow_id(account_id, target)
            request = api.FollowRequest(target=target, email="daily")

            async def decide(state: SubscriberState, request: api.FollowRequest = request,
                             follow_id: str = follow_id) -> Event | None:
                return domain.decide_follow(state, request, follow_id=follow_id, automatic=True)

            await self._change(account_id, decide, by=None, event_id=stable_id("default-follow", source, follow_id))

    async def _on_directory(self, envelope: Envelope, seq: int, progress: Callable[[], Awaitable[None]]) -> None:
        try:
            event = envelope.event()
        except KeyError:
            return
        assert self.directory is not None and self.accounts is not None
        await self.directory.projector.wait_for(seq)
        source = envelope.id
        if self._stale(envelope) and not isinstance(event, vocab.ActorCreated | vocab.InvitationAccepted):
            return  # an old notice: history, not news (a membership's default follows are still made)

        def actor_content(actor: views.ActorFacts, kind: str, de_title: str, en_title: str, summary: str = ""
                          ) -> Callable[[bool], api.NotificationContent]:
            return lambda de: api.NotificationContent.model_validate({
                "kind": kind, "title": de_title if de else en_title, "summary": summary,
                "path": f"/actors/{actor.slug}", "actor_id": actor.id, "actor_name": actor.name,
                "language": "de" if de else "en"})

        match event:
            case vocab.ActorCreated():
                await self._default_follows(source, event.owner_id, list(event.profile.regions))
            case vocab.InvitationAccepted():
                actor = await views.actor(self.db, event.actor_id)
                if actor is not None:
                    await self._default_follows(source, event.account_id, actor.regions)
            case vocab.MemberInvited():
                actor = await views.actor(self.db, event.actor_id)
                await self.accounts.projector.catch_up()
                invitee = await views.account_by_confirmed_email(self.db, event.email)
                if actor is not None and invitee is not None:
                    # The invitation mail with its link is the directory's; here: the inbox.
                    await self._notice(source, [invitee], actor_content(
                        actor, "invitation", f"Einladung zu „{actor.name}“ als {event.role}",
                        f"You are invited to join “{actor.name}” as {event.role}",
                        "Den Link zum Annehmen finden Sie in Ihrer Mail." ), email="off")
            case vocab.MemberRoleChanged():
                actor = await views.actor(self.db, event.actor_id)
                if actor is not None:
                    await self._notice(source, [event.account_id], actor_content(
                        actor, "membership", f"Ihre Rolle bei „{actor.name}“: {event.role}",
                        f"Your role at “{actor.name}” is now {event.role}"), email="immediate")
            case vocab.MemberRemoved():
                actor = await views.actor(self.db, event.actor_id)
                if actor is not None:
                    await self._notice(source, [event.account_id], actor_content(
                        actor, "membership", f"Sie sind nicht mehr Mitglied von „{actor.name}“",
                        f"You are no longer a member of “{actor.name}”"), email="immediate")
            case vocab.ActorApproved() | vocab.ActorRejected():
                actor = await views.actor(self.db, event.actor_id)
                if actor is not None:
                    approved = isinstance(event, vocab.ActorApproved)
                    reason = "" if approved else getattr(event, "reason", "")
                    # The decision mail is the directory's; here: the owners' inboxes.
                    await self._notice(source, actor.owners, actor_content(
                        actor, "actor-approved" if approved else "actor-rejected",
                        f"„{actor.name}“ wurde {'freigegeben' if approved else 'nicht freigegeben'}",
                        f"“{actor.name}” was {'approved' if approved else 'not approved'}", reason), email="off")

    # ---- mail: notifications.events.> ---------------------------------------------------------

    async def _on_own(self, envelope: Envelope, seq: int, progress: Callable[[], Awaitable[None]]) -> None:
        if envelope.type not in (api.NotificationsDelivered.TYPE, api.DigestCompiled.TYPE):
            return
        assert self.projector is not None and self.accounts is not None
        await self.projector.wait_for(seq, timeout=30)
        if envelope.type == api.NotificationsDelivered.TYPE:
            await self._until_delivered()  # rendering a thousand mails would hold up the inbox rows
            await self._mail_at_once(api.NotificationsDelivered.model_validate(envelope.data), progress)
        else:
            await self._mail_digest(api.DigestCompiled.model_validate(envelope.data))

    async def _mail_at_once(self, event: api.NotificationsDelivered,
                            progress: Callable[[], Awaitable[None]]) -> None:
        due = [r for r in event.recipients if r.email == "immediate"]
        if not due:
            return
        content = event.content
        if content.item_id and content.kind == "item" and await views.is_hidden(self.db, content.item_id):
            return  # withdrawn meanwhile
        assert self.js is not None
        accounts = await views.accounts_by_ids(self.db, [r.account_id for r in due])
        settings = await views.settings_of(self.db, [r.account_id for r in due])
        follows = await views.follows_by_ids(self.db, [r.follow_id for r in due if r.follow_id])
        url = self.settings.link(content.path)
        sent = 0
        for n, recipient in enumerate(due):
            account = accounts.get(recipient.account_id)
            if account is None or account.mail_to is None:
                continue  # mail only to a confirmed address
            if settings.get(recipient.account_id, api.MailSettings()).paused:
                continue
            if recipient.follow_id is not None:
                follow = follows.get(recipient.follow_id)
                if follow is None or follow.email != "immediate":
                    continue  # changed since the fan-out: the person's latest word counts
                unsubscribe = self.settings.link(
                    f"/unsubscribe/{self.links.token(Scope(recipient.account_id, follow_id=recipient.follow_id))}")
                mail = mails.item(to=account.mail_to, locale=account.locale, name=account.display_name,
                                  content=content, reasons=recipient.reasons, url=url, unsubscribe_url=unsubscribe,
                                  notification_id=recipient.notification_id)
            else:
                mail = mails.notice(to=account.mail_to, locale=account.locale, name=account.display_name,
                                    content=content, url=url, notification_id=recipient.notification_id)
            await enqueue(self.js, mail, bulk=True)
            sent += 1
            if n % 200 == 199:
                await progress()
        log.info("notifications.mailed_at_once", source=event.source, mails=sent)

    async def _mail_digest(self, event: api.DigestCompiled) -> None:
        account = (await views.accounts_by_ids(self.db, [event.account_id])).get(event.account_id)
        if account is None or account.mail_to is None:
            return
        rows = await views.by_ids(self.db, event.notification_ids)
        if not rows:
            return  # everything in it was withdrawn meanwhile
        assert self.js is not None
        unsubscribe = self.settings.link(
            f"/unsubscribe/{self.links.token(Scope(event.account_id, digest=event.cadence))}")
        await enqueue(self.js, mails.digest(
            to=account.mail_to, locale=account.locale, name=account.display_name, cadence=event.cadence,
            entries=[(r.content, self.settings.link(r.content.path)) for r in rows], total=len(rows),
            inbox_url=self.settings.link(INBOX_PATH), unsubscribe_url=unsubscribe, digest_id=event.digest_id),
            bulk=True)
        log.info("notifications.digest_mailed", digest_id=event.digest_id, items=len(rows))

    # ---- digests ------------------------------------------------------------------------------

    async def _digest_loop(self) -> None:
        while True:
            try:
                await self.compile_digests()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notifications.digests_failed")  # the next look tries again
            await asyncio.sleep(self.digest_interval)

    async def compile_digests(self) -> int:
        """Compile every digest whose time has come; how many this replica compiled."""
        compiled = 0
        now = self.clock.now()
        for cadence in ("daily", "weekly"):
            for account_id in await views.digest_candidates(self.db, cadence):
                compiled += await self._compile(account_id, cadence, now)
        return compiled

    async def _compile(self, account_id: str, cadence: api.DigestCadence, now: datetime) -> bool:
        state = await views.load_subscriber(self.db, account_id)
        if state.settings.paused:
            return False
        slot = domain.digest_slot(now, state.settings, cadence)
        if await views.digest_of(self.db, account_id, cadence, slot.period) is not None:
            return False
        if not await views.digest_items(self.db, account_id, cadence, slot.due_at, limit=1):
            return False  # nothing new before this period's time
        if not await self._claim(f"{account_id}.{cadence}.{slot.period}", account_id, cadence, slot.period, now):
            return False
        digest_id = domain.digest_id(account_id, cadence, slot.period)

        async def decide(current: SubscriberState) -> Event | None:
            if await views.digest_of(self.db, account_id, cadence, slot.period) is not None:
                return None
            items = await views.digest_items(self.db, account_id, cadence, slot.due_at)
            if not items:
                return None
            return api.DigestCompiled(account_id=account_id, digest_id=digest_id, cadence=cadence,
                                      period=slot.period, notification_ids=[r.id for r in items],
                                      up_to=items[-1].position)

        await self._change(account_id, decide, by=None, event_id=digest_id)
        log.info("notifications.digest_compiled", account_id=account_id, cadence=cadence, period=slot.period)
        return True

    async def _claim(self, key: str, account_id: str, cadence: str, period: str, now: datetime) -> bool:
        assert self.claims is not None
        value = json.dumps({"at": now.isoformat()}).encode()
        try:
            await self.claims.create(key, value)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        try:
            entry = await self.claims.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return False
        claimed_at = datetime.fromisoformat(json.loads(entry.value or b"{}").get("at", now.isoformat()))
        assert self.projector is not None
        await self.projector.catch_up()
        if await views.digest_of(self.db, account_id, cadence, period) is not None or now - claimed_at < CLAIM_GRACE:
            return False
        try:
            # Claimed by a replica that died before compiling it: take it over, one taker only.
            await self.claims.update(key, value, last=entry.revision)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
