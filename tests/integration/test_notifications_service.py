"""Notifications through its NATS endpoints, beside a real directory and news service, against a
real nats-server: follows, the fan-out with its reasons, the inbox and its read state, notices,
mail at once (to confirmed addresses only) and digests (DST included), unsubscribe links.

Accounts are announced as identity announces them; tokens are signed by a test key the
services trust; mail is read from the MAIL work queue's notification subject.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats.errors
import pytest

from proto import directory as dapi
from proto import identity, subjects
from proto import news as napi
from proto import notifications as api
from proto.client import LotseClient
from proto.common import Caller, Empty
from proto.errors import Invalid, NotFound
from proto.mail import OutgoingMail
from services.directory.service import DirectoryService
from services.kernel.clock import Clock
from services.kernel.eventstore import EventStore
from services.kernel.settings import Settings
from services.news.service import NewsService
from services.notifications.service import NotificationsService
from tests.support.tokens import TestIssuer

SAARLAND = "10"
REGIONALVERBAND = "10041"
SAARBRUECKEN = "10041100"
MERZIG = "10042113"


def settings_for(path: Path) -> Settings:
    return Settings(nats_url="unused", data_dir=path, public_url="https://lotse.test", log_format="json",
                    log_level="warning", secret_key="a-test-secret")


@dataclass
class Platform:
    directory: DirectoryService
    news: NewsService
    notifications: NotificationsService
    client: LotseClient
    clock: Clock
    issuer: TestIssuer
    nc: Any

    def caller(self, account_id: str, role: str = "member") -> Caller:
        return Caller(token=self.issuer.token(account_id, role))

    @property
    def admin(self) -> Caller:
        return self.caller("admin-1", "admin")

    async def account(self, account_id: str, *, confirmed: bool = True, locale: str = "de") -> Caller:
        store = EventStore(self.nc.jetstream(), identity.SERVICE, self.clock)
        email = f"{account_id}@example.org"
        seq = await store.append("account", account_id, identity.AccountRegistered(
            account_id=account_id, username=account_id, email=email, display_name=account_id.title(),
            locale=locale, role="member", password_hash=None, confirm_token_hash=None, confirm_expires_at=None,
        ), expected=0, by=None)
        if confirmed:
            seq = await store.append("account", account_id, identity.EmailConfirmed(email=email), expected=seq,
                                     by=None)
        for service in (self.news, self.notifications):
            assert service.accounts is not None
            await service.accounts.projector.wait_for(seq)
        return self.caller(account_id)

    async def actor(self, owner: Caller, name: str, regions: list[str] | None = None,
                    approve: bool = True) -> dapi.Actor:
        actor = await self.client.directory.create_actor(dapi.CreateActor(
            kind="counselling-service", name=name, regions=regions or [SAARBRUECKEN]), owner)
        if approve:
            actor = await self.client.directory.approve_actor(dapi.ApproveActor(actor_id=actor.id), self.admin)
        for service in (self.news, self.notifications):
            assert service.directory is not None
            await service.directory.projector.catch_up()
        return actor

    async def publish(self, caller: Caller, actor_id: str, **fields: Any) -> napi.NewsItem:
        values = {"actor_id": actor_id, "kind": "article", "title": "Integrationskonferenz gibt neue Impulse",
                  "regions": [SAARBRUECKEN], **fields}
        item = await self.client.news.create_item(napi.CreateNewsItem.model_validate(values), caller)
        return await self.client.news.publish_item(napi.PublishNewsItem(item_id=item.id), caller)

    async def settled(self) -> None:
        """Every reaction has handled what its stream holds, and the view has applied it."""
        js = self.nc.jetstream()
        async with asyncio.timeout(20):
            for reaction in self.notifications.reactions:
                while True:
                    info = await js.consumer_info(reaction._stream, reaction._durable)
                    if info.num_pending == 0 and info.num_ack_pending == 0:
                        break
                    await asyncio.sleep(0.05)
            assert self.notifications.projector is not None
            await self.notifications.projector.catch_up()

    async def inbox(self, caller: Caller, **kw: Any) -> api.NotificationConnection:
        await self.settled()
        return await self.client.notifications.notifications(api.GetNotifications(**kw), caller)

    async def mails(self) -> list[OutgoingMail]:
        """Notification mail queued so far (taken off the queue)."""
        await self.settled()
        js = self.nc.jetstream()
        sub = await js.pull_subscribe(subjects.MAIL_BULK, durable=subjects.MAIL_BULK_CONSUMER,  # the stopped mailer's
                                      stream=subjects.MAIL_STREAM)
        found: list[OutgoingMail] = []
        # An empty queue ends the loop: nats-py raises its own TimeoutError from one path of
        # `fetch` and asyncio's (which its own does not cover) from another.
        with contextlib.suppress(nats.errors.TimeoutError, asyncio.TimeoutError):
            while True:
                for msg in await sub.fetch(100, timeout=0.5):
                    found.append(OutgoingMail.model_validate_json(msg.data))
                    await msg.ack()
        return found


@pytest.fixture
async def platform(nc, tmp_path: Path):
    clock = Clock()
    js = nc.jetstream()
    issuer = TestIssuer(clock)
    await issuer.publish(js)
    directory = DirectoryService(settings_for(tmp_path / "d"), clock)
    await directory.start(nc)
    news = NewsService(settings_for(tmp_path / "n"), clock)
    await news.start(nc)
    notifications = NotificationsService(settings_for(tmp_path / "o"), clock)
    notifications.digest_interval = 3600  # digests run when a test asks (compile_digests)
    await notifications.start(nc)
    # The mailer would deliver the queue to files; the tests read the queue themselves.
    assert notifications.mailer is not None
    await notifications.mailer.stop()
    assert notifications.directory is not None
    await notifications.directory.projector.catch_up()
    yield Platform(directory, news, notifications, LotseClient(nc), clock, issuer, nc)
    await notifications.stop()
    await news.stop()
    await directory.stop()
    for stream in ("NEWS", "DIRECTORY", "IDENTITY", "NOTIFICATIONS", subjects.MAIL_STREAM,
                   f"KV_{subjects.KV_SLUGS}", f"KV_{subjects.KV_DIGESTS}"):
        with contextlib.suppress(Exception):
            await js.delete_stream(stream)


async def test_one_notification_per_person_and_item_with_every_matching_follow_as_reason(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken")
    anna = await p.account("anna")
    ben = await p.account("ben")
    carla = await p.account("carla")
    # Anna follows the actor, the topic and the district around the item's city: three reasons.
    for target in ({"actor": actor.id}, {"topic": "employment"}, {"region": REGIONALVERBAND}):
        await p.client.notifications.follow(api.FollowRequest.model_validate({"target": target}), anna)
    # Ben follows the state (the item's region lies inside it); Carla a district elsewhere.
    await p.client.notifications.follow(api.FollowRequest(target=api.FollowTarget(region=SAARLAND)), ben)
    await p.client.notifications.follow(api.FollowRequest(target=api.FollowTarget(region="10042")), carla)

    item = await p.publish(owner, actor.id, topics=["employment"])
    inbox = await p.inbox(anna)
    assert [e.node.item_id for e in inbox.edges] == [item.id] and inbox.unread_count == 1
    reasons = {(r.target.type, r.name) for r in inbox.edges[0].node.reasons}
    assert {kind for kind, _ in reasons} == {"actor", "topic", "region"}
    assert ("actor", "Migrationsberatung Saarbrücken") in reasons
    assert inbox.edges[0].node.path == f"/news/{item.id}"
    assert [e.node.item_id for e in (await p.inbox(ben)).edges] == [item.id]
    assert (await p.inbox(carla)).edges == []
    # The owner, who published it, is not told of their own item (the actor's regions they follow),
    # only that the actor was approved.
    assert [e.node.kind for e in (await p.inbox(owner)).edges] == ["actor-approved"]


async def test_a_region_follow_covers_larger_regions_around_it(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Landesnetzwerk Integration", regions=[SAARLAND])
    dora = await p.account("dora")
    await p.client.notifications.follow(api.FollowRequest(target=api.FollowTarget(region=SAARBRUECKEN)), dora)
    statewide = await p.publish(owner, actor.id, regions=[SAARLAND], title="Landesweiter Aufruf")
    assert [e.node.item_id for e in (await p.inbox(dora)).edges] == [statewide.id]


async def test_withdrawn_before_delivery_and_pending_actors_are_never_told(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken")
    eva = await p.account("eva")
    await p.client.notifications.follow(api.FollowRequest(target=api.FollowTarget(region=SAARBRUECKEN)), eva)
    await p.settled()
    # The fan-out is held back while the item is published and withdrawn at once.
    assert p.notifications.fanout is not None
    await p.notifications.fanout.stop()
    gone = await p.publish(owner, actor.id, title="Gleich wieder weg")
    await p.client.news.withdraw_item(napi.WithdrawNewsItem(item_id=gone.id), owner)
    kept = await p.publish(owner, actor.id, title="Bleibt")
    await p.notifications.fanout.start()
    inbox = await p.inbox(eva)
    assert [e.node.title for e in inbox.edges] == ["Bleibt"]
    # Withdrawn after delivery: it leaves the inbox (and the unread count).
    await p.client.news.withdraw_item(napi.WithdrawNewsItem(item_id=kept.id), owner)
    inbox = await p.inbox(eva)
    assert inbox.edges == [] and inbox.unread_count == 0


async def test_read_state_is_the_servers_and_nobody_marks_anothers(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken")
    fred, gina = await p.account("fred"), await p.account("gina")
    for caller in (fred, gina):
        await p.client.notifications.follow(api.FollowRequest(target=api.FollowTarget(actor=actor.id)), caller)
    for n in range(3):
        await p.publish(owner, actor.id, title=f"Meldung {n}")
    inbox = await p.inbox(fred)
    assert [e.node.title for e in inbox.edges] == ["Meldung 2", "Meldung 1", "Meldung 0"]
    ginas = await p.inbox(gina)
    # Gina marks Fred's notification: nothing changes, and the answer tells her nothing.
    marked = await p.client.notifications.mark_read(api.MarkNotificationsRead(ids=[inbox.edges[0].node.id]), gina)
    assert (marked.marked, marked.unread_count) == (0, 3)
    assert (await p.client.notifications.unread_count(Empty(), fred)).count == 3
    with pytest.raises(Invalid) as foreign:
        await p.client.notifications.notifications(api.GetNotifications(after=inbox.edges[0].node.id), gina)
    assert foreign.value.field == "after"

    marked = await p.client.notifications.mark_read(api.MarkNotificationsRead(ids=[inbox.edges[1].node.id]), fred)
    assert (marked.marked, marked.unread_count) == (1, 2)
    unread = await p.inbox(fred, unread_only=True)
    assert [e.node.title for e in unread.edges] == ["Meldung 2", "Meldung 0"]
    page = await p.inbox(fred, first=1, after=inbox.edges[0].node.id)
    assert [e.node.title for e in page.edges] == ["Meldung 1"] and page.page_info.has_next_page
    missed = await p.client.notifications.missed_notifications(
        api.GetMissedNotifications(after=inbox.edges[2].node.id), fred)
    assert [n.title for n in missed.notifications] == ["Meldung 1", "Meldung 2"]
    everything = await p.client.notifications.mark_all_read(Empty(), fred)
    assert (everything.marked, everything.unread_count) == (2, 0)
    assert (await p.client.notifications.unread_count(Empty(), gina)).count == 3 == ginas.unread_count


async def test_bad_follows_are_refused_by_field_and_change_nothing(platform):
    p = platform
    owner = await p.account("owner")
    pending = await p.actor(owner, "Noch nicht freigegeben", approve=False)
    hans = await p.account("hans")
    bad = [({"actor": "no-such-actor"}, "target.actor"), ({"actor": pending.id}, "target.actor"),
           ({"region": "99999"}, "target.region"), ({"topic": "cooking"}, "target.topic")]
    for target, field in bad:
        with pytest.raises(Invalid) as refused:
            await p.client.notifications.follow(api.FollowRequest.model_validate({"target": target}), hans)
        assert refused.value.field == field
    assert (await p.client.notifications.follows(Empty(), hans)).follows == []
    # The owner may follow their own pending actor; a follow of someone else's is not theirs to change.
    mine = await p.client.notifications.follow(api.FollowRequest(target=api.FollowTarget(actor=pending.id)), owner)
    with pytest.raises(NotFound):
        await p.client.notifications.update_follow(api.UpdateFollow(follow_id=mine.id, email="off"), hans)
    with pytest.raises(NotFound):
        await p.client.notifications.unfollow(api.Unfollow(follow_id=mine.id), hans)
    again = await p.client.notifications.follow(
        api.FollowRequest(target=api.FollowTarget(actor=pending.id), email="weekly"), owner)
    assert (again.id, again.email) == (mine.id, "weekly")  # following again changes the follow, not a second one


async def test_members_follow_their_actors_regions_daily_and_new_accounts_nothing(platform):
    p = platform
    owner = await p.account("owner")
    newcomer = await p.account("newcomer")
    await p.actor(owner, "Migrationsberatung", regions=[SAARBRUECKEN, MERZIG])
    await p.settled()
    follows = (await p.client.notifications.follows(Empty(), owner)).follows
    assert sorted((f.target.region, f.email, f.automatic) for f in follows) == sorted(
        [(SAARBRUECKEN, "daily", True), (MERZIG, "daily", True)])
    assert (await p.client.notifications.follows(Empty(), newcomer)).follows == []


async def test_immediate_mail_once_to_confirmed_addresses_with_one_click_unsubscribe(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken")
    ida = await p.account("ida")
    unconfirmed = await p.account("jan", confirmed=False)
    for caller in (ida, unconfirmed):
        await p.client.notifications.follow(
            api.FollowRequest(target=api.FollowTarget(actor=actor.id), email="immediate"), caller)
        await p.client.notifications.follow(
            api.FollowRequest(target=api.FollowTarget(region=SAARBRUECKEN), email="daily"), caller)
    await p.mails()  # the owner's default follows made none; start from an empty queue
    await p.publish(owner, actor.id, title="Neue Sprechzeiten")
    mails = await p.mails()
    assert [m.to for m in mails] == ["ida@example.org"]  # once, however many follows; never unconfirmed
    mail = mails[0]
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail.headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://lotse.test/unsubscribe/") and link in mail.text
    token = link.rsplit("/", 1)[1]
    info = await p.client.notifications.unsubscribe_info(api.Unsubscribe(token=token))
    assert (info.email, info.done) == ("immediate", False)  # looking changes nothing
    done = await p.client.notifications.unsubscribe(api.Unsubscribe(token=token))
    assert done.done
    follows = {f.target.type: f.email for f in (await p.client.notifications.follows(Empty(), ida)).follows}
    assert follows == {"actor": "off", "region": "daily"}  # that follow's mail only
    with pytest.raises(Invalid) as forged:
        await p.client.notifications.unsubscribe(api.Unsubscribe(token=token[:-2] + "xx"))
    assert forged.value.field == "token"
    await p.publish(owner, actor.id, title="Noch eine Meldung")
    assert await p.mails() == []  # now it comes in the daily digest


async def test_a_daily_digest_once_per_day_at_the_hour_across_the_dst_switch(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken")
    kim = await p.account("kim")
    await p.client.notifications.follow(api.FollowRequest(target=api.FollowTarget(actor=actor.id)), kim)
    await p.client.notifications.update_mail_settings(api.UpdateMailSettings(digest_hour=8), kim)
    await p.mails()
    # Saturday 28 March 2026, 12:00 UTC: the clocks go forward in the night to Sunday.
    p.clock.advance(datetime(2026, 3, 28, 12, tzinfo=UTC) - p.clock.now())
    await p.publish(owner, actor.id, title="Samstag")
    await p.settled()
    second = NotificationsService(p.notifications.settings.model_copy(
        update={"data_dir": p.notifications.settings.data_dir.parent / "replica"}), p.clock)
    await second.start(p.nc)
    assert second.mailer is not None
    await second.mailer.stop()
    try:
        compiled: list[tuple[datetime, int]] = []
        # Every 20 minutes for two days, both replicas look, as they would.
        for _ in range(6 * 24):
            p.clock.advance(timedelta(minutes=20))
            counts = await asyncio.gather(p.notifications.compile_digests(), second.compile_digests())
            if sum(counts):
                compiled.append((p.clock.now(), sum(counts)))
                if p.clock.now().date() == datetime(2026, 3, 29).date():
                    await p.publish(owner, actor.id, title="Sonntag")
                    await p.settled()
        # 08:00 CEST on Sunday is 06:00 UTC; on Monday too — one each day, by one replica.
        assert [(when.strftime("%m-%d %H"), n) for when, n in compiled] == [("03-29 06", 1), ("03-30 06", 1)]
        digests = [m for m in await p.mails() if m.kind == "digest-daily"]
        assert [m.to for m in digests] == ["kim@example.org"] * 2
        assert "Samstag" in digests[0].text and "Sonntag" in digests[1].text and "Samstag" not in digests[1].text
        assert digests[0].headers["List-Unsubscribe"].startswith("<https://lotse.test/unsubscribe/")
    finally:
        await second.stop()


async def test_notices_of_membership_and_review_reach_the_inbox(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken", approve=False)
    await p.client.directory.reject_actor(dapi.RejectActor(actor_id=actor.id, reason="Bitte Adresse ergänzen"),
                                          p.admin)
    inbox = await p.inbox(owner)
    assert [(e.node.kind, e.node.summary) for e in inbox.edges] == [("actor-rejected", "Bitte Adresse ergänzen")]


async def test_invitation_role_change_and_admin_withdrawal_notices(platform):
    import re

    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken", regions=[MERZIG])
    lena = await p.account("lena")
    await p.client.directory.invite_member(dapi.InviteMember(actor_id=actor.id, email="lena@example.org"), owner)
    inbox = await p.inbox(lena)
    assert [e.node.kind for e in inbox.edges] == ["invitation"]
    # The invitation's link is the directory's mail; lena accepts with it.
    js = p.nc.jetstream()
    sub = await js.pull_subscribe(subjects.MAIL_OUTBOX, durable=subjects.MAIL_CONSUMER, stream=subjects.MAIL_STREAM)
    texts = [OutgoingMail.model_validate_json(m.data).text for m in await sub.fetch(20, timeout=2)]
    token = next(re.search(r"/invitation\?token=(\S+)", t).group(1) for t in texts if "/invitation?token=" in t)
    await p.client.directory.accept_invitation(dapi.AcceptInvitation(token=token), lena)
    await p.settled()
    follows = (await p.client.notifications.follows(Empty(), lena)).follows
    assert [(f.target.region, f.email, f.automatic) for f in follows] == [(MERZIG, "daily", True)]
    await p.mails()
    await p.client.directory.change_member_role(dapi.ChangeMemberRole(
        actor_id=actor.id, account_id="lena", role="owner"), owner)
    assert [e.node.kind for e in (await p.inbox(lena)).edges] == ["membership", "invitation"]
    assert [m.to for m in await p.mails()] == ["lena@example.org"]  # nobody else mails a role change

    item = await p.publish(owner, actor.id, title="Zu früh veröffentlicht", regions=[MERZIG])
    await p.client.news.withdraw_item(napi.WithdrawNewsItem(item_id=item.id, reason="Sperrfrist"), p.admin)
    owners = await p.inbox(owner)
    assert owners.edges[0].node.kind == "item-withdrawn" and owners.edges[0].node.summary == "Sperrfrist"
    # Lena, who follows the region, was told of the item; withdrawn, it left her inbox.
    assert "Zu früh veröffentlicht" not in [e.node.title for e in (await p.inbox(lena)).edges]


async def test_a_first_start_on_an_old_history_tells_nobody_of_old_news(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken")
    olga = await p.account("olga")
    await p.client.notifications.follow(api.FollowRequest(target=api.FollowTarget(actor=actor.id)), olga)
    await p.settled()
    assert p.notifications.fanout is not None
    await p.notifications.fanout.stop()
    await p.publish(owner, actor.id, title="Vor langer Zeit")
    p.clock.advance(timedelta(days=3))  # the fan-out sees it three days late
    owner, olga = p.caller("owner"), p.caller("olga")  # fresh tokens for the later time
    await p.notifications.fanout.start()
    await p.publish(owner, actor.id, title="Heute")
    assert [e.node.title for e in (await p.inbox(olga)).edges] == ["Heute"]


async def test_each_reader_is_told_in_their_language_where_the_item_has_it(platform):
    p = platform
    owner = await p.account("owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken")
    greta = await p.account("greta", locale="de")
    emma = await p.account("emma", locale="en")
    for caller in (greta, emma):
        await p.client.notifications.follow(
            api.FollowRequest(target=api.FollowTarget(actor=actor.id), email="immediate"), caller)
    await p.mails()
    item = await p.publish(owner, actor.id, title="Neue Sprechzeiten", summary="Ab Montag auch abends.",
                           translations=[{"language": "en", "title": "New opening hours",
                                          "summary": "From Monday also in the evening."},
                                         {"language": "ar", "title": "مواعيد جديدة"}])
    mails = {m.to: m for m in await p.mails()}
    assert "New opening hours" in mails["emma@example.org"].subject
    assert "From Monday also in the evening." in mails["emma@example.org"].text
    assert "Neue Sprechzeiten" in mails["greta@example.org"].subject
    assert "New opening hours" not in mails["greta@example.org"].text
    # The inbox keeps every version: each device reads it in its own language.
    node = (await p.inbox(emma)).edges[0].node
    assert node.item_id == item.id and (node.language, node.title) == ("de", "Neue Sprechzeiten")
    assert node.languages == ["de", "en", "ar"]
    assert node.text_for(["fr", "en"]).title == "New opening hours"
    assert node.text_for(["ar"]).summary == ""  # that version has no summary; none is borrowed
    assert node.text_for(["fr"]).language == "de"  # none of the reader's: the original
