"""The directory's GraphQL module, the invitation page and the vCard writer, without NATS:
the proto client is a recording fake."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.exports import fold, vcard, vcard_text
from proto import directory as api
from proto import identity
from proto.errors import NotFound, Unauthenticated
from tests.support.gateway import post_form, FakeIdentity, http
from tests.support.gateway import app_with as support_app

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
OWNER, EDITOR, THIRD = "01JOWNER000000000000000000", "01JEDITOR00000000000000000", "01JTHIRD000000000000000000"


def app_with(identity: FakeIdentity, directory: FakeIdentity):
    return support_app(identity, directory, trusted_proxies="203.0.113.7")


def member(account_id: str, role: str = "editor") -> api.Member:
    return api.Member(account_id=account_id, role=role, display_name=None, joined_at=NOW)


def actor(actor_id: str, members: list[api.Member], **fields) -> api.Actor:
    values = dict(
        id=actor_id, slug=f"actor-{actor_id.lower()}", kind="other", name=f"Actor {actor_id}", short_name=None,
        description="", website=None, email=None, phone=None, address=None, coordinates=None, regions=[],
        topics=[], languages=[], offerings=[], contact_persons=[], status="approved", rejection_reason=None,
        reviewed_at=None, created_at=NOW, updated_at=NOW, version=7, viewer_role="owner", members=members,
        invitations=[],
    )
    return api.Actor(**(values | fields))


def profiles(*ids: str) -> identity.Profiles:
    return identity.Profiles(profiles=[identity.PublicProfile(id=i, username=f"u-{i[-4:]}", display_name=f"N {i}")
                                       for i in ids])


async def graphql(identity_: FakeIdentity, directory: FakeIdentity, query: str, variables: dict | None = None,
                  headers: dict | None = None) -> dict:
    async with http(app_with(identity_, directory)) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                     headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


async def test_member_profiles_are_looked_up_once_per_request_for_all_actors():
    both = [member(OWNER, "owner"), member(EDITOR)]
    directory = FakeIdentity(
        {"get_actors": api.ActorList(actors=[actor("A1", both), actor("A2", [*both, member(THIRD)])])}
    )
    people = FakeIdentity({"lookup_profiles": profiles(OWNER, EDITOR, THIRD)})
    body = await graphql(people, directory, """{ a: actor(id: "A1") { members { username displayName } }
        b: actor(id: "A2") { members { username profile { id } } } }""", headers={"Authorization": "Bearer tok"})
    assert "errors" not in body, body
    assert [m["username"] for m in body["data"]["b"]["members"]] == ["u-0000", "u-0000", "u-0000"]
    assert body["data"]["a"]["members"][0]["displayName"] == f"N {OWNER}"
    [lookup] = people.calls
    assert sorted(lookup.request.ids) == sorted([OWNER, EDITOR, THIRD]) and lookup.caller.token == "tok"
    [load] = directory.calls  # the two actor lookups went out as one get_actors
    assert load.verb == "get_actors" and sorted(load.request.ids) == ["A1", "A2"]


async def test_an_unknown_actor_is_null_and_a_new_request_loads_afresh():
    directory = FakeIdentity({"get_actors": api.ActorList(actors=[])})
    for _ in range(2):
        body = await graphql(FakeIdentity(), directory, '{ actor(id: "nope") { id } }')
        assert body["data"] == {"actor": None}
    assert len(directory.calls) == 2  # no cache outlives its request


async def test_null_clears_and_omitted_stays_in_update_requests():
    directory = FakeIdentity({"update_actor": actor("A1", [])})
    body = await graphql(FakeIdentity(), directory, """mutation($input: UpdateActorInput!) {
        updateActor(input: $input) { actor { id } userErrors { field code } } }""",
                         {"input": {"actorId": "A1", "expectedVersion": 7, "website": None, "phone": None,
                                    "description": None, "name": "Neu"}})
    assert body["data"]["updateActor"] == {"actor": {"id": "A1"}, "userErrors": []}
    [call] = directory.calls
    request: api.UpdateActor = call.request
    assert sorted(request.clear) == ["phone", "website"]
    assert request.model_fields_set == {"actor_id", "expected_version", "clear", "name", "description"}
    assert (request.name, request.description) == ("Neu", "")


async def test_a_field_that_cannot_be_empty_is_refused_before_the_service_is_asked():
    directory = FakeIdentity()
    body = await graphql(FakeIdentity(), directory, """mutation { updateActor(input: {actorId: "A1",
        expectedVersion: 1, kind: null}) { actor { id } userErrors { field code } } }""")
    assert body["data"]["updateActor"] == {"actor": None, "userErrors": [{"field": "kind", "code": "INVALID_INPUT"}]}
    assert directory.calls == []


# ---- the invitation page ----------------------------------------------------------------

SUMMARY = api.InvitationSummary(actor_name="Verein <Saar> & Co", role="editor")
SESSION = identity.Session(
    access_token="access-1", access_expires_at=NOW, refresh_token="refresh-1", refresh_expires_at=NOW,
    account=identity.Account(id=EDITOR, username="eda", email="eda@example.org", display_name="Eda", locale="de",
                             role="member", email_confirmed=True, created_at=NOW),
)


async def test_opening_an_invitation_link_only_describes_it():
    directory = FakeIdentity({"describe_invitation": SUMMARY})
    async with http(app_with(FakeIdentity(), directory)) as client:
        page = await client.get("/invitation?token=tok-1")
    assert page.status_code == 200 and "Verein &lt;Saar&gt; &amp; Co" in page.text and "Redakteur*in" in page.text
    assert [c.verb for c in directory.calls] == ["describe_invitation"]


async def test_pressing_the_button_signs_in_from_the_client_address_accepts_and_stays_signed_in():
    people = FakeIdentity({"sign_in": SESSION})
    directory = FakeIdentity({"describe_invitation": SUMMARY, "accept_invitation": actor("A1", [])})
    async with http(app_with(people, directory)) as client:
        done = await post_form(client, "/invitation", {"token": "tok-1", "identifier": "eda", "password": "pw"})
    assert done.status_code == 200 and "Actor A1" in done.text
    assert "/contribute/actors/A1" in done.text  # on to editing the entry just joined
    # The web client keeps the session, sealed in an HttpOnly cookie: no raw token in it.
    cookie = next(v for k, v in done.headers.multi_items() if k == "set-cookie" and v.startswith("lotse-session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "refresh-1" not in cookie
    (sign_in,) = people.calls
    assert sign_in.verb == "sign_in" and sign_in.caller.client_address == "203.0.113.7"
    accept = directory.calls[-1]
    assert accept.verb == "accept_invitation" and accept.caller.token == "access-1"
    assert accept.request.token == "tok-1"


async def test_a_wrong_password_or_dead_link_accepts_nothing():
    people = FakeIdentity({"sign_in": Unauthenticated("wrong")})
    directory = FakeIdentity({"describe_invitation": SUMMARY})
    async with http(app_with(people, directory)) as client:
        wrong = await post_form(client, "/invitation", {"token": "tok-1", "identifier": "eda", "password": "x"})
        directory.replies["describe_invitation"] = NotFound("gone", "token")
        dead = await post_form(client, "/invitation", {"token": "tok-1", "identifier": "eda", "password": "x"})
    assert wrong.status_code == 401 and 'value="eda"' in wrong.text and 'value="x"' not in wrong.text
    assert dead.status_code == 410
    assert "accept_invitation" not in [c.verb for c in directory.calls]
    assert len(people.calls) == 1  # a dead link does not even try to sign in


# ---- vCard -------------------------------------------------------------------------------

def test_vcard_text_escapes_what_rfc_6350_names():
    assert vcard_text('a,b;c\\d\ne "f"') == 'a\\,b\\;c\\\\d\\ne "f"'


def test_folding_keeps_lines_short_and_characters_whole():
    line = "FN:" + "ä" * 100
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts) and all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0]] + [p[1:] for p in parts[1:]]) == line
    assert fold("short") == "short"


def test_a_vcard_names_the_person_and_the_actor():
    person = api.ContactPerson(id="P1", name="Jana Öztürk", function=None, email="j@example.org",
                               phone="0681 123456", topics=[], languages=["de"], public=True, redacted=False)
    card = vcard(actor("A1", [], name="Verein; Saar"), person, "https://lotse.test/x.vcf")
    assert card.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n") and card.endswith("END:VCARD\r\n")
    assert "\r\nFN:Jana Öztürk\r\n" in card and "\r\nORG:Verein\\; Saar\r\n" in card
    assert "\r\nTEL;VALUE=uri;TYPE=work,voice:tel:+49681123456\r\n" in card
