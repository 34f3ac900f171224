"""The directory end to end: GraphQL client → gateway → NATS → directory (and identity) → back,
plus the files (HSDS export, vCards) and the invitation page that mail links open."""

from __future__ import annotations

import re

import asyncio
import itertools
import json

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from proto import identity, subjects
from tests.e2e.flows import RESET, STRONG, USER_ERRORS, confirmed_member, new_person, sign_in
from tests.support.graphql import GraphQL, codes_of
from tests.support.smtp import link_in, text_of, token_in
from tests.support.gateway import post_form

SAARBRUECKEN = "10041100"
FREISEN = "10046111"  # a municipality of the Landkreis St. Wendel (10046)

PROFILE = "profile { id username displayName }"
MEMBERS = "members { accountId role displayName username joinedAt }"
PERSON = "id name function email phone topics languages public redacted vcardUrl"
OFFERING = "id name description topics languages regions { ags name level } eligibility email phone website"
ACTOR = f"""id slug kind name shortName description website email phone
  address {{ street postalCode locality country }} coordinates {{ latitude longitude }}
  regions {{ ags name level }} topics languages status rejectionReason version viewerRole
  offerings {{ {OFFERING} }} contactPersons {{ {PERSON} }} {MEMBERS}
  invitations {{ id email role expiresAt }}"""

CREATE = f"""mutation($input: CreateActorInput!) {{
  createActor(input: $input) {{ actor {{ {ACTOR} }} {USER_ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdateActorInput!) {{
  updateActor(input: $input) {{ actor {{ {ACTOR} }} {USER_ERRORS} }} }}"""
APPROVE = f"""mutation($input: ApproveActorInput!) {{
  approveActor(input: $input) {{ actor {{ id status }} {USER_ERRORS} }} }}"""
REJECT = f"""mutation($input: RejectActorInput!) {{
  rejectActor(input: $input) {{ actor {{ id status rejectionReason }} {USER_ERRORS} }} }}"""
ADD_OFFERING = f"""mutation($input: AddOfferingInput!) {{
  addOffering(input: $input) {{ actor {{ id version }} offering {{ {OFFERING} }} {USER_ERRORS} }} }}"""
UPDATE_OFFERING = f"""mutation($input: UpdateOfferingInput!) {{
  updateOffering(input: $input) {{ offering {{ {OFFERING} }} {USER_ERRORS} }} }}"""
REMOVE_OFFERING = f"""mutation($input: RemoveOfferingInput!) {{
  removeOffering(input: $input) {{ actor {{ offerings {{ id }} }} {USER_ERRORS} }} }}"""
ADD_PERSON = f"""mutation($input: AddContactPersonInput!) {{
  addContactPerson(input: $input) {{ actor {{ id version }} contactPerson {{ {PERSON} }} {USER_ERRORS} }} }}"""
UPDATE_PERSON = f"""mutation($input: UpdateContactPersonInput!) {{
  updateContactPerson(input: $input) {{ contactPerson {{ {PERSON} }} {USER_ERRORS} }} }}"""
REMOVE_PERSON = f"""mutation($input: RemoveContactPersonInput!) {{
  removeContactPerson(input: $input) {{ actor {{ contactPersons {{ id }} }} {USER_ERRORS} }} }}"""
INVITE = f"""mutation($input: InviteMemberInput!) {{
  inviteMember(input: $input) {{ invitation {{ id email role expiresAt }} {USER_ERRORS} }} }}"""
ACCEPT = f"""mutation($input: AcceptInvitationInput!) {{
  acceptInvitation(input: $input) {{ actor {{ id viewerRole }} {USER_ERRORS} }} }}"""
CHANGE_ROLE = f"""mutation($input: ChangeMemberRoleInput!) {{
  changeMemberRole(input: $input) {{ actor {{ {MEMBERS} }} {USER_ERRORS} }} }}"""
REMOVE_MEMBER = f"""mutation($input: RemoveMemberInput!) {{
  removeMember(input: $input) {{ actor {{ {MEMBERS} }} {USER_ERRORS} }} }}"""
LEAVE = f"""mutation($input: LeaveActorInput!) {{ leaveActor(input: $input) {{ ok {USER_ERRORS} }} }}"""

ACTOR_BY_ID = f"""query($id: ID!) {{ actor(id: $id) {{ {ACTOR} }} }}"""
ACTOR_BY_SLUG = f"""query($slug: String!) {{ actor(slug: $slug) {{ {ACTOR} }} }}"""
HISTORY = """query($id: ID!) { actor(id: $id) { history { entries { version type changes subject occurredAt
  by { id username displayName } } pageInfo { hasNextPage } } } }"""
SEARCH = """query($query: String, $filter: ActorFilter, $first: Int!, $after: String) {
  actors(query: $query, filter: $filter, first: $first, after: $after) {
    edges { cursor node { id name status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
    facets { kinds { value count } topics { value count } languages { value count } } } }"""
RESPONSIBLE = """query($topic: String!, $region: String!, $languages: [String!], $first: Int, $after: String) {
  responsibleActors(topic: $topic, region: $region, languages: $languages, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { actor { id name } servedVia { ags level } offerings { id name } } } } }"""


def responsible(reply: dict) -> list[dict]:
    return [edge["node"] for edge in reply["responsibleActors"]["edges"]]
COVERAGE = """query($region: String!) {
  regionCoverage(region: $region) { region { ags name level path { ags } } topics { topic actors offerings }
    uncovered } }"""
REGIONS = """query($parent: String, $query: String) {
  regions(parent: $parent, query: $query) { ags name level parentAgs childCount path { ags name level } } }"""
REGION = """query($ags: String!) { region(ags: $ags) { ags name level path { ags name level } childCount } }"""
VOCABULARIES = """query { topics { slug de en } actorKinds { slug de en } }"""

_markers = itertools.count(1)


def marker(word: str) -> str:
    """A made-up word that only this test's actors carry: the tests share one directory."""
    return f"{word}{'xyzqvw'[next(_markers) % 6]}{next(_markers)}".lower()


# ---- who is acting ---------------------------------------------------------------------

class Member:
    def __init__(self, gql: GraphQL, username: str, email: str, account_id: str):
        self.gql, self.username, self.email, self.account_id = gql, username, email, account_id

    async def __call__(self, document: str, **variables):
        return await self.gql(document, **variables)

    @property
    def token(self) -> str:
        assert self.gql.token
        return self.gql.token


async def member(api: GraphQL, smtp, prefix: str = "member", display_name: str | None = None) -> Member:
    username, email = await confirmed_member(api, smtp, prefix)
    session = await sign_in(api, username)
    assert session["userErrors"] == [], session
    signed_in = api.as_(session["accessToken"])
    if display_name:
        changed = await signed_in("mutation($d: String) { updateProfile(displayName: $d) { userErrors { code } } }",
                                  d=display_name)
        assert changed["updateProfile"]["userErrors"] == []
    return Member(signed_in, username, email, session["viewer"]["id"])


@pytest.fixture(scope="module")
async def admin_account(running, smtp):
    """An administrator, made the way an operator makes one: CLI request, then the mailed link."""
    username, email = new_person("admin")
    await running.client.identity.create_admin(identity.CreateAdmin(email=email, username=username))
    [mail] = await smtp.inbox.wait_for(email)
    anonymous = GraphQL(running.base_url, forwarded_for="203.0.113.250")
    done = await anonymous(RESET, token=token_in(mail, "/reset"), newPassword=STRONG)
    assert done["resetPassword"]["ok"], done
    return username


@pytest.fixture
async def admin(running, admin_account) -> GraphQL:
    anonymous = GraphQL(running.base_url, forwarded_for="203.0.113.251")
    session = await sign_in(anonymous, admin_account)
    assert session["userErrors"] == [] and session["viewer"]["role"] == "ADMIN", session
    return anonymous.as_(session["accessToken"])


async def create(owner, **fields) -> dict:
    values = {"kind": "counselling-service", "regions": [SAARBRUECKEN], **fields}
    answer = (await owner(CREATE, input=values))["createActor"]
    assert answer["userErrors"] == [], answer
    return answer["actor"]


async def approve(admin: GraphQL, actor: dict) -> None:
    answer = (await admin(APPROVE, input={"actorId": actor["id"]}))["approveActor"]
    assert answer["userErrors"] == [] and answer["actor"]["status"] == "APPROVED", answer


async def approved(owner, admin, **fields) -> dict:
    actor = await create(owner, **fields)
    await approve(admin, actor)
    return actor


async def directory_seq(running) -> int:
    info = await running.client.nc.jetstream().stream_info(subjects.stream_name("directory"))
    return info.state.last_seq


async def names(api, query: str | None = None, **filter_) -> list[str]:
    found = (await api(SEARCH, query=query, filter=filter_ or None, first=100))["actors"]
    return [edge["node"]["name"] for edge in found["edges"]]


def field_of(payload: dict) -> tuple[str, str]:
    [error] = payload["userErrors"]
    return error["code"], error["field"]


# ---- review and visibility -------------------------------------------------------------

async def test_a_new_actor_is_pending_until_an_admin_approves_it(api, smtp, admin):
    owner = await member(api, smtp, "owner")
    word = marker("Lotsenhaus")
    actor = await create(owner, name=f"{word.title()} Saarbrücken", topics=["mentoring"], languages=["de", "ar"])
    assert (actor["status"], actor["viewerRole"]) == ("PENDING", "OWNER")
    assert [m["accountId"] for m in actor["members"]] == [owner.account_id]

    # Pending: nobody else may see it, by id, by slug or in a search.
    assert (await api(ACTOR_BY_ID, id=actor["id"]))["actor"] is None
    assert (await api(ACTOR_BY_SLUG, slug=actor["slug"]))["actor"] is None
    assert await names(api, word) == []
    assert (await owner(ACTOR_BY_ID, id=actor["id"]))["actor"]["status"] == "PENDING"

    other = await member(api, smtp, "other")
    refused = (await other(APPROVE, input={"actorId": actor["id"]}))["approveActor"]
    assert refused["actor"] is None and codes_of(refused) == ["FORBIDDEN"]
    refused = (await owner(APPROVE, input={"actorId": actor["id"]}))["approveActor"]
    assert codes_of(refused) == ["FORBIDDEN"]
    assert (await api(ACTOR_BY_ID, id=actor["id"]))["actor"] is None

    rejected = (await admin(REJECT, input={"actorId": actor["id"], "reason": "Bitte Adresse ergänzen"}))
    assert rejected["rejectActor"]["actor"]["status"] == "REJECTED"
    assert (await api(ACTOR_BY_ID, id=actor["id"]))["actor"] is None
    await approve(admin, actor)
    mails = await smtp.inbox.wait_for(owner.email, count=3)  # confirmation, rejection, approval
    assert "freigeschaltet" in mails[-1]["Subject"]

    public = (await api(ACTOR_BY_SLUG, slug=actor["slug"]))["actor"]
    assert public["status"] == "APPROVED" and public["viewerRole"] is None
    assert public["members"] == [] and public["invitations"] == []  # members are for members
    assert await names(api, word) == [actor["name"]]


async def test_queries_answer_with_codes_and_nulls(api, smtp):
    with pytest.raises(TransportQueryError) as both:
        await api("query { actor(id: \"x\", slug: \"y\") { id } }")
    assert both.value.errors[0]["extensions"]["code"] == "INVALID_INPUT"
    with pytest.raises(TransportQueryError) as long_id:
        await api(ACTOR_BY_ID, id="x" * 100)
    assert long_id.value.errors[0]["extensions"]["field"] == "id"
    assert (await api(REGION, ags="99"))["region"] is None
    saarbruecken = (await api(REGION, ags=SAARBRUECKEN))["region"]
    assert [r["ags"] for r in saarbruecken["path"]] == ["10", "10041"] and saarbruecken["level"] == "MUNICIPALITY"
    districts = (await api(REGIONS, parent="10"))["regions"]
    assert len(districts) == 6 and {d["level"] for d in districts} == {"DISTRICT"}
    found = (await api(REGIONS, query="Saarbrücken"))["regions"]
    assert SAARBRUECKEN in [r["ags"] for r in found]
    for listed in found:  # every listed region carries its path, as region(ags:) gives it
        alone = (await api(REGION, ags=listed["ags"]))["region"]
        assert listed["path"] == alone["path"] and listed["childCount"] == alone["childCount"]
    assert next(r for r in found if r["ags"] == SAARBRUECKEN)["path"] == saarbruecken["path"]
    states = (await api(REGIONS))["regions"]
    assert [(s["ags"], s["childCount"]) for s in states] == [("10", 6)]
    vocabularies = await api(VOCABULARIES)
    housing = next(t for t in vocabularies["topics"] if t["slug"] == "housing")
    assert housing == {"slug": "housing", "de": "Wohnen", "en": "Housing"}
    assert {"slug": "housing-cooperative", "de": "Wohnungsbaugenossenschaft", "en": "Housing cooperative"} in (
        vocabularies["actorKinds"])
    with pytest.raises(TransportQueryError) as anonymous:
        await api("query { myActors { id } }")
    assert anonymous.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with httpx.AsyncClient() as http:
        ready = (await http.get(f"{api.base_url}/readyz")).json()
    assert ready["services"]["directory"] is True


# ---- search ----------------------------------------------------------------------------

async def test_search_folds_german_spelling_finds_compound_parts_counts_facets_and_pages(api, smtp, admin):
    owner = await member(api, smtp, "searcher")
    word = marker("Quellental")
    cooperative = await approved(owner, admin, name=f"Wohnungsbaugenossenschaft {word.title()} eG",
                                 kind="housing-cooperative", topics=["housing"], languages=["de", "ar"])
    school = await approved(owner, admin, name=f"Sprachschule Müller {word.title()}",
                            kind="language-course-provider", topics=["language-courses"], languages=["de", "uk"])
    club = await approved(owner, admin, name=f"Migrantenverein München {word.title()}",
                          kind="migrant-organisation", topics=["housing", "mentoring"], languages=["de", "tr"])
    await create(owner, name=f"Noch ungeprüft {word.title()}", topics=["housing"])  # pending: not counted

    assert await names(api, f"wohnung {word}") == [cooperative["name"]]  # part of a compound
    assert await names(api, f"Muenchen {word}") == [club["name"]]
    assert await names(api, f"munchen {word}") == [club["name"]]
    assert await names(api, f"Mueller {word}") == [school["name"]]
    assert await names(api, f"MÜLLER {word}") == [school["name"]]

    everything = (await api(SEARCH, query=word, first=2))["actors"]
    assert everything["totalCount"] == 3 and len(everything["edges"]) == 2
    assert everything["pageInfo"]["hasNextPage"] is True
    facets = everything["facets"]
    assert {f["value"]: f["count"] for f in facets["kinds"]} == {
        "housing-cooperative": 1, "language-course-provider": 1, "migrant-organisation": 1}
    assert {f["value"]: f["count"] for f in facets["topics"]} == {"housing": 2, "language-courses": 1, "mentoring": 1}
    assert {f["value"]: f["count"] for f in facets["languages"]} == {"de": 3, "ar": 1, "uk": 1, "tr": 1}
    rest = (await api(SEARCH, query=word, first=2, after=everything["pageInfo"]["endCursor"]))["actors"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    assert rest["pageInfo"]["hasPreviousPage"] is True
    seen = [e["node"]["name"] for e in everything["edges"] + rest["edges"]]
    assert sorted(seen) == sorted([cooperative["name"], school["name"], club["name"]])

    # Counts asked for through a fragment are counted too; a page alone pages without them.
    fragment = """query($q: String) { actors(query: $q, first: 1) { ...counted edges { node { id } } } }
      fragment counted on ActorConnection { totalCount facets { kinds { value count } } }"""
    counted = (await api(fragment, q=word))["actors"]
    assert counted["totalCount"] == 3 and len(counted["facets"]["kinds"]) == 3
    bare = (await api("""query($q: String) { actors(query: $q, first: 2) { edges { node { name } }
      pageInfo { hasNextPage } } }""", q=word))["actors"]
    assert len(bare["edges"]) == 2 and bare["pageInfo"]["hasNextPage"] is True

    housing = (await api(SEARCH, query=word, filter={"topics": ["housing"]}, first=10))["actors"]
    assert sorted(e["node"]["name"] for e in housing["edges"]) == sorted([cooperative["name"], club["name"]])
    assert {f["value"]: f["count"] for f in housing["facets"]["kinds"]} == {
        "housing-cooperative": 1, "migrant-organisation": 1}
    assert await names(api, word, languages=["uk"], kinds=["language-course-provider"]) == [school["name"]]
    mine = (await owner(SEARCH, query=word, filter={"status": ["PENDING"]}, first=10))["actors"]
    assert [e["node"]["status"] for e in mine["edges"]] == ["PENDING"]  # the owner sees their pending one
    assert (await api(SEARCH, query=word, filter={"status": ["PENDING"]}, first=10))["actors"]["totalCount"] == 0


# ---- who is responsible where ----------------------------------------------------------

async def test_responsible_actors_most_specific_first_and_coverage_names_the_gaps(api, smtp, admin):
    owner = await member(api, smtp, "network")
    word = marker("Einbuergerungsnetz")
    state = await approved(owner, admin, name=f"Landesnetzwerk {word}", kind="state-authority", regions=["10"],
                           topics=["naturalisation"], languages=["de"])
    district = await approved(owner, admin, name=f"Kreis St. Wendel {word}", kind="district", regions=["10046"],
                              topics=["naturalisation"], languages=["de", "fr"])
    town = await approved(owner, admin, name=f"Gemeinde Freisen {word}", kind="municipality", regions=[FREISEN],
                          topics=["naturalisation"], languages=["de"])
    other_town = await approved(owner, admin, name=f"Gemeinde Saarbrücken {word}", kind="municipality",
                                regions=[SAARBRUECKEN], topics=["naturalisation"])

    found = responsible(await api(RESPONSIBLE, topic="naturalisation", region=FREISEN, first=100))
    ours = [r for r in found if word in r["actor"]["name"]]
    assert [r["actor"]["id"] for r in ours] == [town["id"], district["id"], state["id"]]
    assert [r["servedVia"]["level"] for r in ours] == ["MUNICIPALITY", "DISTRICT", "STATE"]
    assert other_town["id"] not in [r["actor"]["id"] for r in found]
    french = responsible(await api(RESPONSIBLE, topic="naturalisation", region=FREISEN, languages=["fr"]))
    assert [r["actor"]["id"] for r in french] == [district["id"]]
    # A connection: most specific first, page after page.
    first = (await api(RESPONSIBLE, topic="naturalisation", region=FREISEN, first=1))["responsibleActors"]
    assert first["totalCount"] == len(found) and first["pageInfo"]["hasNextPage"]
    rest = (await api(RESPONSIBLE, topic="naturalisation", region=FREISEN, first=100,
                      after=first["pageInfo"]["endCursor"]))["responsibleActors"]
    assert [e["node"]["actor"]["id"] for e in first["edges"] + rest["edges"]] == [r["actor"]["id"] for r in found]
    assert not rest["pageInfo"]["hasNextPage"]

    coverage = (await api(COVERAGE, region=FREISEN))["regionCoverage"]
    assert [r["ags"] for r in coverage["region"]["path"]] == ["10", "10046"]
    by_topic = {t["topic"]: t for t in coverage["topics"]}
    assert by_topic["naturalisation"]["actors"] >= 3
    assert "family-reunification" in coverage["uncovered"] and "naturalisation" not in coverage["uncovered"]

    added = (await owner(ADD_OFFERING, input={
        "actorId": district["id"], "name": "Sprechstunde Familiennachzug", "topics": ["family-reunification"],
        "regions": ["10046"]}))["addOffering"]
    assert added["userErrors"] == [] and added["offering"]["name"] == "Sprechstunde Familiennachzug"
    coverage = (await api(COVERAGE, region=FREISEN))["regionCoverage"]
    family = next(t for t in coverage["topics"] if t["topic"] == "family-reunification")
    assert (family["actors"], family["offerings"]) == (1, 1)
    assert "family-reunification" not in coverage["uncovered"]
    via = responsible(await api(RESPONSIBLE, topic="family-reunification", region=FREISEN))
    assert [(r["actor"]["id"], [o["name"] for o in r["offerings"]]) for r in via] == [
        (district["id"], ["Sprechstunde Familiennachzug"])]

    with pytest.raises(TransportQueryError) as unknown:
        await api(COVERAGE, region="10099")
    assert unknown.value.errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": "region"}


# ---- editing ---------------------------------------------------------------------------

async def test_concurrent_updates_with_the_same_version_one_wins_one_conflicts(api, smtp, admin):
    owner = await member(api, smtp, "editor-a", display_name="Olga Owner")
    actor = await approved(owner, admin, name=f"Beratung {marker('Gleichzeitig')}",
                           website="https://beratung.example.org", email="info@beratung.example.org",
                           topics=["social-counselling"])
    version = (await owner(ACTOR_BY_ID, id=actor["id"]))["actor"]["version"]

    first, second = await asyncio.gather(
        owner(UPDATE, input={"actorId": actor["id"], "expectedVersion": version, "description": "Erste Fassung"}),
        owner(UPDATE, input={"actorId": actor["id"], "expectedVersion": version, "description": "Zweite Fassung"}),
    )
    answers = [first["updateActor"], second["updateActor"]]
    winners = [a for a in answers if not a["userErrors"]]
    losers = [a for a in answers if a["userErrors"]]
    assert len(winners) == 1 and len(losers) == 1
    assert field_of(losers[0]) == ("CONFLICT", "expectedVersion") and losers[0]["actor"] is None
    stored = (await api(ACTOR_BY_ID, id=actor["id"]))["actor"]
    assert stored["description"] == winners[0]["actor"]["description"]

    # Omitted: unchanged. Explicit null: emptied.
    cleared = (await owner(UPDATE, input={"actorId": actor["id"], "expectedVersion": stored["version"],
                                          "website": None, "topics": None}))["updateActor"]
    assert cleared["userErrors"] == []
    assert cleared["actor"]["website"] is None and cleared["actor"]["topics"] == []
    assert cleared["actor"]["email"] == "info@beratung.example.org"
    assert cleared["actor"]["description"] == stored["description"]
    refused = (await owner(UPDATE, input={"actorId": actor["id"], "expectedVersion": cleared["actor"]["version"],
                                          "name": None}))["updateActor"]
    assert field_of(refused) == ("INVALID_INPUT", "name")

    history = (await owner(HISTORY, id=actor["id"]))["actor"]["history"]["entries"]
    assert history[0]["type"] == "actor_updated" and set(history[0]["changes"]) == {"website", "topics"}
    assert history[0]["by"] == {"id": owner.account_id, "username": owner.username, "displayName": "Olga Owner"}
    assert [e["type"] for e in history][-2:] == ["actor_approved", "actor_created"]
    assert history[-2]["by"]["username"] != owner.username  # the admin approved it


async def test_offerings_and_contact_persons_are_added_changed_and_removed(api, smtp, admin):
    owner = await member(api, smtp, "offers")
    actor = await approved(owner, admin, name=f"Sprachtreff {marker('Angebot')}", topics=["language-courses"])
    added = (await owner(ADD_OFFERING, input={
        "actorId": actor["id"], "name": "Deutschkurs A1", "topics": ["language-courses"], "languages": ["de", "ar"],
        "eligibility": "Erwachsene", "website": "https://kurs.example.org"}))["addOffering"]
    offering = added["offering"]
    assert added["userErrors"] == [] and offering["regions"] == []
    changed = (await owner(UPDATE_OFFERING, input={
        "actorId": actor["id"], "offeringId": offering["id"], "website": None, "name": "Deutschkurs A2"}))
    assert changed["updateOffering"]["offering"]["website"] is None
    assert changed["updateOffering"]["offering"]["name"] == "Deutschkurs A2"
    assert changed["updateOffering"]["offering"]["eligibility"] == "Erwachsene"
    removed = (await owner(REMOVE_OFFERING, input={"actorId": actor["id"], "offeringId": offering["id"]}))
    assert removed["removeOffering"]["actor"]["offerings"] == []

    person = (await owner(ADD_PERSON, input={"actorId": actor["id"], "name": "Aylin Demir",
                                            "email": "a.demir@example.org", "function": "Leitung"}))
    person = person["addContactPerson"]["contactPerson"]
    assert person["name"] == "Aylin Demir" and person["public"] is False
    updated = (await owner(UPDATE_PERSON, input={"actorId": actor["id"], "contactPersonId": person["id"],
                                                "function": None, "public": True}))["updateContactPerson"]
    assert updated["contactPerson"]["function"] is None and updated["contactPerson"]["public"] is True
    gone = (await owner(REMOVE_PERSON, input={"actorId": actor["id"], "contactPersonId": person["id"]}))
    assert gone["removeContactPerson"]["actor"]["contactPersons"] == []
    stale = (await owner(REMOVE_PERSON, input={"actorId": actor["id"], "contactPersonId": person["id"]}))
    assert field_of(stale["removeContactPerson"]) == ("NOT_FOUND", "contactPersonId")


# ---- members ---------------------------------------------------------------------------

async def wait_for_invitations(smtp, email: str, count: int) -> list[str]:
    """All invitation links mailed to `email`, once there are `count` of them."""
    for _ in range(150):
        links = [link_in(m, "/invitation") for m in smtp.inbox.to(email) if "/invitation?token=" in text_of(m)]
        if len(links) >= count:
            return links
        await asyncio.sleep(0.1)
    raise AssertionError(f"{email} did not get {count} invitation mails")


async def test_editors_edit_and_only_owners_manage_members(api, smtp, admin):
    owner = await member(api, smtp, "boss", display_name="Olga Owner")
    editor = await member(api, smtp, "helper", display_name="Eda Editor")
    actor = await create(owner, name=f"Integrationslotsen {marker('Team')}")

    invited = (await owner(INVITE, input={"actorId": actor["id"], "email": editor.email}))["inviteMember"]
    assert invited["userErrors"] == [] and invited["invitation"]["role"] == "EDITOR"
    [link] = await wait_for_invitations(smtp, editor.email, 1)
    joined = (await editor(ACCEPT, input={"token": link.split("token=", 1)[1]}))["acceptInvitation"]
    assert joined["userErrors"] == [] and joined["actor"]["viewerRole"] == "EDITOR"

    seen = (await owner(ACTOR_BY_ID, id=actor["id"]))["actor"]
    assert {(m["username"], m["displayName"], m["role"]) for m in seen["members"]} == {
        (owner.username, "Olga Owner", "OWNER"), (editor.username, "Eda Editor", "EDITOR")}

    edited = (await editor(UPDATE, input={"actorId": actor["id"], "expectedVersion": seen["version"],
                                          "description": "Von der Redaktion"}))["updateActor"]
    assert edited["userErrors"] == [] and edited["actor"]["description"] == "Von der Redaktion"
    assert edited["actor"]["invitations"] == []  # invitations are for owners
    refused = (await editor(INVITE, input={"actorId": actor["id"], "email": "x@example.org"}))["inviteMember"]
    assert codes_of(refused) == ["FORBIDDEN"] and refused["invitation"] is None
    refused = (await editor(CHANGE_ROLE, input={"actorId": actor["id"], "accountId": editor.account_id,
                                                "role": "OWNER"}))["changeMemberRole"]
    assert codes_of(refused) == ["FORBIDDEN"]
    refused = (await editor(REMOVE_MEMBER, input={"actorId": actor["id"], "accountId": owner.account_id}))
    assert codes_of(refused["removeMember"]) == ["FORBIDDEN"]
    with pytest.raises(TransportQueryError) as history:
        await editor(HISTORY, id=actor["id"])
    assert history.value.errors[0]["extensions"]["code"] == "FORBIDDEN"

    last = (await owner(LEAVE, input={"actorId": actor["id"]}))["leaveActor"]
    assert last["ok"] is False and codes_of(last) == ["CONFLICT"]
    promoted = (await owner(CHANGE_ROLE, input={"actorId": actor["id"], "accountId": editor.account_id,
                                                "role": "OWNER"}))["changeMemberRole"]
    assert {m["role"] for m in promoted["actor"]["members"]} == {"OWNER"}
    left = (await owner(LEAVE, input={"actorId": actor["id"]}))["leaveActor"]
    assert left == {"ok": True, "userErrors": []}
    assert (await owner(ACTOR_BY_ID, id=actor["id"]))["actor"] is None  # pending, and no longer theirs
    mine = (await editor("query { myActors { id viewerRole } }"))["myActors"]
    assert {"id": actor["id"], "viewerRole": "OWNER"} in mine


async def test_the_invitation_page_shows_on_get_and_accepts_on_post_once(api, smtp, running):
    owner = await member(api, smtp, "inviter")
    guest = await member(api, smtp, "guest")
    actor = await create(owner, name='Kinder < 6 & "Zukunft" e.V.')
    await owner(INVITE, input={"actorId": actor["id"], "email": guest.email.upper(), "role": "OWNER"})
    [link] = await wait_for_invitations(smtp, guest.email, 1)
    assert link.startswith(f"{running.base_url}/invitation?token=")
    token = link.split("token=", 1)[1]
    page_url = link.split("?")[0]

    async with httpx.AsyncClient(headers={"X-Forwarded-For": "198.51.100.77"}) as http:
        page = await http.get(link)
        assert page.status_code == 200 and 'method="post"' in page.text
        assert "Kinder &lt; 6 &amp; &#34;Zukunft&#34; e.V." in page.text and "Inhaber*in" in page.text
        assert 'Kinder < 6' not in page.text
        assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
        english = await http.get(f"{link}&lang=en")
        assert "Invitation to Lotse" in english.text and "as owner" in english.text
        # Opening the link accepted nothing.
        assert (await guest(ACTOR_BY_ID, id=actor["id"]))["actor"] is None

        wrong = await post_form(http, page_url, {"token": token, "identifier": guest.username, "password": "nope"})
        assert wrong.status_code == 401 and "stimmen nicht" in wrong.text
        assert (await guest(ACTOR_BY_ID, id=actor["id"]))["actor"] is None

        done = await post_form(http, page_url, {"token": token, "identifier": guest.email, "password": STRONG})
        assert done.status_code == 200 and "Einladung angenommen" in done.text
        assert "Kinder &lt; 6 &amp; &#34;Zukunft&#34; e.V." in done.text
        joined = (await guest(ACTOR_BY_ID, id=actor["id"]))["actor"]
        assert joined["viewerRole"] == "OWNER"

        again = await post_form(http, page_url, {"token": token, "identifier": guest.email, "password": STRONG})
        assert again.status_code == 410 and "gilt nicht mehr" in again.text
        reopened = await http.get(link)
        assert reopened.status_code == 410 and "Zukunft" not in reopened.text
        unknown = await http.get(f"{page_url}?token=made-up-token")
        def same(text: str, secret: str) -> str:  # the page's render time aside
            return re.sub(r'data-rendered-at="[^"]*"', "", text.replace(secret, ""))
        assert unknown.status_code == 410 and same(unknown.text, "made-up-token") == same(reopened.text, token)
        missing = await http.get(page_url)
        assert missing.status_code == 400


# ---- personal data, vCards and the public export ---------------------------------------

async def test_contact_persons_personal_data_shows_to_signed_in_people_or_when_public(api, smtp, admin, running):
    owner = await member(api, smtp, "contacts")
    reader = await member(api, smtp, "reader")
    actor = await approved(owner, admin, name=f"Anerkennungsberatung {marker('Kontakt')}",
                           kind="recognition-advice", website="https://anerkennung.example.org")
    private = (await owner(ADD_PERSON, input={
        "actorId": actor["id"], "name": "Petra Privat", "email": "petra@example.org", "phone": "0681 123456",
        "function": "Beraterin"}))["addContactPerson"]["contactPerson"]
    public = (await owner(ADD_PERSON, input={
        "actorId": actor["id"], "name": 'Dr. Jana "JJ" Öztürk, M.A.; Leitung\\Büro', "email": "jana@example.org",
        "phone": "+49 681 9876543", "languages": ["de", "tr"], "public": True,
        "function": "Leiterin der Anerkennungs- und Qualifizierungsberatung für ausländische Berufsabschlüsse",
    }))["addContactPerson"]["contactPerson"]

    anonymous = {p["id"]: p for p in (await api(ACTOR_BY_SLUG, slug=actor["slug"]))["actor"]["contactPersons"]}
    hidden = anonymous[private["id"]]
    assert (hidden["name"], hidden["email"], hidden["phone"], hidden["vcardUrl"]) == (None, None, None, None)
    assert hidden["redacted"] is True
    assert anonymous[private["id"]]["function"] == "Beraterin"
    assert anonymous[public["id"]]["email"] == "jana@example.org" and anonymous[public["id"]]["redacted"] is False
    signed_in = {p["id"]: p for p in (await reader(ACTOR_BY_SLUG, slug=actor["slug"]))["actor"]["contactPersons"]}
    assert signed_in[private["id"]]["email"] == "petra@example.org"
    assert await names(api, "Petra Privat") == []

    vcard_url = anonymous[public["id"]]["vcardUrl"]
    assert vcard_url == f"{running.base_url}/actors/{actor['slug']}/contacts/{public['id']}.vcf"
    private_url = f"{running.base_url}/actors/{actor['slug']}/contacts/{private['id']}.vcf"
    async with httpx.AsyncClient() as http:
        card = await http.get(vcard_url)
        assert card.status_code == 200 and card.headers["content-type"].startswith("text/vcard")
        raw = card.content
        assert raw.startswith(b"BEGIN:VCARD\r\nVERSION:4.0\r\n") and raw.endswith(b"END:VCARD\r\n")
        assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
        assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
        unfolded = raw.decode().replace("\r\n ", "")
        assert "\r\nFN:Dr. Jana \"JJ\" Öztürk\\, M.A.\\; Leitung\\\\Büro\r\n" in unfolded
        assert "\r\nTITLE:Leiterin der Anerkennungs- und Qualifizierungsberatung für ausländische " \
               "Berufsabschlüsse\r\n" in unfolded
        assert any(len(line) > 75 for line in unfolded.encode().split(b"\r\n"))  # so folding was needed
        assert "\r\nEMAIL;TYPE=work:jana@example.org\r\n" in unfolded
        assert "\r\nTEL;VALUE=uri;TYPE=work,voice:tel:+496819876543\r\n" in unfolded
        assert f"\r\nORG:{actor['name']}\r\n" in unfolded and "LANG;PREF=2:tr" in unfolded

        assert (await http.get(private_url)).status_code == 404
        forged = await http.get(private_url, headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 404 and forged.text == (await http.get(private_url)).text
        allowed = await http.get(private_url, headers={"Authorization": f"Bearer {reader.token}"})
        assert allowed.status_code == 200 and "FN:Petra Privat" in allowed.text
        assert "TEL;VALUE=uri;TYPE=work,voice:tel:+49681123456" in allowed.text
        assert "no-store" in allowed.headers["cache-control"]
        unknown = f"{running.base_url}/actors/{actor['slug']}/contacts/01NOSUCHPERSON.vcf"
        assert (await http.get(unknown)).status_code == 404
        assert (await http.get(f"{running.base_url}/actors/no-such-actor/contacts/{public['id']}.vcf")
                ).status_code == 404


async def test_the_hsds_export_holds_the_public_directory_only(api, smtp, admin, running):
    owner = await member(api, smtp, "opendata")
    word = marker("Offen")
    actor = await approved(owner, admin, name=f'Jugend & "Zukunft" <3 Saar {word}', shortName="J&Z",
                           kind="welfare-association", topics=["youth"], languages=["de", "uk"],
                           regions=["10046"], email="info@jz.example.org", phone="0681 555555",
                           address={"street": "Hauptstraße 1", "postalCode": "66111", "locality": "Saarbrücken"})
    await owner(ADD_OFFERING, input={"actorId": actor["id"], "name": "Jugendtreff", "topics": ["youth"],
                                     "regions": [FREISEN], "languages": ["ar"]})
    await owner(ADD_PERSON, input={"actorId": actor["id"], "name": "Geheim Person", "email": "geheim@example.org"})
    await owner(ADD_PERSON, input={"actorId": actor["id"], "name": "Offen Person", "email": "offen@example.org",
                                   "function": "Leitung", "public": True})
    pending = await create(owner, name=f"Unveröffentlicht {word}")

    async with httpx.AsyncClient() as http:
        response = await http.get(f"{running.base_url}/export/hsds.json",
                                  headers={"Authorization": f"Bearer {owner.token}"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
        assert "max-age" in response.headers["cache-control"] and response.headers["etag"]
        body = response.text
        export = json.loads(body)
        ids = {org["id"] for org in export["contents"]}
        assert actor["id"] in ids and pending["id"] not in ids
        assert export["total_items"] == len(export["contents"])
        assert "Geheim" not in body and "geheim@example.org" not in body
        [org] = [o for o in export["contents"] if o["id"] == actor["id"]]
        assert org["name"] == f'Jugend & "Zukunft" <3 Saar {word}' and org["alternate_name"] == "J&Z"
        assert org["email"] == "info@jz.example.org" and org["phones"][0]["number"] == "0681 555555"
        assert [c["name"] for c in org["contacts"]] == ["Offen Person"]
        assert org["contacts"][0]["email"] == "offen@example.org" and org["contacts"][0]["title"] == "Leitung"
        assert org["locations"][0]["addresses"][0]["city"] == "Saarbrücken"
        general, treff = org["services"]
        assert general["id"] == actor["id"] and [a["name"] for a in general["service_areas"]] == [
            "Landkreis St. Wendel"]
        assert [lang["code"] for lang in general["languages"]] == ["de", "uk"]
        assert general["languages"][1]["name"] == "Ukrainian"
        assert treff["name"] == "Jugendtreff" and treff["organization_id"] == actor["id"]
        assert [a["name"] for a in treff["service_areas"]] == ["Freisen"]
        assert [lang["code"] for lang in treff["languages"]] == ["ar"]
        assert [a["taxonomy_term"]["code"] for a in treff["attributes"]] == ["youth"]
        assert "members" not in org and "invitations" not in org

        same = await http.get(f"{running.base_url}/export/hsds.json",
                              headers={"If-None-Match": response.headers["etag"]})
        assert same.status_code == 304 and same.headers["etag"] == response.headers["etag"]
        await owner(ADD_OFFERING, input={"actorId": actor["id"], "name": "Neu", "topics": ["youth"]})
        changed = await http.get(f"{running.base_url}/export/hsds.json",
                                 headers={"If-None-Match": response.headers["etag"]})
        assert changed.status_code == 200 and changed.headers["etag"] != response.headers["etag"]


# ---- bad input -------------------------------------------------------------------------

BAD_CREATES = [
    ({"regions": ["99999"]}, "regions"),
    ({"regions": []}, "regions"),
    ({"languages": ["de", "xx"]}, "languages"),
    ({"email": "not-an-email"}, "email"),
    ({"website": "javascript:alert(1)"}, "website"),
    ({"website": "https://localhost"}, "website"),
    ({"phone": "12"}, "phone"),
    ({"kind": "secret-service"}, "kind"),
    ({"description": "x" * 5001}, "description"),
    ({"name": "<script>alert('x')</script>"}, "name"),
    ({"description": "Hallo <script>alert(1)</script>"}, "description"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"address": {"postalCode": "123", "locality": "Saarbrücken"}}, "address.postalCode"),
]


async def test_bad_input_is_invalid_input_naming_the_field_and_stores_nothing(api, smtp, running):
    owner = await member(api, smtp, "careless")
    good = {"kind": "counselling-service", "name": f"Beratung {marker('Fehler')}", "regions": [SAARBRUECKEN]}
    actor = await create(owner, **good, email="ok@example.org")
    before = await directory_seq(running)

    for change, field in BAD_CREATES:
        answer = (await owner(CREATE, input={**good, **change}))["createActor"]
        assert (answer["actor"], field_of(answer)) == (None, ("INVALID_INPUT", field)), change

    update = {"actorId": actor["id"], "expectedVersion": actor["version"]}
    for change, field in [({"email": "kaputt@"}, "email"), ({"regions": ["10041999"]}, "regions"),
                          ({"languages": ["klingon"]}, "languages"), ({"phone": "+49 0"}, "phone"),
                          ({"shortName": "<b>fett</b>"}, "shortName")]:
        answer = (await owner(UPDATE, input={**update, **change}))["updateActor"]
        assert field_of(answer) == ("INVALID_INPUT", field), change
    person = (await owner(ADD_PERSON, input={"actorId": actor["id"], "name": "X", "email": "@@"}))
    assert field_of(person["addContactPerson"]) == ("INVALID_INPUT", "email")
    offering = (await owner(ADD_OFFERING, input={"actorId": actor["id"], "name": "Kurs", "website": "ftp://x.de"}))
    assert field_of(offering["addOffering"]) == ("INVALID_INPUT", "website")
    invite = (await owner(INVITE, input={"actorId": actor["id"], "email": "no-address"}))["inviteMember"]
    assert field_of(invite) == ("INVALID_INPUT", "email")
    anonymous = (await api(CREATE, input=good))["createActor"]
    assert codes_of(anonymous) == ["UNAUTHENTICATED"]

    for bad_filter, field in [({"languages": ["xx"]}, "filter.languages"), ({"region": "99"}, "filter.region"),
                              ({"kinds": ["spy"]}, "filter.kinds.0")]:
        with pytest.raises(TransportQueryError) as refused:
            await api(SEARCH, query=None, filter=bad_filter, first=5)
        assert refused.value.errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": field}, bad_filter
    with pytest.raises(TransportQueryError) as too_many:
        await api(SEARCH, first=1000)
    assert too_many.value.errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}

    # 100 kB of description: a clear error on the field, nothing stored.
    huge = (await owner(CREATE, input={**good, "description": "x" * 100_000}))["createActor"]
    assert field_of(huge) == ("INVALID_INPUT", "description")

    assert await directory_seq(running) == before  # not one event appended
    stored = (await owner(ACTOR_BY_ID, id=actor["id"]))["actor"]
    assert stored["email"] == "ok@example.org" and stored["version"] == actor["version"]
    assert stored["contactPersons"] == [] and stored["offerings"] == [] and stored["invitations"] == []


# ---- a retried create ------------------------------------------------------------------

CREATE_KEYED = f"""mutation($input: CreateActorInput!) {{
  createActor(input: $input) {{ actor {{ id name }} clientMutationId {USER_ERRORS} }} }}"""
MY_ACTORS = """query { myActors { id name } }"""


async def test_a_create_retried_with_its_client_mutation_id_returns_the_first_actor(api, smtp):
    owner = await member(api, smtp, "retrier")
    name = f"Beratungsstelle {marker('retry')}"
    values = {"kind": "counselling-service", "name": name, "regions": [SAARBRUECKEN], "clientMutationId": "c-1"}
    first = (await owner(CREATE_KEYED, input=values))["createActor"]
    assert first["userErrors"] == [] and first["clientMutationId"] == "c-1"
    # A lost answer retried, and the same request racing itself several times at once.
    again = [r["createActor"] for r in await asyncio.gather(*(owner(CREATE_KEYED, input=values) for _ in range(6)))]
    assert {r["actor"]["id"] for r in again} == {first["actor"]["id"]}
    assert [a["name"] for a in (await owner(MY_ACTORS))["myActors"]].count(name) == 1
    # Another key is another creation; the same key from another member is theirs alone.
    other = (await owner(CREATE_KEYED, input={**values, "name": name + " II", "clientMutationId": "c-2"}))
    assert other["createActor"]["actor"]["id"] != first["actor"]["id"]
    stranger = await member(api, smtp, "retrier-two")
    theirs = (await stranger(CREATE_KEYED, input=values))["createActor"]
    assert theirs["userErrors"] == [] and theirs["actor"]["id"] != first["actor"]["id"]


async def test_a_client_mutation_id_too_long_is_refused_by_name_and_creates_nothing(api, smtp):
    owner = await member(api, smtp, "longkey")
    name = f"Beratungsstelle {marker('longkey')}"
    answer = (await owner(CREATE_KEYED, input={"kind": "counselling-service", "name": name,
                                                "regions": [SAARBRUECKEN], "clientMutationId": "x" * 101}))
    assert codes_of(answer["createActor"]) == ["INVALID_INPUT"]
    assert answer["createActor"]["userErrors"][0]["field"] == "clientMutationId"
    assert name not in [a["name"] for a in (await owner(MY_ACTORS))["myActors"]]
