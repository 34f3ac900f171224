"""The page a data-export mail links to: GET shows a button and spends nothing; POST (with
its CSRF token) spends the link at identity and gathers every service's section with the
credential it grants."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from proto import identity as contract
from proto.errors import Invalid, NotFound, Unavailable
from proto.privacy import PersonalDataSection
from tests.support.gateway import FakeIdentity, app_with, as_read, http, post_form

GRANT = contract.DataExportGrant(account_id="acc-1", credential="scoped-credential",
                                 expires_at=datetime(2026, 5, 1, tzinfo=UTC))


async def get(identity: FakeIdentity, url: str):
    async with http(app_with(identity)) as client:
        return await client.get(url)


async def post(identity: FakeIdentity, directory: FakeIdentity, data: dict):
    async with http(app_with(identity, directory)) as client:
        return await post_form(client, "/my-data", data)


async def test_opening_the_link_spends_nothing_and_shows_a_button():
    identity = FakeIdentity()
    page = await get(identity, "/my-data?token=tok-1")
    assert page.status_code == 200 and identity.calls == []
    assert '<form method="post" action="/my-data">' in page.text
    assert '<input type="hidden" name="token" value="tok-1">' in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in page.headers["content-security-policy"] and "<script" not in page.text
    assert (await get(FakeIdentity(), "/my-data")).status_code == 400


async def test_a_post_without_the_forms_csrf_token_spends_nothing():
    identity = FakeIdentity({"open_data_export": GRANT})
    async with http(app_with(identity)) as client:
        refused = await client.post("/my-data", data={"token": "tok-1"})
    assert refused.status_code == 403 and identity.calls == []


async def test_the_button_spends_the_link_and_answers_with_every_services_section():
    identity = FakeIdentity({"open_data_export": GRANT, "export_personal_data": PersonalDataSection(
        service="identity", data={"account": {"username": "jo"}})})
    directory = FakeIdentity({"export_personal_data": PersonalDataSection(
        service="directory", data={"memberships": []})})
    response = await post(identity, directory, {"token": "tok-1"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="lotse-data-')
    assert response.headers["cache-control"] == "no-store"
    document = json.loads(response.text)
    assert (document["format"], document["account_id"]) == ("lotse.personal-data/1", "acc-1")
    assert document["services"] == {"identity": {"account": {"username": "jo"}}, "directory": {"memberships": []}}
    [opened, exported] = identity.calls
    assert opened.request == contract.OpenDataExport(token="tok-1") and opened.caller.token is None
    # The sections are asked for with the granted credential, never the page's own caller.
    assert exported.caller.token == "scoped-credential" == directory.calls[0].caller.token


async def test_dead_links_all_get_the_same_page_and_no_data():
    answers = []
    for refusal in (Invalid("this link is not valid (any more)", "token"), NotFound("no")):
        identity = FakeIdentity({"open_data_export": refusal})
        response = await post(identity, FakeIdentity(), {"token": "tok-1"})
        answers.append((response.status_code, as_read(response.text)))
        assert [call.verb for call in identity.calls] == ["open_data_export"]
    assert answers[0] == answers[1] and answers[0][0] == 410
    empty = await post(FakeIdentity(), FakeIdentity(), {"token": " "})
    assert empty.status_code == 400


async def test_identity_away_leaves_the_link_unspent_and_offers_to_try_again():
    response = await post(FakeIdentity({"open_data_export": Unavailable("down")}), FakeIdentity(), {"token": "t-9"})
    assert response.status_code == 503
    assert '<input type="hidden" name="token" value="t-9">' in response.text


async def test_a_service_failing_while_gathering_gives_no_half_file():
    identity = FakeIdentity({"open_data_export": GRANT, "export_personal_data": PersonalDataSection(
        service="identity", data={})})
    response = await post(identity, FakeIdentity({"export_personal_data": Unavailable("down")}), {"token": "t"})
    assert response.status_code == 503 and "application/json" not in response.headers["content-type"]
