"""A person's data, end to end: `exportMyData` mails a link whose page gathers everything the
platform holds about the caller from every service; `deleteAccount` erases it — and
afterwards not one file of the NATS store and not one SQLite file (with its -wal and -shm)
holds the person's address, display name or username, not even a view rebuilt from the
streams. Two directory replicas react to the erasure; the redaction is appended once.

The tests of this module run in order on one platform: each step builds on the one before.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from proto import directory, privacy, subjects
from proto.common import Caller
from proto.errors import Unauthenticated
from services.directory import search, views
from services.identity import views as identity_views
from services.directory.service import DirectoryService
from services.kernel.connection import connect
from tests.e2e.flows import CONFIRM, REQUEST_RESET, STRONG, USER_ERRORS, VIEWER, register, sign_in
from tests.e2e.test_directory_graphql import (
    ACCEPT, ADD_PERSON, CHANGE_ROLE, CREATE, HISTORY, INVITE, REMOVE_PERSON, SAARBRUECKEN, UPDATE, Member, member,
)
from tests.support.gateway import as_read, post_form
from tests.support.graphql import GraphQL, codes_of
from tests.support.nats_server import LocalNats
from tests.support.smtp import text_of, token_in

EXPORT = f"mutation {{ exportMyData {{ ok {USER_ERRORS} }} }}"
DELETE = f"mutation($password: String!) {{ deleteAccount(password: $password) {{ ok {USER_ERRORS} }} }}"
MY_ACTORS = "query { myActors { id name viewerRole } }"
CREATE_NEWS = f"""mutation($input: CreateNewsItemInput!) {{
  createNewsItem(input: $input) {{ item {{ id }} {USER_ERRORS} }} }}"""
NEWS_ITEM = """query($id: ID!) { newsItem(id: $id) { id author { id displayName } history { byId byDisplayName } } }"""
ACTOR = """query($id: ID!) { actor(id: $id) { id version members { accountId role } invitations { email }
  contactPersons { id name email } } }"""
DEADLINE = 60.0  # seconds the erasure may take on a loaded machine; it takes a second or two

_n = itertools.count(1)


# ---- the platform: a nats-server whose store we can read, and a second directory ---------

@pytest.fixture(scope="module")
def nats_server():
    server = LocalNats()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def nats_url(nats_server):
    return nats_server.url


@pytest.fixture(scope="module")
async def second_directory(running, tmp_path_factory):
    """Another directory replica: its own SQLite file, the same streams."""
    settings = running.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("directory-2")})
    nc = await connect(settings.nats_url, "directory")
    service = DirectoryService(settings, running.clock)
    await service.start(nc)
    yield service
    await service.stop()
    await nc.drain()


@pytest.fixture(scope="module")
def story() -> dict:
    """What the steps of this module hand on to each other."""
    return {}


# ---- people ------------------------------------------------------------------------------

class Person(Member):
    def __init__(self, gql: GraphQL, username: str, email: str, account_id: str, display_name: str):
        super().__init__(gql, username, email, account_id)
        self.display_name = display_name

    @property
    def personal(self) -> dict[str, str]:
        """What must not be found anywhere once the account is erased."""
        return {"email": self.email, "username": self.username, "display name": self.display_name}


async def jurgen(api: GraphQL, smtp) -> Person:
    """The person whose data is exported and erased: a name with umlauts and ß."""
    n = next(_n)
    # Three values that contain none of each other, so that each search proves its own point.
    username, email = f"qjw{n}.jurgen", f"weissmueller.{n}.post@beispiel.example"
    display_name = f"Jürgen Weißmüller-Öztürk {n}"
    assert (await register(api, username, email, display_name=display_name))["ok"]
    [mail] = await smtp.inbox.wait_for(email)
    assert (await api(CONFIRM, token=token_in(mail, "/confirm")))["confirmEmail"]["ok"]
    session = await sign_in(api, username)
    assert session["userErrors"] == [], session
    return Person(api.as_(session["accessToken"]), username, email, session["viewer"]["id"], display_name)


async def press_download(web: httpx.AsyncClient, base_url: str, token: str) -> httpx.Response:
    """Open the link's page and press its button, as a browser does (the form's CSRF token)."""
    page = await web.get(f"{base_url}/my-data", params={"token": token})
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return await web.post(f"{base_url}/my-data", data={"token": token, "csrf": found.group(1), "lang": "de"})


async def mail_with(smtp, address: str, path: str, count: int) -> str:
    """The token of the newest mail to `address` that links to `path`, once there are `count` such."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        found = [m for m in smtp.inbox.to(address) if f"{path}?token=" in text_of(m)]
        if len(found) >= count:
            return token_in(found[-1], path)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{address} got {len(found)} mails linking to {path}, expected {count}")
        await asyncio.sleep(0.1)


async def ok(payload: dict, key: str) -> dict:
    assert payload[key]["userErrors"] == [], payload
    return payload[key]


async def create(owner: Member, name: str) -> dict:
    return (await ok(await owner(CREATE, input={"kind": "counselling-service", "name": name,
                                                "regions": [SAARBRUECKEN]}), "createActor"))["actor"]


async def invite(smtp, owner: Member, actor_id: str, email: str, role: str = "EDITOR") -> str:
    # Counted by their link: notices from notifications (a role changed) reach the same address.
    before = len([m for m in smtp.inbox.to(email) if "/invitation?token=" in text_of(m)])
    await ok(await owner(INVITE, input={"actorId": actor_id, "email": email, "role": role}), "inviteMember")
    return await mail_with(smtp, email, "/invitation", count=before + 1)


# ---- looking into the files ----------------------------------------------------------------

def spellings(text: str) -> set[bytes]:
    """How a value may sit in a file: as typed, in other cases, JSON-escaped, folded for search."""
    forms = {text, text.lower(), text.upper(), text.casefold(), search.fold(text)}
    forms |= {json.dumps(form)[1:-1] for form in set(forms)}
    return {form.encode("utf-8").lower() for form in forms if form}


def files_holding(roots: list[Path], values: dict[str, str]) -> dict[str, list[str]]:
    """value label → the files (under any root) whose bytes hold it, compared case-insensitively."""
    needles = {label: spellings(value) for label, value in values.items()}
    found: dict[str, list[str]] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            try:
                data = path.read_bytes().lower()
            except FileNotFoundError:
                continue  # a file the server just replaced
            for label, forms in needles.items():
                if any(form in data for form in forms):
                    found.setdefault(label, []).append(str(path))
    return found


def stores(running, nats_server, second_directory) -> list[Path]:
    return [nats_server.store_dir, running.settings.data_dir, second_directory.settings.data_dir]


async def until_clean(roots: list[Path], values: dict[str, str]) -> None:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while found := files_holding(roots, values):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still on disk after {DEADLINE}s: {found}")
        await asyncio.sleep(0.5)


def sqlite_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.sqlite3*") if p.is_file())


async def directory_seq(running) -> int:
    return (await running.client.nc.jetstream().stream_info(subjects.stream_name("directory"))).state.last_seq


async def redactions(running, actor_id: str) -> int:
    """How many `ActorRedacted` events the stream holds for one actor."""
    js = running.client.nc.jetstream()
    subject = subjects.aggregate_subject("directory", directory.AGGREGATE_ACTOR, actor_id)
    count, seq = 0, 1
    while True:
        try:
            msg = await js.get_msg(subjects.stream_name("directory"), seq=seq, subject=subject, next=True)
        except Exception:
            return count
        count += json.loads(msg.data)["type"] == directory.ActorRedacted.TYPE
        seq = msg.seq + 1


# ---- the steps -----------------------------------------------------------------------------

async def test_a_person_with_data_in_every_service(api, smtp, running, story, second_directory):
    """Jürgen: two sessions; editor of one actor, where he changed things and is its contact
    person; invited to another, where he was a contact person once; owner of a third; and a
    password reset asked for.

    Meanwhile one mail cannot be delivered and stays queued, as mail does while a mail server
    is down: a queue that runs empty drops its block file, bytes and all, and would hide
    that the mail delivered beside it left its bytes behind."""
    smtp.inbox.deferred.add("spaeter@beispiel.example")
    assert (await register(api, "spaeter.zustellung", "spaeter@beispiel.example"))["ok"]
    person = await jurgen(api, smtp)
    second = await sign_in(api, person.username)
    assert second["userErrors"] == []
    anna = await member(api, smtp, "anna", display_name="Anna Nachbarin")

    beratung = await create(anna, "Beratungsstelle Weißdorn")
    joined = await invite(smtp, anna, beratung["id"], person.email)
    await ok(await person(ACCEPT, input={"token": joined}), "acceptInvitation")
    added = await ok(await person(ADD_PERSON, input={"actorId": beratung["id"], "name": person.display_name,
                                                     "email": person.email, "function": "Ehrenamt"}),
                     "addContactPerson")
    await ok(await person(UPDATE, input={"actorId": beratung["id"], "expectedVersion": added["actor"]["version"],
                                         "description": "Beratung im Quartier"}), "updateActor")
    # News knows him as the actor's editor from the directory's events, and as an author.
    await running.platform.services["news"].directory.projector.catch_up()
    written = await ok(await person(CREATE_NEWS, input={"actorId": beratung["id"], "kind": "ARTICLE",
                                                        "title": "Sprechstunde im Quartier",
                                                        "regions": ["10041100"]}), "createNewsItem")
    story["news_item"] = written["item"]

    treff = await create(anna, "Nachbarschaftstreff Ahorn")
    listed = await ok(await anna(ADD_PERSON, input={"actorId": treff["id"], "name": person.display_name,
                                                    "email": person.email}), "addContactPerson")
    await ok(await anna(REMOVE_PERSON, input={"actorId": treff["id"],
                                              "contactPersonId": listed["contactPerson"]["id"]}),
             "removeContactPerson")
    await invite(smtp, anna, treff["id"], person.email)  # pending: never accepted

    verein = await create(person, "Lotsenverein Öztürk-Haus")
    # A reset he asked for and never used: a task with his username went through identity's queue.
    assert (await api(REQUEST_RESET, identifier=person.username))["requestPasswordReset"]["ok"]
    await mail_with(smtp, person.email, "/reset", count=1)
    story.update(person=person, anna=anna, beratung=beratung, treff=treff, verein=verein,
                 sessions=[person.token, second["accessToken"]])


async def test_the_export_link_is_mailed_and_opening_it_spends_nothing(api, smtp, running, story):
    person: Person = story["person"]
    assert (await ok(await person(EXPORT), "exportMyData"))["ok"]
    token = await mail_with(smtp, person.email, "/my-data", count=1)
    link = f"{running.base_url}/my-data?token={token}"
    async with httpx.AsyncClient() as web:
        for _ in range(2):  # a mail scanner, then the person
            page = await web.get(link)
            assert page.status_code == 200 and '<form method="post" action="/my-data">' in page.text
    story["export_token"] = token


async def test_the_export_holds_what_each_service_declares_and_nothing_about_anyone_else(
        running, story):
    person: Person = story["person"]
    anna: Member = story["anna"]
    async with httpx.AsyncClient() as web:
        response = await press_download(web, running.base_url, story["export_token"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith('attachment; filename="lotse-data-')
    assert response.headers["cache-control"] == "no-store"
    document = privacy.PersonalDataExport.model_validate_json(response.content)
    assert document.account_id == person.account_id
    assert set(document.services) == {"identity", "directory", "news", "notifications"}
    news: dict = document.services["news"]
    assert news["account"]["email"] == person.email
    assert [i["title"] for i in news["items_written"]] == ["Sprechstunde im Quartier"]
    assert {(w["actor_name"], w["role"]) for w in news["writes_for"]} == {
        ("Beratungsstelle Weißdorn", "editor"), ("Lotsenverein Öztürk-Haus", "owner")}
    assert [h["type"] for h in news["history"]] == ["item_created"]

    mine: dict = document.services["identity"]
    assert (mine["account"]["username"], mine["account"]["email"], mine["account"]["display_name"]) == (
        person.username, person.email, person.display_name)
    assert len(mine["sessions"]) == 2

    held: dict = document.services["directory"]
    assert held["account"]["email"] == person.email
    roles = {(m["actor_name"], m["role"]) for m in held["memberships"]}
    assert roles == {("Beratungsstelle Weißdorn", "editor"), ("Lotsenverein Öztürk-Haus", "owner")}
    assert [i["actor_name"] for i in held["invitations"]] == ["Nachbarschaftstreff Ahorn"]
    [contact] = held["contact_entries"]
    assert (contact["actor_name"], contact["name"], contact["email"]) == (
        "Beratungsstelle Weißdorn", person.display_name, person.email)
    by_him = {(h["actor_name"], h["type"]) for h in held["history"]}
    assert {("Beratungsstelle Weißdorn", "invitation_accepted"), ("Beratungsstelle Weißdorn", "actor_updated"),
            ("Beratungsstelle Weißdorn", "contact_person_added"),
            ("Lotsenverein Öztürk-Haus", "actor_created")} <= by_him
    assert all(h["type"] != "contact_person_removed" for h in held["history"])  # Anna's doing, not his

    text = response.text
    for secret in (*story["sessions"], "token_hash", "password"):
        assert secret not in text
    # Nothing about Anna, though she shares all three actors' histories with him.
    for hers in (anna.email, anna.username, anna.account_id, "Anna Nachbarin"):
        assert hers not in text


async def test_the_link_works_once_expires_and_every_dead_link_looks_the_same(api, smtp, running, story):
    person: Person = story["person"]
    async with httpx.AsyncClient() as web:
        used = await press_download(web, running.base_url, story["export_token"])
        unknown = await press_download(web, running.base_url, "not-a-token-anyone-had")
        assert (await ok(await person(EXPORT), "exportMyData"))["ok"]
        fresh = await mail_with(smtp, person.email, "/my-data", count=2)
        running.clock.advance(timedelta(hours=24, seconds=1))
        expired = await press_download(web, running.base_url, fresh)
    assert used.status_code == unknown.status_code == expired.status_code == 410
    assert as_read(used.text) == as_read(unknown.text) == as_read(expired.text)
    assert "application/json" not in expired.headers["content-type"]
    # The clock moved a day: every access token expired. Sign in again for what follows.
    session = await sign_in(api, person.username)
    person.gql = person.gql.as_(session["accessToken"])
    story["sessions"] = [session["accessToken"]]
    story["anna"].gql = story["anna"].gql.as_((await sign_in(api, story["anna"].username))["accessToken"])


async def test_no_one_else_gets_the_data_without_the_link(api, running, story):
    person: Person = story["person"]
    anna: Member = story["anna"]
    # Straight to a service over NATS with an access token, his own or anyone's: refused.
    for token in (person.token, anna.token):
        for holder in running.client.holders():
            with pytest.raises(Unauthenticated):
                await holder.export_personal_data(privacy.ExportPersonalData(), Caller(token=token))
    refused = (await api(EXPORT))["exportMyData"]
    assert codes_of(refused) == ["UNAUTHENTICATED"] and not refused["ok"]


async def test_deleting_needs_a_token_and_the_password_and_changes_nothing_when_refused(api, running, story):
    person: Person = story["person"]
    anonymous = (await api(DELETE, password=STRONG))["deleteAccount"]
    assert codes_of(anonymous) == ["UNAUTHENTICATED"]
    wrong = (await person(DELETE, password="Fahrrad Ampel Wolke 43 Winter"))["deleteAccount"]
    assert [(e["code"], e["field"]) for e in wrong["userErrors"]] == [("INVALID_INPUT", "password")]
    assert (await person(VIEWER))["viewer"]["id"] == person.account_id
    assert len((await person(MY_ACTORS))["myActors"]) == 2


async def test_guessing_the_password_to_delete_is_throttled_like_signing_in(api, smtp, running):
    someone = await member(api, smtp, "guess")
    answers = [(await someone(DELETE, password=f"Falsch geraten Nummer {n}"))["deleteAccount"] for n in range(6)]
    assert [codes_of(a) for a in answers[:5]] == [["INVALID_INPUT"]] * 5
    [locked] = answers[5]["userErrors"]
    assert (locked["code"], locked["field"]) == ("RATE_LIMITED", "password") and locked["retryAfter"] > 0
    # Locked, even with the right password, until the lock ends; the account is untouched.
    assert codes_of((await someone(DELETE, password=STRONG))["deleteAccount"]) == ["RATE_LIMITED"]
    assert (await someone(VIEWER))["viewer"]["id"] == someone.account_id


async def test_the_last_owner_hands_the_actor_over_first(smtp, running, story):
    person: Person = story["person"]
    anna: Member = story["anna"]
    blocked = (await person(DELETE, password=STRONG))["deleteAccount"]
    [error] = blocked["userErrors"]
    assert (error["code"], error["field"]) == ("CONFLICT", "password")
    assert "last owner" in error["message"] and "“Lotsenverein Öztürk-Haus”" in error["message"]
    assert "Beratungsstelle" not in error["message"]  # there he is an editor
    assert (await person(VIEWER))["viewer"]["id"] == person.account_id  # nothing changed

    verein = story["verein"]
    token = await invite(smtp, person, verein["id"], anna.email)
    await ok(await anna(ACCEPT, input={"token": token}), "acceptInvitation")
    await ok(await person(CHANGE_ROLE, input={"actorId": verein["id"], "accountId": anna.account_id,
                                              "role": "OWNER"}), "changeMemberRole")


async def test_deleting_erases_the_person_everywhere_on_disk(api, smtp, running, story, nats_server,
                                                            second_directory):
    person: Person = story["person"]
    # The search finds what is there: before the erasure, each value is in the NATS store and
    # in the SQLite files of both services and both directory replicas.
    held = files_holding(stores(running, nats_server, second_directory), person.personal)
    assert set(held) == set(person.personal)
    for root in stores(running, nats_server, second_directory):
        assert any(path.startswith(str(root)) for path in held["email"]), root
    assert any("identity.sqlite3" in path for path in held["username"])

    before = len(smtp.inbox.to(person.email))
    story["directory_seq"] = await directory_seq(running)
    assert (await ok(await person(DELETE, password=STRONG), "deleteAccount"))["ok"]
    # The old access token is refused at once: the revocation list is written before the tombstone.
    with pytest.raises(TransportQueryError) as refused:
        await person(VIEWER)
    assert refused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    goodbye = await smtp.inbox.wait_for(person.email, count=before + 1)
    assert "gelöscht" in goodbye[-1]["Subject"]

    await until_clean(stores(running, nats_server, second_directory), person.personal)
    for root in (running.settings.data_dir, second_directory.settings.data_dir):
        names = {p.name for p in sqlite_files(root)}
        assert "directory.sqlite3" in names and "directory.sqlite3-wal" in names  # searched, not missing


async def test_actors_keep_a_former_member_and_the_redaction_is_appended_once(running, story, second_directory):
    person: Person = story["person"]
    anna: Member = story["anna"]
    # Both replicas reacted; the stream got one snapshot per actor he was in, and nothing else.
    assert await directory_seq(running) - story["directory_seq"] == 3
    for actor in (story["beratung"], story["treff"], story["verein"]):
        assert await redactions(running, actor["id"]) == 1, actor["name"]
        seen = (await anna(ACTOR, id=actor["id"]))["actor"]
        assert person.account_id not in {m["accountId"] for m in seen["members"]}
        assert person.email not in {i["email"] for i in seen["invitations"]}
        assert all(p["email"] != person.email for p in seen["contactPersons"])
        replica = await views.load_actor(second_directory.db, actor["id"])
        assert replica is not None and replica.version == seen["version"]  # both replicas agree
        assert person.account_id not in replica.members

    # His news item stays the actor's; its author is a former member now, for its owner too.
    item = (await anna(NEWS_ITEM, id=story["news_item"]["id"]))["newsItem"]
    assert item["author"] == {"id": person.account_id, "displayName": privacy.FORMER_MEMBER}
    assert {h["byDisplayName"] for h in item["history"]} == {privacy.FORMER_MEMBER}

    lines = (await anna(HISTORY, id=story["beratung"]["id"]))["actor"]["history"]["entries"]
    his = [line for line in lines if line["by"] and line["by"]["id"] == person.account_id]
    assert his and all(line["by"]["displayName"] == privacy.FORMER_MEMBER for line in his)
    about_him = {line["type"] for line in lines if line["subject"] == privacy.FORMER_MEMBER}
    assert {"member_invited", "invitation_accepted", "contact_person_added"} <= about_him
    treff = (await anna(HISTORY, id=story["treff"]["id"]))["actor"]["history"]["entries"]
    assert {"contact_person_added", "contact_person_removed", "member_invited"} <= {
        line["type"] for line in treff if line["subject"] == privacy.FORMER_MEMBER}


async def test_views_rebuilt_from_the_streams_hold_none_of_it(running, story, nats_server, second_directory):
    person: Person = story["person"]
    for name in ("identity", "directory"):
        old = running.platform.services[name]
        nc = old.nc
        await old.stop()
        for path in sqlite_files(running.settings.data_dir / name):
            path.unlink()
        fresh = type(old)(running.settings, running.clock)
        await fresh.start(nc)
        running.platform.services[name] = fresh
        assert fresh.projector is not None
        await fresh.projector.catch_up()
    identity = running.platform.services["identity"]
    assert await identity_views.by_id(identity.db, story["anna"].account_id) is not None  # rebuilt, not empty
    assert await identity_views.by_id(identity.db, person.account_id) is None
    rebuilt = running.platform.services["directory"]
    await rebuilt.accounts.projector.catch_up()
    assert files_holding([running.settings.data_dir], person.personal) == {}
    state = await views.load_actor(rebuilt.db, story["beratung"]["id"])
    assert state is not None and person.account_id not in state.members
    assert state.profile.description == "Beratung im Quartier"  # the rest of the actor is all there
    lines = await views.history_records(rebuilt.db, story["beratung"]["id"])
    assert any(line.subject == privacy.FORMER_MEMBER for line in lines)
    assert await views.account(rebuilt.db, person.account_id) is None


async def test_the_username_and_address_may_be_registered_again(api, smtp, running, story):
    person: Person = story["person"]
    before = len(smtp.inbox.to(person.email))
    assert (await register(api, person.username, person.email, display_name="Jemand Neues"))["ok"]
    [mail] = (await smtp.inbox.wait_for(person.email, count=before + 1))[before:]
    assert "/confirm" in str(mail)  # a new account's confirmation, not "you already have an account"
    assert (await api(CONFIRM, token=token_in(mail, "/confirm")))["confirmEmail"]["ok"]
    session = await sign_in(api, person.username)
    assert session["userErrors"] == [] and session["viewer"]["id"] != person.account_id
    assert session["viewer"]["displayName"] == "Jemand Neues"


async def test_the_web_client_mails_the_data_and_deletes_the_account_as_the_api_does(api, smtp, running):
    """The account page's two forms, with a browser's session cookie and CSRF tokens."""
    someone = await member(api, smtp, "webperson")
    async with httpx.AsyncClient(base_url=running.base_url, follow_redirects=True) as web:
        signed_in = await post_form(web, "/signin", {"identifier": someone.username, "password": STRONG})
        assert signed_in.status_code == 200 and str(signed_in.url).endswith("/me"), signed_in.text
        asked = await post_form(web, "/me/data", {})
        assert asked.status_code == 200 and str(asked.url).endswith("/me?done=data")
        token = await mail_with(smtp, someone.email, "/my-data", count=1)
        assert (await press_download(web, running.base_url, token)).headers["content-type"] == "application/json"

        wrong = await post_form(web, "/me/delete", {"deletePassword": "Falsch geraten Nummer 1"})
        assert wrong.status_code == 400 and "Das Konto wurde nicht gelöscht." in wrong.text
        assert (await someone(VIEWER))["viewer"]["id"] == someone.account_id  # nothing changed

        deleted = await post_form(web, "/me/delete", {"deletePassword": STRONG})
        assert deleted.status_code == 200 and "Konto gelöscht" in deleted.text
        assert deleted.headers["clear-site-data"] == '"cache", "storage"'
        assert str((await web.get("/me")).url).split("?")[0].endswith("/signin")  # the cookie is worth nothing
    with pytest.raises(TransportQueryError):
        await someone(VIEWER)
