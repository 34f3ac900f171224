"""The directory through its NATS endpoints, against a real nats-server.

Accounts are made the way identity makes them (its events in the IDENTITY stream), access
tokens are signed with a test key that the service trusts (tests/support/tokens.py), and
mail is read from the MAIL work queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import nats.errors
import pytest

from proto import directory as api
from proto import identity, subjects
from proto.client import LotseClient, error_from_reply
from proto.common import Caller
from proto.envelope import new_id
from proto.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated, Unavailable
from proto.mail import OutgoingMail
from services.directory.service import DirectoryService
from services.kernel.clock import Clock
from services.kernel import health
from services.kernel.eventstore import EventStore
from services.kernel.settings import Settings
from tests.support.tokens import TestIssuer

SAARBRUECKEN = "10041100"  # municipality in the Regionalverband Saarbrücken (10041)
VOELKLINGEN = "10041519"
MERZIG = "10042113"  # municipality in the Landkreis Merzig-Wadern (10042)


@dataclass
class Directory:
    service: DirectoryService
    client: LotseClient
    clock: Clock
    issuer: TestIssuer
    settings: Settings
    nc: object

    def caller(self, account_id: str, role: str = "member") -> Caller:
        return Caller(token=self.issuer.token(account_id, role))

    async def account(self, account_id: str, email: str, name: str, locale: str = "de") -> Caller:
        """An account as identity announces it, known to the directory once this returns."""
        store = EventStore(self.nc.jetstream(), identity.SERVICE, self.clock)
        seq = await store.append("account", account_id, identity.AccountRegistered(
            account_id=account_id, username=account_id, email=email, display_name=name, locale=locale,
            role="member", password_hash=None, confirm_token_hash=None, confirm_expires_at=None,
        ), expected=0, by=None)
        await self.service.accounts.projector.wait_for(seq)
        return self.caller(account_id)

    async def mails(self) -> list[OutgoingMail]:
        """What was queued since the last call (a work queue: read once, then gone)."""
        js = self.nc.jetstream()
        # One durable reader: a work queue allows a single consumer per subject.
        sub = await js.pull_subscribe(subjects.MAIL_OUTBOX, durable="test-mail-reader",
                                      stream=subjects.MAIL_STREAM)
        found: list[OutgoingMail] = []
        with contextlib.suppress(nats.errors.TimeoutError, asyncio.TimeoutError):
            for msg in await sub.fetch(50, timeout=0.5):
                found.append(OutgoingMail.model_validate_json(msg.data))
                await msg.ack()
        return found

    async def raw(self, verb: str, body: dict, caller: Caller | None = None) -> dict:
        """A request as any NATS client may send it, unchecked by the contract's models."""
        headers = {subjects.AUTHORIZATION: f"Bearer {caller.token}"} if caller and caller.token else None
        msg = await self.nc.request(subjects.endpoint(api.SERVICE, verb), json.dumps(body).encode(),
                                    timeout=10, headers=headers)
        if (error := error_from_reply(msg.headers, msg.data)) is not None:
            raise error
        return json.loads(msg.data)

    async def create(self, caller: Caller, **fields) -> api.Actor:
        values = {"kind": "counselling-service", "regions": [SAARBRUECKEN], **fields}
        return await self.client.directory.create_actor(api.CreateActor.model_validate(values), caller)

    async def approved(self, caller: Caller, **fields) -> api.Actor:
        actor = await self.create(caller, **fields)
        return await self.client.directory.approve_actor(api.ApproveActor(actor_id=actor.id), self.admin)

    @property
    def admin(self) -> Caller:
        return self.caller("admin-1", "admin")


async def start_service(nc, settings: Settings, clock: Clock) -> DirectoryService:
    service = DirectoryService(settings, clock)
    await service.start(nc)
    return service


@pytest.fixture
async def directory(nc, tmp_path: Path):
    clock = Clock()
    js = nc.jetstream()
    issuer = TestIssuer(clock)
    await issuer.publish(js)
    settings = Settings(nats_url="unused", data_dir=tmp_path, public_url="https://lotse.test",
                        log_format="json", log_level="warning")
    directory = Directory(await start_service(nc, settings, clock), LotseClient(nc), clock, issuer, settings, nc)
    yield directory
    await directory.service.stop()  # the one running now: a test may have restarted it
    # Each test starts from empty streams: the server lives for the whole module.
    for stream in ("DIRECTORY", "IDENTITY", subjects.MAIL_STREAM, f"KV_{subjects.KV_SLUGS}"):
        with contextlib.suppress(Exception):
            await js.delete_stream(stream)


async def names(directory: Directory, query: str | None = None, caller: Caller | None = None,
                **filter_) -> list[str]:
    reply = await directory.client.directory.search_actors(
        api.SearchActors(query=query, filter=api.ActorFilter(**filter_), first=100), caller)
    return [edge.node.name for edge in reply.edges]


def nodes(connection) -> list:
    return [edge.node for edge in connection.edges]


# ---- lifecycle and visibility --------------------------------------------------------

async def test_regions_ship_with_the_service(directory):
    saarland = await directory.client.directory.get_region(api.GetRegion(ags="10"))
    assert (saarland.name, saarland.level, saarland.children) == ("Saarland", "state", 6)
    districts = await directory.client.directory.list_regions(api.ListRegions(parent="10"))
    assert len(districts.regions) == 6
    town = await directory.client.directory.get_region(api.GetRegion(ags=SAARBRUECKEN))
    assert [r.ags for r in town.path] == ["10", "10041"]
    found = await directory.client.directory.list_regions(api.ListRegions(query="Voelklingen"))
    assert [r.ags for r in found.regions] == [VOELKLINGEN]
    assert [r.ags for r in found.regions[0].path] == ["10", "10041"]


async def test_a_listed_region_has_the_same_path_as_the_region_itself(directory):
    for request in (api.ListRegions(query="saar"), api.ListRegions(parent="10041"), api.ListRegions(parent="10")):
        listed = (await directory.client.directory.list_regions(request)).regions
        assert listed
        for region in listed:
            alone = await directory.client.directory.get_region(api.GetRegion(ags=region.ags))
            assert region == alone
            assert len(region.path) == {"state": 0, "district": 1, "municipality": 2}[region.level]


async def test_a_new_actor_is_pending_until_an_admin_approves_and_the_owners_are_mailed(directory):
    owner = await directory.account("acc-owner", "owner@example.org", "Olga Owner", locale="en")
    actor = await directory.create(owner, name="Integrationslotsen Saarbrücken", topics=["mentoring"])
    assert (
        actor.status == "pending" and actor.viewer_role == "owner" and actor.slug == "integrationslotsen-saarbruecken"
    )
    assert [m.display_name for m in actor.members] == ["Olga Owner"]

    get = api.GetActor(id=actor.id)
    with pytest.raises(NotFound):
        await directory.client.directory.get_actor(get)
    with pytest.raises(NotFound):
        await directory.client.directory.get_actor(get, directory.caller("someone-else"))
    assert await names(directory) == []
    assert await names(directory, caller=owner, status=["pending"]) == ["Integrationslotsen Saarbrücken"]
    assert await names(directory, caller=directory.admin, status=["pending"]) == ["Integrationslotsen Saarbrücken"]
    assert await names(directory, caller=directory.caller("someone-else"), status=["pending"]) == []

    with pytest.raises(Forbidden):
        await directory.client.directory.approve_actor(api.ApproveActor(actor_id=actor.id), owner)
    approved = await directory.client.directory.approve_actor(api.ApproveActor(actor_id=actor.id), directory.admin)
    assert approved.status == "approved"
    public = await directory.client.directory.get_actor(api.GetActor(slug=actor.slug))
    assert public.id == actor.id and public.members == [] and public.viewer_role is None
    [mail] = await directory.mails()
    assert (mail.to, mail.locale, mail.kind) == ("owner@example.org", "en", "actor-approved")
    assert "Integrationslotsen Saarbrücken" in mail.subject and mail.html and mail.text

    rejected = await directory.client.directory.reject_actor(
        api.RejectActor(actor_id=actor.id, reason="Adresse & Telefon fehlen (<2 Angaben)"), directory.admin)
    assert rejected.status == "rejected" and rejected.rejection_reason == "Adresse & Telefon fehlen (<2 Angaben)"
    [mail] = await directory.mails()
    assert mail.kind == "actor-rejected" and "Adresse &amp; Telefon fehlen (&lt;2 Angaben)" in mail.html
    assert "Adresse & Telefon fehlen (<2 Angaben)" in mail.text


async def test_bad_input_names_the_field_and_stores_nothing(directory):
    owner = directory.caller("acc-owner")
    js = directory.nc.jetstream()
    before = (await js.stream_info("DIRECTORY")).state.last_seq
    cases = [
        ({"regions": ["10999999"]}, "regions"),
        ({"languages": ["de", "zz"]}, "languages"),
        ({"email": "owner(at)example.org"}, "email"),
        ({"website": "ftp://example.org"}, "website"),
        ({"phone": "0000"}, "phone"),
        ({"description": "x" * 100_000}, "description"),
        ({"description": "Hallo <script>alert(1)</script>"}, "description"),
        ({"name": "<b>Fett</b>"}, "name"),
        ({"kind": "bakery"}, "kind"),
    ]
    for fields, field in cases:
        body = {"kind": "counselling-service", "regions": [SAARBRUECKEN], "name": "Beratung", **fields}
        with pytest.raises(Invalid) as refused:
            await directory.raw("create_actor", body, owner)
        assert refused.value.field == field, fields
    with pytest.raises(Unauthenticated):
        await directory.create(None, name="Anonym")
    assert (await js.stream_info("DIRECTORY")).state.last_seq == before
    kv = await js.key_value(subjects.KV_SLUGS)
    with pytest.raises(Exception):
        await kv.get("beratung")  # no slug claimed by refused input either


async def test_only_owners_and_editors_change_an_actor(directory):
    owner = directory.caller("acc-owner")
    actor = await directory.approved(owner, name="Diakonie Saar", topics=["social-counselling"])
    stranger = directory.caller("acc-stranger")
    update = api.UpdateActor(actor_id=actor.id, expected_version=actor.version, name="Gekapert")
    with pytest.raises(Forbidden):
        await directory.client.directory.update_actor(update, stranger)
    with pytest.raises(Forbidden):
        await directory.client.directory.update_actor(update, directory.admin)
    with pytest.raises(Forbidden):
        await directory.client.directory.add_offering(api.AddOffering(actor_id=actor.id, name="X"), stranger)
    with pytest.raises(Forbidden):
        await directory.client.directory.invite_member(
            api.InviteMember(actor_id=actor.id, email="x@example.org"), stranger)
    changed = await directory.client.directory.update_actor(
        api.UpdateActor(actor_id=actor.id, expected_version=actor.version, short_name="DW Saar",
                        description="Kinder & Jugend <3"), owner)
    assert changed.short_name == "DW Saar" and changed.description == "Kinder & Jugend <3"
    assert changed.version > actor.version and changed.name == "Diakonie Saar"


async def test_two_editors_at_once_one_wins_the_other_gets_conflict(directory):
    owner = directory.caller("acc-owner")
    actor = await directory.approved(owner, name="Caritas Saarbrücken")

    def edit(name: str):
        return directory.client.directory.update_actor(
            api.UpdateActor(actor_id=actor.id, expected_version=actor.version, name=name), owner)

    results = await asyncio.gather(edit("Caritas A"), edit("Caritas B"), return_exceptions=True)
    winners = [r for r in results if isinstance(r, api.Actor)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], Conflict) and losers[0].field == "expectedVersion"
    current = await directory.client.directory.get_actor(api.GetActor(id=actor.id))
    assert current.name == winners[0].name and current.version == winners[0].version

    # An editor who saw an older version is refused even when nobody writes right now.
    with pytest.raises(Conflict):
        await edit("Caritas C")


async def test_slugs_are_unique_and_changing_one_frees_the_old(directory):
    owner = directory.caller("acc-owner")
    first = await directory.create(owner, name="Beratung für Frauen")
    second = await directory.create(owner, name="Beratung für Frauen")
    assert (first.slug, second.slug) == ("beratung-fuer-frauen", "beratung-fuer-frauen-2")
    with pytest.raises(Conflict) as taken:
        await directory.create(owner, name="Anders", slug="beratung-fuer-frauen")
    assert taken.value.field == "slug"
    moved = await directory.client.directory.update_actor(
        api.UpdateActor(actor_id=first.id, expected_version=first.version, slug="frauenberatung"), owner)
    assert moved.slug == "frauenberatung"
    third = await directory.create(owner, name="Anders", slug="beratung-fuer-frauen")
    assert third.slug == "beratung-fuer-frauen"
    found = await directory.client.directory.get_actor(api.GetActor(slug="frauenberatung"), owner)
    assert found.id == first.id


# ---- members -------------------------------------------------------------------------

def token_of(mail: OutgoingMail) -> str:
    link = next(word for word in mail.text.split() if "/invitation?token=" in word)
    assert link.startswith("https://lotse.test/invitation?token=")
    return parse_qs(urlparse(link).query)["token"][0]


async def test_invitations_are_single_use_replaceable_and_expire(directory):
    owner = await directory.account("acc-owner", "owner@example.org", "Olga Owner")
    eda = await directory.account("acc-eda", "eda@example.org", "Eda Editor", locale="en")
    actor = await directory.create(owner, name="Wohnungsbaugenossenschaft Saarbrücken eG")
    invite = api.InviteMember(actor_id=actor.id, email="EDA@example.org", role="editor")

    first = await directory.client.directory.invite_member(invite, owner)
    [first_mail] = await directory.mails()
    assert first_mail.to == "eda@example.org" and first_mail.locale == "en"  # the known account's language
    second = await directory.client.directory.invite_member(invite, owner)
    [second_mail] = await directory.mails()
    assert second.id != first.id and second.expires_at - directory.clock.now() <= timedelta(hours=72)
    with pytest.raises(Invalid) as replaced:
        await directory.client.directory.accept_invitation(api.AcceptInvitation(token=token_of(first_mail)), eda)
    assert replaced.value.field == "token"

    # The link is for eda's address: another signed-in member holding it cannot join with it.
    other = await directory.account("acc-intruder", "intruder@example.org", "Ida Intruder")
    with pytest.raises(Forbidden) as not_theirs:
        await directory.client.directory.accept_invitation(api.AcceptInvitation(token=token_of(second_mail)), other)
    assert not_theirs.value.field == "token"
    assert "acc-intruder" not in [m.account_id for m in (await directory.client.directory.get_actor(
        api.GetActor(id=actor.id), owner)).members]

    joined = await directory.client.directory.accept_invitation(
        api.AcceptInvitation(token=token_of(second_mail)), eda)
    assert joined.viewer_role == "editor" and joined.status == "pending"  # members see their pending actor
    with pytest.raises(Invalid):
        await directory.client.directory.accept_invitation(
            api.AcceptInvitation(token=token_of(second_mail)), directory.caller("acc-other"))
    with pytest.raises(Conflict) as member:
        await directory.client.directory.invite_member(invite, owner)
    assert member.value.field == "email"
    with pytest.raises(Forbidden):  # editors do not manage members
        await directory.client.directory.invite_member(
            api.InviteMember(actor_id=actor.id, email="new@example.org"), eda)

    await directory.client.directory.invite_member(
        api.InviteMember(actor_id=actor.id, email="late@example.org", locale="de"), owner)
    [late_mail] = await directory.mails()
    assert late_mail.locale == "de" and "Einladung" in late_mail.subject
    await directory.account("acc-late", "late@example.org", "Lea Late")
    directory.clock.advance(timedelta(hours=73))
    late = directory.caller("acc-late")  # minted after the clock moved: still valid
    with pytest.raises(Invalid) as expired:
        await directory.client.directory.accept_invitation(api.AcceptInvitation(token=token_of(late_mail)), late)
    assert "expired" in expired.value.message


async def test_the_last_owner_cannot_leave_and_only_owners_manage_members(directory):
    owner = await directory.account("acc-owner", "owner@example.org", "Olga Owner")
    eda = await directory.account("acc-eda", "eda@example.org", "Eda Editor")
    actor = await directory.create(owner, name="Migrantenverein Saar")
    await directory.client.directory.invite_member(api.InviteMember(actor_id=actor.id, email="eda@example.org"), owner)
    [mail] = await directory.mails()
    await directory.client.directory.accept_invitation(api.AcceptInvitation(token=token_of(mail)), eda)

    with pytest.raises(Conflict):
        await directory.client.directory.leave_actor(api.LeaveActor(actor_id=actor.id), owner)
    with pytest.raises(Forbidden):
        await directory.client.directory.change_member_role(
            api.ChangeMemberRole(actor_id=actor.id, account_id="acc-eda", role="owner"), eda)
    with pytest.raises(Forbidden):
        await directory.client.directory.remove_member(
            api.RemoveMember(actor_id=actor.id, account_id="acc-owner"), eda)
    promoted = await directory.client.directory.change_member_role(
        api.ChangeMemberRole(actor_id=actor.id, account_id="acc-eda", role="owner"), owner)
    assert {m.account_id: m.role for m in promoted.members} == {"acc-owner": "owner", "acc-eda": "owner"}
    await directory.client.directory.leave_actor(api.LeaveActor(actor_id=actor.id), owner)
    with pytest.raises(NotFound):  # pending, and no longer theirs
        await directory.client.directory.get_actor(api.GetActor(id=actor.id), owner)
    mine = await directory.client.directory.my_actors(api.MyActors(), eda)
    assert [a.id for a in mine.actors] == [actor.id]


async def test_history_lists_who_changed_what_for_owners_and_admins(directory):
    owner = await directory.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await directory.approved(owner, name="Sprachschule Müller")
    await directory.client.directory.update_actor(
        api.UpdateActor(actor_id=actor.id, expected_version=actor.version, phone="0681 93621-0"), owner)
    history = await directory.client.directory.actor_history(api.GetActorHistory(actor_id=actor.id), owner)
    assert [(e.type, e.changes) for e in history.entries][:2] == [
        ("actor_updated", ["phone"]), ("actor_approved", ["status"])]
    assert history.entries[0].by_display_name == "Olga Owner"
    assert history.entries[-1].type == "actor_created" and history.entries[-1].by == "acc-owner"
    assert (await directory.client.directory.actor_history(
        api.GetActorHistory(actor_id=actor.id), directory.admin)).entries
    with pytest.raises(Forbidden):
        await directory.client.directory.actor_history(
            api.GetActorHistory(actor_id=actor.id), directory.caller("acc-stranger"))
    with pytest.raises(Unauthenticated):
        await directory.client.directory.actor_history(api.GetActorHistory(actor_id=actor.id))


# ---- finding -------------------------------------------------------------------------

async def test_search_fits_german_spelling_and_compounds(directory):
    owner = directory.caller("acc-owner")
    await directory.approved(owner, name="Wohnungsbaugenossenschaft Saarbrücken eG", kind="housing-cooperative")
    # These two serve elsewhere: the names of served regions are searchable too.
    await directory.approved(owner, name="Sprachschule Müller", kind="language-course-provider", regions=[MERZIG])
    await directory.approved(owner, name="Straßenkinder Saar e.V.", kind="volunteer-initiative", regions=[MERZIG])
    await directory.approved(owner, name="Caritasverband", description="Beratung rund ums Wohnen in Saarbrücken")

    assert await names(directory, "wohnung") == ["Wohnungsbaugenossenschaft Saarbrücken eG"]
    assert await names(directory, "GENOSSENSCHAFT") == ["Wohnungsbaugenossenschaft Saarbrücken eG"]
    for spelling in ("Müller", "Mueller", "Muller"):
        assert await names(directory, spelling) == ["Sprachschule Müller"], spelling
    for spelling in ("straße", "strasse"):
        assert await names(directory, spelling) == ["Straßenkinder Saar e.V."], spelling
    # A name match ranks before a match in the description; then by name.
    for spelling in ("Saarbrücken", "saarbruecken", "saarbrucken"):
        assert await names(directory, spelling) == ["Wohnungsbaugenossenschaft Saarbrücken eG", "Caritasverband"]
    assert await names(directory, "sprachschule mü") == ["Sprachschule Müller"]
    assert await names(directory, 'müller" OR "x') == []  # FTS syntax is just text
    assert await names(directory, "kindergarten") == []


async def test_region_filters_and_responsibility_follow_the_hierarchy(directory):
    owner = directory.caller("acc-owner")
    state = await directory.approved(owner, name="Landesamt für Integration", regions=["10"],
                                     topics=["housing"], languages=["de", "en"], kind="state-authority")
    district = await directory.approved(owner, name="Regionalverband Wohnberatung", regions=["10041"],
                                        topics=["housing"], languages=["de", "ar"])
    town = await directory.approved(owner, name="Stadt Saarbrücken Wohnungsamt", regions=[SAARBRUECKEN],
                                    topics=["housing"], languages=["de"], kind="municipality")
    await directory.approved(owner, name="Völklinger Wohnhilfe", regions=[VOELKLINGEN], topics=["housing"])
    await directory.create(owner, name="Noch ungeprüft", regions=[SAARBRUECKEN], topics=["housing"])

    assert await names(directory, region=SAARBRUECKEN) == [
        "Landesamt für Integration", "Regionalverband Wohnberatung", "Stadt Saarbrücken Wohnungsamt"]
    assert await names(directory, region=MERZIG) == ["Landesamt für Integration"]
    # A district's searchers also see who works inside it.
    assert len(await names(directory, region="10041")) == 4

    reply = await directory.client.directory.responsible_actors(
        api.ResponsibleActors(topic="housing", region=SAARBRUECKEN))
    assert [(r.actor.id, r.served_via.level) for r in nodes(reply)] == [
        (town.id, "municipality"), (district.id, "district"), (state.id, "state")]
    # A connection: pages of `first`, most specific first, and how many in all.
    pages, after = [], None
    while True:
        page = await directory.client.directory.responsible_actors(
            api.ResponsibleActors(topic="housing", region=SAARBRUECKEN, first=2, after=after))
        assert page.total_count == 3 and page.region.ags == SAARBRUECKEN
        pages.append([r.actor.id for r in nodes(page)])
        if not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor
    assert pages == [[town.id, district.id], [state.id]]
    arabic = await directory.client.directory.responsible_actors(
        api.ResponsibleActors(topic="housing", region=SAARBRUECKEN, languages=["ar"]))
    assert [r.actor.id for r in nodes(arabic)] == [district.id]
    with pytest.raises(Invalid) as unknown:
        await directory.client.directory.responsible_actors(
            api.ResponsibleActors(topic="housing", region="10999999"))
    assert unknown.value.field == "region"
    with pytest.raises(Invalid) as bad_language:
        await names(directory, languages=["klingon"])
    assert bad_language.value.field == "filter.languages"


async def test_offerings_count_for_coverage_and_gaps_are_named(directory):
    owner = directory.caller("acc-owner")
    actor = await directory.approved(owner, name="Bildungswerk Saar", regions=["10042"],
                                     topics=["education"], kind="education-provider")
    with_course = await directory.client.directory.add_offering(api.AddOffering(
        actor_id=actor.id, name="Deutschkurs B1", topics=["language-courses"], languages=["de"],
        regions=[MERZIG], eligibility="Ab 16 Jahren"), owner)
    [course] = with_course.offerings
    assert course.regions[0].ags == MERZIG
    await directory.create(owner, name="Pending Kurse", regions=["10042"], topics=["language-courses"])

    coverage = await directory.client.directory.region_coverage(api.GetRegionCoverage(region=MERZIG))
    by_topic = {t.topic: (t.actors, t.offerings) for t in coverage.topics}
    assert by_topic["education"] == (1, 0) and by_topic["language-courses"] == (1, 1)
    assert "housing" in coverage.uncovered and "education" not in coverage.uncovered
    assert len(coverage.topics) == len(api.TOPICS)
    elsewhere = await directory.client.directory.region_coverage(api.GetRegionCoverage(region=SAARBRUECKEN))
    assert set(elsewhere.uncovered) == set(api.TOPIC_SLUGS)

    found = await directory.client.directory.responsible_actors(
        api.ResponsibleActors(topic="language-courses", region=MERZIG))
    assert [(r.actor.id, r.offering_ids, r.served_via.ags) for r in nodes(found)] == [(actor.id, [course.id], MERZIG)]


async def test_facets_count_the_whole_filter_and_pages_follow_cursors(directory):
    owner = directory.caller("acc-owner")
    for n, (kind, topics, languages) in enumerate([
        ("counselling-service", ["housing"], ["de", "ar"]),
        ("counselling-service", ["housing", "health"], ["de"]),
        ("migrant-organisation", ["health"], ["uk"]),
        ("migrant-organisation", ["youth"], ["de", "uk"]),
        ("other", ["housing"], ["de"]),
    ]):
        await directory.approved(owner, name=f"Akteur {n}", kind=kind, topics=topics, languages=languages)

    seen, after = [], None
    while True:
        page = await directory.client.directory.search_actors(api.SearchActors(first=2, after=after))
        assert page.total_count == 5
        seen += [e.node.name for e in page.edges]
        if not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor
    assert seen == [f"Akteur {n}" for n in range(5)]

    housing = await directory.client.directory.search_actors(
        api.SearchActors(filter=api.ActorFilter(topics=["housing"]), first=1))
    assert housing.total_count == 3 and len(housing.edges) == 1
    facets = housing.facets
    assert {f.value: f.count for f in facets.kinds} == {"counselling-service": 2, "other": 1}
    assert {f.value: f.count for f in facets.topics} == {"housing": 3, "health": 1}
    assert {f.value: f.count for f in facets.languages} == {"de": 3, "ar": 1}
    both = await directory.client.directory.search_actors(api.SearchActors(
        query="akteur", filter=api.ActorFilter(kinds=["migrant-organisation"], languages=["uk"])))
    assert both.total_count == 2


async def test_contact_persons_are_redacted_for_anonymous_callers(directory):
    owner = directory.caller("acc-owner")
    actor = await directory.approved(owner, name="Kreis Merzig-Wadern", regions=["10042"], kind="district")
    await directory.client.directory.add_contact_person(api.AddContactPerson(
        actor_id=actor.id, name="Aylin Demir", function="Kommunale Integrationskoordinatorin",
        email="a.demir@example.org", topics=["housing"], languages=["de", "tr"]), owner)
    anonymous = await directory.client.directory.get_actor(api.GetActor(id=actor.id))
    [person] = anonymous.contact_persons
    assert person.redacted and person.name is None and person.email is None
    assert person.function == "Kommunale Integrationskoordinatorin"
    assert await names(directory, "Demir") == []  # nor found through search
    signed_in = await directory.client.directory.get_actor(api.GetActor(id=actor.id), directory.caller("x"))
    assert signed_in.contact_persons[0].email == "a.demir@example.org"


# ---- regions and rebuilding ----------------------------------------------------------

async def test_importing_regions_is_for_admins_and_idempotent(directory):
    csv = ("# source: test\nags,name,level,parent_ags\n11,Berlin,state,\n11000,Berlin,district,11\n"
           "11000000,Berlin,municipality,11000\n")
    with pytest.raises(Forbidden):
        await directory.client.directory.import_regions(api.ImportRegions(csv=csv), directory.caller("x"))
    summary = await directory.client.directory.import_regions(api.ImportRegions(csv=csv), directory.admin)
    assert (summary.states, summary.created, summary.unchanged) == (1, 3, 0)
    again = await directory.client.directory.import_regions(api.ImportRegions(csv=csv), directory.admin)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    states = await directory.client.directory.list_regions(api.ListRegions())
    assert [r.name for r in states.regions] == ["Berlin", "Saarland"]
    with pytest.raises(Invalid) as bad:
        await directory.client.directory.import_regions(
            api.ImportRegions(csv="ags,name,level,parent_ags\n12000,X,district,12\n"), directory.admin)
    assert bad.value.field == "csv"


async def test_the_view_rebuilds_from_the_stream(directory):
    owner = await directory.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await directory.approved(owner, name="Wohnungsbaugenossenschaft Saarbrücken eG", topics=["housing"])
    await directory.client.directory.add_offering(
        api.AddOffering(actor_id=actor.id, name="Sprechstunde", topics=["housing"]), owner)
    before = await directory.client.directory.get_actor(api.GetActor(id=actor.id), owner)

    await directory.service.stop()
    directory.service.database_path.unlink()
    directory.service = await start_service(directory.nc, directory.settings, directory.clock)

    after = await directory.client.directory.get_actor(api.GetActor(id=actor.id), owner)
    assert after == before
    assert await names(directory, "wohnung") == [before.name]
    reply = await directory.client.directory.responsible_actors(
        api.ResponsibleActors(topic="housing", region=SAARBRUECKEN))
    assert [r.actor.id for r in nodes(reply)] == [actor.id]


async def imported_straight_into_the_stream(directory: Directory, count: int) -> int:
    """`count` imported actors appended as fast as the stream takes them; the last sequence."""
    js = directory.nc.jetstream()
    store = EventStore(js, api.SERVICE, directory.clock)
    pending, last = [], 0
    for n in range(count):
        actor_id = new_id()
        event = api.ActorImported(actor_id=actor_id, profile=api.ActorProfile(
            kind="other", name=f"Massenakteur {n}", slug=f"massenakteur-{n}", regions=[SAARBRUECKEN]))
        envelope = store.envelope(event, None)
        pending.append(await js.publish_async(
            subjects.aggregate_subject(api.SERVICE, api.AGGREGATE_ACTOR, actor_id),
            envelope.model_dump_json().encode(), headers={subjects.MSG_ID: envelope.id}))
        if len(pending) >= 1000:
            last = max(ack.seq for ack in await asyncio.gather(*pending))
            pending = []
    if pending:
        last = max(ack.seq for ack in await asyncio.gather(*pending))
    return last


async def test_a_view_that_cannot_catch_up_in_the_start_up_wait_starts_and_says_so(directory):
    """README's advice (delete a view, restart, it rebuilds) holds for any stream length:
    the service starts, says it is catching up (ping, UNAVAILABLE answers), then serves."""
    count = 10_000
    last = await imported_straight_into_the_stream(directory, count)
    await directory.service.projector.wait_for(last, timeout=120)
    await directory.service.stop()
    for leftover in directory.service.database_path.parent.glob("directory.sqlite3*"):
        leftover.unlink()

    settings = directory.settings.model_copy(update={"startup_wait": 0.0})
    directory.service = await start_service(directory.nc, settings, directory.clock)
    behind = await health.status(directory.nc, "directory")
    assert behind.up and not behind.ready and behind.detail["view"] == "catching-up"
    assert int(behind.detail["of"]) >= last
    with pytest.raises(Unavailable) as refused:
        await names(directory, "massenakteur")
    assert "rebuilding its view" in refused.value.message

    for _ in range(600):
        if (await health.status(directory.nc, "directory")).ready:
            break
        await asyncio.sleep(0.2)
    ready = await health.status(directory.nc, "directory")
    assert ready.ready and ready.detail["applied"] == ready.detail["of"]
    reply = await directory.client.directory.search_actors(api.SearchActors(query="massenakteur", first=1))
    assert reply.total_count == count
    # The shipped regions were not imported a second time by the restarted service.
    assert directory.service.projector.applied == last


async def test_a_rebuilt_view_answers_only_once_the_accounts_it_keeps_are_back_too(directory):
    """The directory's file holds identity's accounts as well: after a deleted view, an actor's
    members must not come back without their names while that part is still being rebuilt."""
    owner = await directory.account("acc-owner", "owner@example.org", "Olga Owner")
    actor = await directory.approved(owner, name="Nachbarschaftshilfe Burbach")
    js = directory.nc.jetstream()
    store = EventStore(js, identity.SERVICE, directory.clock)
    acks = []
    for n in range(5_000):  # many accounts, appended after the owner's: they come back last
        account_id = f"acc-bulk-{n}"
        envelope = store.envelope(identity.AccountRegistered(
            account_id=account_id, username=account_id, email=f"{account_id}@example.org", display_name=f"P {n}",
            locale="de", role="member", password_hash=None, confirm_token_hash=None, confirm_expires_at=None,
        ), None)
        acks.append(js.publish_async(subjects.aggregate_subject(identity.SERVICE, "account", account_id),
                                     envelope.model_dump_json().encode(), headers={subjects.MSG_ID: envelope.id}))
    await asyncio.gather(*acks)
    await directory.service.stop()
    for leftover in directory.service.database_path.parent.glob("directory.sqlite3*"):
        leftover.unlink()

    settings = directory.settings.model_copy(update={"startup_wait": 0.0})
    directory.service = await start_service(directory.nc, settings, directory.clock)
    refused = 0
    for _ in range(600):
        try:
            back = await directory.client.directory.get_actor(api.GetActor(id=actor.id), owner)
        except Unavailable as e:
            assert "rebuilding its view" in e.message
            refused += 1
            await asyncio.sleep(0.05)
            continue
        assert [m.display_name for m in back.members] == ["Olga Owner"]
        break
    else:
        pytest.fail("the directory never caught up")
    assert refused > 0  # it was asked while the accounts were still coming back
    assert (await health.status(directory.nc, "directory")).ready


# ---- public export and invitation pages ----------------------------------------------

async def test_the_public_export_pages_through_approved_actors_as_anyone_sees_them(directory):
    owner = directory.caller("acc-owner")
    approved = [await directory.approved(owner, name=f"Beratung {n}") for n in range(3)]
    await directory.create(owner, name="Noch nicht geprüft")
    await directory.client.directory.add_contact_person(api.AddContactPerson(
        actor_id=approved[0].id, name="Aylin Demir", email="a.demir@example.org"), owner)
    await directory.client.directory.add_contact_person(api.AddContactPerson(
        actor_id=approved[0].id, name="Jonas Öffentlich", email="jonas@example.org", public=True), owner)

    seen, after = [], None
    while True:  # as the owner, who could see more: the export answers as to anyone
        page = await directory.client.directory.export_actors(api.ExportActors(after=after, first=2), owner)
        seen += page.actors
        after = page.next_after
        if after is None:
            break
    assert sorted(a.id for a in seen) == sorted(a.id for a in approved)
    assert [a.id for a in seen] == sorted(a.id for a in seen)
    people = {p.name: p for a in seen for p in a.contact_persons}
    assert set(people) == {None, "Jonas Öffentlich"} and people["Jonas Öffentlich"].email == "jonas@example.org"
    assert all(a.members == [] and a.viewer_role is None for a in seen)


async def test_an_invitation_link_tells_only_actor_and_role_until_it_is_spent(directory):
    owner = await directory.account("acc-owner", "owner@example.org", "Olga Owner")
    eda = await directory.account("acc-eda", "eda@example.org", "Eda Editor")
    actor = await directory.create(owner, name="Wohnungsbaugenossenschaft Saarbrücken eG")
    await directory.client.directory.invite_member(
        api.InviteMember(actor_id=actor.id, email="eda@example.org", role="owner"), owner)
    [mail] = await directory.mails()
    token = token_of(mail)

    summary = await directory.client.directory.describe_invitation(api.DescribeInvitation(token=token))
    assert summary.model_dump() == {"actor_name": "Wohnungsbaugenossenschaft Saarbrücken eG", "role": "owner"}
    with pytest.raises(NotFound) as unknown:
        await directory.client.directory.describe_invitation(api.DescribeInvitation(token="no-such-token"))
    await directory.client.directory.accept_invitation(api.AcceptInvitation(token=token), eda)
    with pytest.raises(NotFound) as spent:
        await directory.client.directory.describe_invitation(api.DescribeInvitation(token=token))
    assert spent.value.message == unknown.value.message and spent.value.field == "token"

    await directory.client.directory.invite_member(
        api.InviteMember(actor_id=actor.id, email="late@example.org"), owner)
    [late] = await directory.mails()
    directory.clock.advance(timedelta(hours=73))
    with pytest.raises(NotFound) as expired:
        await directory.client.directory.describe_invitation(api.DescribeInvitation(token=token_of(late)))
    assert expired.value.message == unknown.value.message


# ---- read-your-writes under load -----------------------------------------------------

async def test_every_one_of_many_parallel_creates_answers_with_the_created_actor(directory):
    """Each reply is read after the view applied the reply's own event: under 16 parallel
    writers (and readers beside them) no reply may miss the actor it just created."""
    owner = directory.caller("acc-owner")
    names_asked = [f"Parallelakteur {n}" for n in range(200)]
    pending = iter(names_asked)
    replies: dict[str, api.Actor] = {}
    failures: list[str] = []

    async def writer() -> None:
        for name in pending:
            try:
                replies[name] = await directory.create(owner, name=name)
            except Exception as e:  # collected: the assertion below names every one
                failures.append(f"{name}: {e!r}")

    async def reader() -> None:
        while len(replies) + len(failures) < len(names_asked):
            await names(directory, "parallelakteur", owner, status=["pending"])

    await asyncio.gather(*(writer() for _ in range(16)), reader(), reader())
    assert failures == []
    assert all(replies[name].name == name for name in names_asked)
    mine = await directory.client.directory.my_actors(api.MyActors(), owner)
    assert len(mine.actors) == len(names_asked)  # each created once
