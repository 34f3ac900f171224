"""News through its NATS endpoints, against a real nats-server, beside a real directory service.

Actors, members and regions come from the directory's own endpoints (news keeps its copy
from `directory.events.>`); accounts are announced as identity announces them; tokens are
signed by a test key the services trust; mail is read from the MAIL work queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats.errors
import pytest

from proto import directory as dapi
from proto import identity, subjects
from proto import news as api
from proto.client import LotseClient, error_from_reply
from proto.common import Caller
from proto.envelope import Envelope
from proto.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from proto.mail import OutgoingMail
from services.directory.service import DirectoryService
from services.kernel.clock import Clock
from services.kernel.eventstore import EventStore
from services.kernel.settings import Settings
from services.news.service import NewsService
from tests.support.tokens import TestIssuer

SAARLAND = "10"
REGIONALVERBAND = "10041"  # the district around Saarbrücken
SAARBRUECKEN = "10041100"
VOELKLINGEN = "10041519"
MERZIG = "10042113"  # another district's municipality
ST_WENDEL_DISTRICT = "10046"


@dataclass
class Platform:
    directory: DirectoryService
    news: NewsService
    client: LotseClient
    clock: Clock
    issuer: TestIssuer
    nc: Any

    def caller(self, account_id: str, role: str = "member") -> Caller:
        return Caller(token=self.issuer.token(account_id, role))

    @property
    def admin(self) -> Caller:
        return self.caller("admin-1", "admin")

    async def account(self, account_id: str, email: str, name: str, locale: str = "de") -> Caller:
        store = EventStore(self.nc.jetstream(), identity.SERVICE, self.clock)
        seq = await store.append("account", account_id, identity.AccountRegistered(
            account_id=account_id, username=account_id, email=email, display_name=name, locale=locale,
            role="member", password_hash=None, confirm_token_hash=None, confirm_expires_at=None,
        ), expected=0, by=None)
        assert self.news.accounts is not None
        await self.news.accounts.projector.wait_for(seq)
        return self.caller(account_id)

    async def synced(self) -> None:
        """News has seen everything the directory stored so far."""
        assert self.news.directory is not None
        await self.news.directory.projector.catch_up()

    async def actor(self, owner: Caller, name: str, *, approve: bool = True, regions: list[str] | None = None
                    ) -> dapi.Actor:
        actor = await self.client.directory.create_actor(dapi.CreateActor(
            kind="counselling-service", name=name, regions=regions or [SAARBRUECKEN]), owner)
        if approve:
            actor = await self.client.directory.approve_actor(dapi.ApproveActor(actor_id=actor.id), self.admin)
        await self.synced()
        return actor

    async def draft(self, caller: Caller, actor_id: str, **fields: Any) -> api.NewsItem:
        values = {"actor_id": actor_id, "kind": "article", "title": "Integrationskonferenz gibt neue Impulse",
                  "regions": [SAARBRUECKEN], **fields}
        return await self.client.news.create_item(api.CreateNewsItem.model_validate(values), caller)

    async def published(self, caller: Caller, actor_id: str, **fields: Any) -> api.NewsItem:
        item = await self.draft(caller, actor_id, **fields)
        return await self.client.news.publish_item(api.PublishNewsItem(item_id=item.id), caller)

    async def raw(self, verb: str, body: dict, caller: Caller | None = None) -> dict:
        headers = {subjects.AUTHORIZATION: f"Bearer {caller.token}"} if caller and caller.token else None
        msg = await self.nc.request(subjects.endpoint(api.SERVICE, verb), json.dumps(body).encode(), timeout=10,
                                    headers=headers)
        if (error := error_from_reply(msg.headers, msg.data)) is not None:
            raise error
        return json.loads(msg.data)

    async def mails(self) -> list[OutgoingMail]:
        js = self.nc.jetstream()
        sub = await js.pull_subscribe(subjects.MAIL_OUTBOX, durable="test-news-mail", stream=subjects.MAIL_STREAM)
        found: list[OutgoingMail] = []
        with contextlib.suppress(nats.errors.TimeoutError, asyncio.TimeoutError):
            for msg in await sub.fetch(50, timeout=0.5):
                found.append(OutgoingMail.model_validate_json(msg.data))
                await msg.ack()
        return found

    async def events(self, item_id: str) -> list[str]:
        """The types of the item's events in the stream."""
        return [e.type for e in await stream_envelopes(self.nc, item_id)]

    async def last_seq(self) -> int:
        return (await self.nc.jetstream().stream_info("NEWS")).state.last_seq


async def stream_envelopes(nc, item_id: str) -> list[Envelope]:
    js = nc.jetstream()
    subject = subjects.aggregate_subject(api.SERVICE, api.AGGREGATE_ITEM, item_id)
    sub = await js.subscribe(subject, stream="NEWS", ordered_consumer=True)
    found = []
    try:
        while True:
            msg = await sub.next_msg(timeout=0.5)
            found.append(Envelope.model_validate_json(msg.data))
    except nats.errors.TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return found


def settings_for(path: Path) -> Settings:
    return Settings(nats_url="unused", data_dir=path, public_url="https://lotse.test", log_format="json",
                    log_level="warning")


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
    await news.directory.projector.catch_up()
    platform = Platform(directory, news, LotseClient(nc), clock, issuer, nc)
    yield platform
    await platform.news.stop()  # the ones running now: a test may have restarted them
    await platform.directory.stop()
    for stream in ("NEWS", "DIRECTORY", "IDENTITY", subjects.MAIL_STREAM, f"KV_{subjects.KV_SLUGS}"):
        with contextlib.suppress(Exception):
            await js.delete_stream(stream)


async def titles(p: Platform, caller: Caller | None = None, query: str | None = None, **filter_: Any) -> list[str]:
    reply = await p.client.news.news_feed(api.GetNewsFeed(query=query, filter=api.NewsFilter(**filter_),
                                                          first=100), caller)
    return [edge.node.title for edge in reply.edges]


# ---- lifecycle, visibility, rights ----------------------------------------------------------

async def test_draft_publish_update_withdraw_with_history_and_notices(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Migrationsberatung Saarbrücken")
    draft = await p.draft(owner, actor.id, summary="Rückblick", body="**500** Teilnehmende", topics=["employment"])
    assert (draft.status, draft.version, draft.may_edit) == ("draft", draft.version, True)
    assert draft.body_html == "<p><strong>500</strong> Teilnehmende</p>\n"
    assert draft.author is not None and draft.author.display_name == "Olga Owner"
    # A draft is the actor's business only.
    assert await titles(p) == []
    with pytest.raises(NotFound):
        await p.client.news.get_item(api.GetNewsItem(id=draft.id), p.caller("someone-else"))

    published = await p.client.news.publish_item(api.PublishNewsItem(item_id=draft.id), owner)
    assert published.status == "published" and published.published_at is not None
    assert await titles(p) == ["Integrationskonferenz gibt neue Impulse"]
    anonymous = await p.client.news.get_item(api.GetNewsItem(id=draft.id))
    assert anonymous.author is None and anonymous.may_edit is False  # an author's name is for signed-in readers

    with pytest.raises(Conflict) as stale:
        await p.client.news.update_item(api.UpdateNewsItem(item_id=draft.id, expected_version=draft.version,
                                                           title="Alt"), owner)
    assert stale.value.field == "expectedVersion"
    updated = await p.client.news.update_item(api.UpdateNewsItem(
        item_id=draft.id, expected_version=published.version, title="Integrationskonferenz: neue Impulse"), owner)
    assert updated.title == "Integrationskonferenz: neue Impulse" and updated.status == "published"

    history = await p.client.news.item_history(api.GetItemHistory(item_id=draft.id), owner)
    assert [e.type for e in history.entries] == ["item_updated", "item_published", "item_created"]
    assert history.entries[0].changes == ["title"] and history.entries[0].by_display_name == "Olga Owner"
    with pytest.raises(Forbidden):
        await p.client.news.item_history(api.GetItemHistory(item_id=draft.id), p.caller("someone-else"))

    withdrawn = await p.client.news.withdraw_item(api.WithdrawNewsItem(item_id=draft.id), owner)
    assert withdrawn.status == "withdrawn"
    assert await titles(p) == [] and await titles(p, query="Impulse") == []
    with pytest.raises(NotFound):
        await p.client.news.get_item(api.GetNewsItem(id=draft.id))
    assert [m for m in await p.mails() if m.kind.startswith("news")] == []  # an editor withdrew it

    # What notifications will read: the whole notice on publish, update and withdraw.
    envelopes = await stream_envelopes(p.nc, draft.id)
    assert [e.type for e in envelopes] == ["news.item_created", "news.item_published", "news.item_updated",
                                           "news.item_withdrawn"]
    for envelope in envelopes[1:]:
        notice = envelope.data["notice"]
        assert {k: notice[k] for k in ("kind", "actor_id", "actor_name", "language", "visibility", "topics",
                                       "regions", "path")} == {
            "kind": "article", "actor_id": actor.id, "actor_name": "Migrationsberatung Saarbrücken",
            "language": "de", "visibility": "public", "topics": ["employment"], "regions": [SAARBRUECKEN],
            "path": f"/news/{draft.id}"}
        assert set(notice["region_scope"]) == {SAARLAND, REGIONALVERBAND, SAARBRUECKEN}
        assert notice["summary"] == "Rückblick" and notice["title"]


async def test_only_editors_write_and_only_approved_actors_publish(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    member = p.caller("acc-member")  # a member of the platform, not of the actor
    actor = await p.actor(owner, "Sprachcafé Völklingen")
    before = await p.last_seq()
    with pytest.raises(Forbidden):
        await p.draft(member, actor.id)
    with pytest.raises(Unauthenticated):
        await p.draft(Caller(), actor.id)
    assert await p.last_seq() == before
    item = await p.published(owner, actor.id)
    for attempt in (
        p.client.news.update_item(api.UpdateNewsItem(item_id=item.id, expected_version=item.version, title="X"),
                                  member),
        p.client.news.withdraw_item(api.WithdrawNewsItem(item_id=item.id), member),
    ):
        with pytest.raises(Forbidden):
            await attempt
    assert (await p.client.news.get_item(api.GetNewsItem(id=item.id))).title == item.title
    # Admins write nothing of another actor's.
    with pytest.raises(Forbidden):
        await p.draft(p.admin, actor.id)

    # An editor invited and accepted in the directory writes at once: news follows the directory.
    editor = await p.account("acc-editor", "editor@example.org", "Emil Editor")
    invitation = await p.client.directory.invite_member(dapi.InviteMember(actor_id=actor.id,
                                                                          email="editor@example.org"), owner)
    assert invitation.role == "editor"
    [mail] = [m for m in await p.mails() if m.kind == "actor-invitation"]
    token = mail.text.split("token=")[1].split()[0]
    await p.client.directory.accept_invitation(dapi.AcceptInvitation(token=token), editor)
    await p.synced()
    assert (await p.draft(editor, actor.id, title="Von der Redaktion")).may_edit

    # A pending actor writes drafts but publishes nothing, now or later.
    pending = await p.actor(owner, "Neue Initiative", approve=False)
    draft = await p.draft(owner, pending.id)
    with pytest.raises(Forbidden) as refused:
        await p.client.news.publish_item(api.PublishNewsItem(item_id=draft.id), owner)
    assert refused.value.field == "actorId"
    with pytest.raises(Forbidden):
        await p.client.news.schedule_item(api.ScheduleNewsItem(
            item_id=draft.id, publish_at=p.clock.now() + timedelta(hours=1)), owner)
    # A rejected actor neither.
    await p.client.directory.reject_actor(dapi.RejectActor(actor_id=actor.id, reason="Dubletten"), p.admin)
    await p.synced()
    second = await p.draft(owner, actor.id, title="Nach der Ablehnung")
    with pytest.raises(Forbidden):
        await p.client.news.publish_item(api.PublishNewsItem(item_id=second.id), owner)
    assert "news.item_published" not in await p.events(second.id)


async def test_an_admin_withdraws_with_a_reason_and_the_owners_are_mailed(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner", locale="en")
    actor = await p.actor(owner, "Jobcenter Merzig", regions=[MERZIG])
    item = await p.published(owner, actor.id, title="Stellen & Praktika: Jugend <18", regions=[MERZIG])
    await p.mails()
    with pytest.raises(Invalid) as missing:
        await p.client.news.withdraw_item(api.WithdrawNewsItem(item_id=item.id), p.admin)
    assert missing.value.field == "reason"
    assert (await p.client.news.get_item(api.GetNewsItem(id=item.id))).status == "published"
    withdrawn = await p.client.news.withdraw_item(api.WithdrawNewsItem(
        item_id=item.id, reason="Irreführende Angaben & fehlendes Impressum"), p.admin)
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawal_reason.startswith("Irreführende")
    [mail] = [m for m in await p.mails() if m.kind.startswith("news")]
    assert (mail.to, mail.kind, mail.locale) == ("owner@example.org", "news-withdrawn", "en")
    assert "Irreführende Angaben &amp; fehlendes Impressum" in mail.html
    assert "Stellen &amp; Praktika: Jugend &lt;18" in mail.html
    assert f"https://lotse.test/news/{item.id}" in mail.text
    [envelope] = [e for e in await stream_envelopes(p.nc, item.id) if e.type == "news.item_withdrawn"]
    assert envelope.data["by_admin"] is True and envelope.by == "admin-1"


# ---- bad input ---------------------------------------------------------------------------------

async def test_bad_input_names_the_field_and_stores_nothing(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Integrationsbüro Saarbrücken")
    today = p.clock.now().date()
    event = {"starts_at": "2026-06-02T18:00:00", "ends_at": "2026-06-02T20:00:00"}
    funding = {"funder": "Land", "deadline": (today + timedelta(days=60)).isoformat()}
    cases: list[tuple[dict, str]] = [
        ({"kind": "event", "event": {**event, "ends_at": "2026-06-02T17:00:00"}}, "event.endsAt"),
        ({"kind": "funding-programme", "funding": {**funding, "deadline": (today - timedelta(days=1)).isoformat()}},
         "funding.deadline"),
        ({"kind": "funding-programme", "funding": {"funder": "Land"}}, "funding.deadline"),
        ({"regions": ["10999999"]}, "regions"),
        ({"regions": []}, "regions"),
        ({"topics": ["knitting"]}, "topics"),
        ({"language": "xx"}, "language"),
        ({"translations": [{"language": "zz", "title": "T"}]}, "translations.0.language"),
        ({"translations": [{"language": "de", "title": "T"}]}, "translations.0.language"),
        ({"body": "x" * (api.BODY_MAX + 1)}, "body"),
        ({"title": "<script>alert(1)</script>"}, "title"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"image": {"url": "http://tracker.example/p.png", "alt": "Bild"}}, "image.url"),
        ({"kind": "event", "event": {**event, "recurrence": "FREQ=WEEKLY;BYDAY=TU"}}, "event.recurrence"),
        ({"kind": "event", "event": {**event, "recurrence": "FREQ=DAILY;COUNT=501"}}, "event.recurrence"),
        ({"kind": "event", "event": {**event, "recurrence": "FREQ=WEEKLY;UNTIL=20300101"}}, "event.recurrence"),
        ({"kind": "event", "event": {**event, "recurrence": "FREQ=MINUTELY;COUNT=10"}}, "event.recurrence"),
        ({"kind": "event", "event": {**event, "recurrence": "nonsense"}}, "event.recurrence"),
        ({"kind": "event", "event": {**event, "time_zone": "Mars/Olympus"}}, "event.timeZone"),
        ({"kind": "event", "event": {**event, "recurrence": "FREQ=WEEKLY;COUNT=3", "changed_occurrences": [
            {"occurrence": "2026-06-03T18:00:00", "cancelled": True}]}}, "event.changedOccurrences.0.occurrence"),
        ({"kind": "event"}, "event"),
        ({"kind": "article", "event": event}, "event"),
        ({"kind": "bakery"}, "kind"),
    ]
    before = await p.last_seq()
    for fields, field in cases:
        body = {"actor_id": actor.id, "kind": "article", "title": "Titel", "regions": [SAARBRUECKEN], **fields}
        with pytest.raises(Invalid) as refused:
            await p.raw("create_item", body, owner)
        assert refused.value.field == field, (fields, refused.value)
        assert refused.value.message
    # A body of a megabyte does not even reach the decision: the request is too large.
    with pytest.raises(Invalid):
        await p.raw("create_item", {"actor_id": actor.id, "kind": "article", "title": "T",
                                    "regions": [SAARBRUECKEN], "body": "x" * 1_000_000}, owner)
    assert await p.last_seq() == before
    assert await titles(p, owner, status=["draft", "scheduled", "published", "withdrawn"]) == []

    # Nothing half-stored on an update either: the item stays exactly as it was.
    item = await p.published(owner, actor.id, body="Vorher")
    before = await p.last_seq()
    for fields, field in [({"regions": ["10999999"]}, "regions"), ({"body": "y" * (api.BODY_MAX + 1)}, "body"),
                          ({"title": "ok", "clear": ["link"], "link": "https://a.example"}, "clear")]:
        with pytest.raises(Invalid) as refused:
            await p.raw("update_item", {"item_id": item.id, "expected_version": item.version, **fields}, owner)
        assert refused.value.field == field
    assert await p.last_seq() == before
    assert (await p.client.news.get_item(api.GetNewsItem(id=item.id))).body == "Vorher"


async def test_markdown_is_rendered_safe_and_broken_markdown_still_renders(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Sprachcafé Saarbrücken")
    body = ("# Willkommen\n\n<script>alert('x')</script> <b onclick=\"steal()\">fett</b> "
            "[klick](javascript:alert(1)) [Seite](https://www.example.de/a) "
            "![Foto vom Treffen](https://tracker.example/pixel.png?u=1) <img src=x onerror=alert(1)>\n\n"
            "**nicht geschlossen *auch nicht [link(https://x.example\n\n<div><iframe src=//evil.example>")
    item = await p.published(owner, actor.id, body=body)
    html = item.body_html or ""
    assert "<script" not in html and "<iframe" not in html and "<img" not in html and "<div" not in html
    assert "onclick" not in html.replace("&lt;b onclick", "") and 'href="javascript' not in html
    assert 'src="' not in html
    assert '<a href="https://www.example.de/a" rel="nofollow noopener noreferrer">Seite</a>' in html
    assert '<a href="https://tracker.example/pixel.png?u=1" rel="nofollow noopener noreferrer">Foto vom Treffen</a>' \
        in html
    assert "<h1>Willkommen</h1>" in html and "**nicht geschlossen" in html
    assert item.body == body  # what the editor wrote is kept as written


# ---- reading: feed, regions, search, languages -------------------------------------------------

async def test_a_region_sees_its_own_its_districts_and_the_states_items(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Landesstelle Integration", regions=[SAARLAND])
    for title, regions in (("Landesweit", [SAARLAND]), ("Im Regionalverband", [REGIONALVERBAND]),
                           ("In Saarbrücken", [SAARBRUECKEN]), ("In Völklingen", [VOELKLINGEN]),
                           ("In Merzig", [MERZIG]), ("Im Kreis St. Wendel", [ST_WENDEL_DISTRICT])):
        await p.published(owner, actor.id, title=title, regions=regions)
    assert await titles(p, regions=[SAARBRUECKEN]) == ["In Saarbrücken", "Im Regionalverband", "Landesweit"]
    # A district sees what concerns it: its own, its municipalities', and the state's.
    assert set(await titles(p, regions=[REGIONALVERBAND])) == {
        "Landesweit", "Im Regionalverband", "In Saarbrücken", "In Völklingen"}
    assert len(await titles(p, regions=[SAARLAND])) == 6
    with pytest.raises(Invalid) as unknown:
        await titles(p, regions=["10999999"])
    assert unknown.value.field == "filter.regions"


async def test_feed_is_newest_first_pages_without_repeats_and_filters(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Integrationsbüro Saarbrücken")
    other = await p.actor(owner, "Wohnungsbaugenossenschaft Völklingen eG", regions=[VOELKLINGEN])
    for n in range(7):
        p.clock.advance(timedelta(minutes=1))
        await p.published(owner, actor.id if n % 2 else other.id, title=f"Meldung {n}",
                          topics=["housing"] if n % 2 else ["employment"], language="de" if n < 5 else "en")
    seen: list[str] = []
    after = None
    while True:
        page = await p.client.news.news_feed(api.GetNewsFeed(first=3, after=after))
        seen += [e.node.title for e in page.edges]
        if not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor
    assert seen == [f"Meldung {n}" for n in reversed(range(7))]
    assert await titles(p, topics=["housing"]) == ["Meldung 5", "Meldung 3", "Meldung 1"]
    assert await titles(p, actors=[other.id], topics=["employment"]) == ["Meldung 6", "Meldung 4", "Meldung 2",
                                                                          "Meldung 0"]
    assert await titles(p, languages=["en"]) == ["Meldung 6", "Meldung 5"]
    assert await titles(p, kinds=["event"]) == []
    with pytest.raises(Invalid) as bad:
        await titles(p, topics=["knitting"])
    assert bad.value.field == "filter.topics"


async def test_full_text_search_is_german_aware(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Wohnungsbaugenossenschaft Saarbrücken")
    await p.published(owner, actor.id, title="Neue Wohnungsbaugenossenschaft in der Großstadt",
                      body="Die Straße wird für Familien mit Kindern umgebaut.")
    await p.published(owner, actor.id, title="Ministerin zu Gast", summary="Besuch im Begegnungszentrum Müller")
    await p.published(owner, actor.id, title="Language café", language="en",
                      translations=[{"language": "de", "title": "Sprachcafé für Geflüchtete"}])
    for query, expected in (
        ("genossenschaft", ["Neue Wohnungsbaugenossenschaft in der Großstadt"]),  # part of a compound
        ("Grossstadt", ["Neue Wohnungsbaugenossenschaft in der Großstadt"]),  # ß typed as ss
        ("strasse", ["Neue Wohnungsbaugenossenschaft in der Großstadt"]),  # in the body
        ("Mueller", ["Ministerin zu Gast"]), ("muller", ["Ministerin zu Gast"]),  # ü as ue, or as u
        ("gefluechtete", ["Language café"]), ("Sprachcafe", ["Language café"]),  # in a translation
        ("ministerin gast", ["Ministerin zu Gast"]), ("Wohnen", []),
    ):
        assert await titles(p, query=query) == expected, query


async def test_readers_get_their_language_or_the_original_and_are_told_which(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Integrationsbüro Saarbrücken")
    item = await p.published(owner, actor.id, title="Sprachkurse ab Mai", body="Anmeldung **jetzt**",
                             translations=[{"language": "en", "title": "Language courses from May",
                                            "body": "Register *now*"},
                                           {"language": "uk", "title": "Мовні курси з травня"}])
    english = await p.client.news.get_item(api.GetNewsItem(id=item.id, lang=["en", "de"]))
    assert (english.language, english.title, english.body_html) == (
        "en", "Language courses from May", "<p>Register <em>now</em></p>\n")
    assert english.original_language == "de" and english.available_languages == ["de", "en", "uk"]
    arabic = await p.client.news.get_item(api.GetNewsItem(id=item.id, lang=["ar"]))
    assert (arabic.language, arabic.title) == ("de", "Sprachkurse ab Mai")
    feed = await p.client.news.news_feed(api.GetNewsFeed(lang=["uk"]))
    assert feed.edges[0].node.title == "Мовні курси з травня" and feed.edges[0].node.body is None


async def test_members_only_items_are_for_signed_in_readers(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Netzwerk Integration")
    item = await p.published(owner, actor.id, title="Interne Einladung", visibility="members")
    assert await titles(p) == []
    assert await titles(p, p.caller("any-member")) == ["Interne Einladung"]
    with pytest.raises(NotFound):
        await p.client.news.get_item(api.GetNewsItem(id=item.id))


# ---- events and funding programmes --------------------------------------------------------------

async def test_upcoming_events_expand_recurrences_with_cancelled_and_moved_occurrences(platform):
    p = platform
    p.clock.advance(datetime(2026, 3, 1, tzinfo=UTC) - p.clock.now())
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Sprachcafé Völklingen", regions=[VOELKLINGEN])
    cafe = await p.published(owner, actor.id, kind="event", title="Sprachcafé", regions=[VOELKLINGEN], event={
        "starts_at": "2026-03-17T18:00:00", "ends_at": "2026-03-17T20:00:00",
        "recurrence": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260407", "changed_occurrences": [
            {"occurrence": "2026-03-24T18:00:00", "cancelled": True},
            {"occurrence": "2026-03-31T18:00:00", "starts_at": "2026-04-01T17:00:00",
             "ends_at": "2026-04-01T19:00:00"}]})
    await p.published(owner, actor.id, kind="event", title="Konferenz", regions=[SAARLAND], event={
        "starts_at": "2026-03-20", "ends_at": "2026-03-21", "all_day": True})
    assert cafe.event.occurrence_count == 4 and "UNTIL=20260407T215959Z" in cafe.event.recurrence
    page = await p.client.news.upcoming_events(api.GetUpcomingEvents(region=VOELKLINGEN))
    seen = [(e.item.title, e.occurrence.local_start.isoformat(), e.occurrence.cancelled, e.occurrence.moved)
            for e in page.edges]
    assert seen == [
        ("Sprachcafé", "2026-03-17T18:00:00", False, False),
        ("Konferenz", "2026-03-20T00:00:00", False, False),
        ("Sprachcafé", "2026-03-24T18:00:00", True, False),
        ("Sprachcafé", "2026-04-01T17:00:00", False, True),  # moved across the switch to summer time
        ("Sprachcafé", "2026-04-07T18:00:00", False, False),
    ]
    summer = page.edges[4].occurrence
    assert summer.starts_at == datetime(2026, 4, 7, 16, 0, tzinfo=UTC)  # 18:00 CEST
    assert page.edges[0].occurrence.starts_at == datetime(2026, 3, 17, 17, 0, tzinfo=UTC)  # 18:00 CET
    assert [e.item.title for e in (await p.client.news.upcoming_events(api.GetUpcomingEvents(
        region=MERZIG))).edges] == ["Konferenz"]
    first = await p.client.news.upcoming_events(api.GetUpcomingEvents(region=VOELKLINGEN, first=2))
    rest = await p.client.news.upcoming_events(api.GetUpcomingEvents(region=VOELKLINGEN,
                                                                     after=first.page_info.end_cursor))
    assert len(first.edges) + len(rest.edges) == 5 and rest.edges[0].occurrence.cancelled


async def test_funding_programmes_open_first_by_deadline_with_status(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Landesstelle Integration", regions=[SAARLAND])
    today = p.clock.now().date()

    async def programme(title: str, **funding: Any) -> api.NewsItem:
        return await p.published(owner, actor.id, kind="funding-programme", title=title, regions=[SAARLAND],
                                 funding={"funder": "Ministerium", **funding})

    await programme("Später", deadline=(today + timedelta(days=90)).isoformat(), amount_max=50_000)
    closing = await programme("Bald", deadline=(today + timedelta(days=5)).isoformat())
    await programme("Laufend", rolling=True)
    await programme("Vorbei", deadline=(today + timedelta(days=1)).isoformat())
    p.clock.advance(timedelta(days=3))  # "Vorbei" closes, "Bald" is two days off
    page = await p.client.news.funding_programmes(api.GetFundingProgrammes())
    assert [(e.node.title, e.node.funding.status) for e in page.edges] == [
        ("Bald", "closing-soon"), ("Später", "open"), ("Laufend", "open"), ("Vorbei", "closed")]
    assert closing.funding.status == "closing-soon"


# ---- scheduled publishing: exactly once, across replicas and restarts ----------------------------

async def test_scheduled_items_go_out_once_across_two_replicas_and_a_restart(platform, tmp_path):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Integrationsbüro Saarbrücken")
    second = NewsService(settings_for(tmp_path / "n2"), p.clock)
    await second.start(p.nc)
    try:
        for replica in (p.news, second):
            replica.schedule_interval = 0.05  # both look often: they race for every due item
        soon = await p.draft(owner, actor.id, title="Pressemitteilung um neun")
        later = await p.draft(owner, actor.id, title="Nachts, während niemand läuft")
        now = p.clock.now()
        with pytest.raises(Invalid) as past:
            await p.client.news.schedule_item(api.ScheduleNewsItem(item_id=soon.id, publish_at=now), owner)
        assert past.value.field == "publishAt"
        scheduled = await p.client.news.schedule_item(api.ScheduleNewsItem(
            item_id=soon.id, publish_at=now + timedelta(hours=1)), owner)
        assert scheduled.status == "scheduled" and scheduled.scheduled_for == (now + timedelta(hours=1))
        await p.client.news.schedule_item(api.ScheduleNewsItem(item_id=later.id, publish_at=now + timedelta(hours=3)),
                                          owner)
        await asyncio.sleep(0.3)
        assert await titles(p) == []  # not before its time

        p.clock.advance(timedelta(hours=1, seconds=1))
        await wait_until(lambda: titles(p), ["Pressemitteilung um neun"])
        await asyncio.sleep(0.5)  # both replicas have looked several times since
        assert (await p.events(soon.id)).count("news.item_published") == 1
        await second.projector.catch_up()
        assert (await second.get_item(api.GetNewsItem(id=soon.id), _anonymous())).status == "published"

        # Nobody runs when the second item falls due; the first replica back publishes it at once.
        await second.stop()
        await p.news.stop()
        p.clock.advance(timedelta(hours=3))
        restarted = [NewsService(settings_for(tmp_path / "n"), p.clock),
                     NewsService(settings_for(tmp_path / "n2"), p.clock)]
        await asyncio.gather(*(r.start(p.nc) for r in restarted))
        p.news = restarted[0]
        second = restarted[1]
        await p.news.projector.catch_up()
        assert (await p.events(later.id)).count("news.item_published") == 1
        assert set(await titles(p)) == {"Pressemitteilung um neun", "Nachts, während niemand läuft"}
        [published] = [e for e in await stream_envelopes(p.nc, later.id) if e.type == "news.item_published"]
        assert published.data["scheduled"] is True and published.by is None
    finally:
        await second.stop()


def _anonymous():
    from services.kernel.endpoints import RequestContext

    class _Verifier:
        def verify(self, token):  # pragma: no cover - never called without a token
            raise AssertionError

    return RequestContext(caller=Caller(), verifier=_Verifier(), correlation_id="test")  # type: ignore[arg-type]


async def wait_until(probe, expected, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while (found := await probe()) != expected:
            await asyncio.sleep(0.05)
    assert found == expected


async def test_a_schedule_for_an_actor_rejected_meanwhile_is_cancelled_not_published(platform):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Initiative Saarbrücken")
    item = await p.draft(owner, actor.id)
    await p.client.news.schedule_item(api.ScheduleNewsItem(item_id=item.id,
                                                           publish_at=p.clock.now() + timedelta(minutes=5)), owner)
    await p.client.directory.reject_actor(dapi.RejectActor(actor_id=actor.id, reason="Prüfung"), p.admin)
    await p.synced()
    p.clock.advance(timedelta(minutes=6))
    await p.news.publish_due()
    assert await p.events(item.id) == ["news.item_created", "news.item_scheduled", "news.schedule_cancelled"]
    again = await p.client.news.get_item(api.GetNewsItem(id=item.id), owner)
    assert again.status == "draft" and again.scheduled_for is None


async def test_the_view_rebuilds_from_the_stream(platform, tmp_path):
    p = platform
    owner = await p.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await p.actor(owner, "Integrationsbüro Saarbrücken")
    await p.published(owner, actor.id, title="Bleibt", kind="event", event={
        "starts_at": "2027-01-05T10:00:00", "ends_at": "2027-01-05T12:00:00"})
    fresh = NewsService(settings_for(tmp_path / "fresh"), p.clock)
    await fresh.start(p.nc)
    try:
        await fresh.projector.catch_up()
        reply = await fresh.news_feed(api.GetNewsFeed(), _anonymous())
        assert [e.node.title for e in reply.edges] == ["Bleibt"]
        assert reply.edges[0].node.actor.name == "Integrationsbüro Saarbrücken"
        assert reply.edges[0].node.event.occurrence_count == 1
    finally:
        await fresh.stop()

