"""On a phone (360×800) against `lotse dev`: a member follows an actor from its page and is told,
live, when the actor publishes — the inbox grows and the header's badge counts without a reload —
and follows a municipality through the region picker.
The inbox, follows and mail-settings pages pass axe-core like every other page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from services.identity.sample import SAMPLE_PASSWORD
from tests.browser.test_journeys import sign_in
from tests.support.graphql import GraphQL

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ACTOR = "Landeshauptstadt Saarbrücken – Zuwanderungs- und Integrationsbüro"  # anna.schmidt's, in the sample


async def test_a_member_follows_an_actor_and_hears_live_when_it_publishes(phone):
    api = GraphQL(phone.dev.base_url)
    found = await api("query ($q: String) { actors(query: $q, first: 5) { edges { node { id name slug } } } }",
                      q=ACTOR)
    actor = next(e["node"] for e in found["actors"]["edges"] if e["node"]["name"] == ACTOR)

    page = await phone.page()
    await sign_in(phone, page, "mehmet.yilmaz")
    await phone.open(page, f"/actors/{actor['slug']}")
    follow = page.locator("#follow-button").get_by_role("button", name="Folgen")
    await follow.click()  # the button htmx loaded, knowing whether he follows
    await page.wait_for_url(f"**/actors/{actor['slug']}")
    await page.locator("#follow-button").get_by_text("Sie folgen diesem Akteur.").wait_for()
    await phone.check(page)

    await phone.open(page, "/notifications")
    await page.get_by_role("heading", name="Benachrichtigungen", level=1).wait_for()
    await phone.check(page, "notifications")
    await page.wait_for_selector("#unread-badge[data-count]", state="attached")  # htmx loaded the count
    before = int(await page.locator("#unread-badge").get_attribute("data-count") or 0)

    # Anna publishes for her actor, elsewhere (GraphQL, as her partner app would).
    anna = (await api("mutation ($i: String!, $p: String!) { signIn(identifier: $i, password: $p) { accessToken } }",
                      i="anna.schmidt", p=SAMPLE_PASSWORD))["signIn"]["accessToken"]
    as_anna = api.as_(anna)
    created = await as_anna("""mutation ($a: ID!) { createNewsItem(input: {actorId: $a, kind: ARTICLE,
        title: "Neue Sprechzeiten im Zuwanderungsbüro", regions: ["10041100"]}) {
        item { id version } userErrors { message } } }""",
                            a=actor["id"])
    item = created["createNewsItem"]["item"]
    published = await as_anna("mutation ($i: ID!) { publishNewsItem(input: {itemId: $i}) { userErrors { message } } }",
                              i=item["id"])
    assert published["publishNewsItem"]["userErrors"] == []

    # Live: no reload.
    entry = page.locator("#inbox").get_by_role("link", name="Neue Sprechzeiten im Zuwanderungsbüro")
    await entry.wait_for(timeout=15_000)
    await page.wait_for_function(
        f"Number(document.getElementById('unread-badge').dataset.count) === {before + 1}", timeout=15_000)
    assert await page.locator("#unread-badge").is_visible()
    await phone.check(page)

    # Read it: the count goes down, on the server (every device shows the same).
    await page.reload()
    await page.locator("#inbox li").first.get_by_role("button", name="Als gelesen markieren").click()
    await page.wait_for_url("**/notifications")
    await page.wait_for_selector("#unread-badge[data-count]", state="attached")
    assert int(await page.locator("#unread-badge").get_attribute("data-count") or 0) == before

    await phone.open(page, "/follows")
    await page.get_by_text(f"Akteur: {ACTOR}").wait_for()
    # A region through the picker, one level after the other (the next list comes with htmx).
    assert not await page.get_by_text("Region: Lebach").count()
    await page.locator("#follow-region-picker-district").select_option("10044")
    await page.locator("#follow-region-picker-municipality").select_option("10044112")
    await page.get_by_role("button", name="Lebach folgen").click()
    await page.wait_for_url("**/follows?done=followed")
    await page.get_by_text("Region: Lebach").wait_for()
    await phone.check(page, "follows")
    await phone.open(page, "/notifications/settings")
    await page.get_by_label("Uhrzeit der Zusammenfassungen").select_option("18")
    await page.get_by_role("button", name="Speichern").click()
    await page.get_by_text("Gespeichert.").wait_for()
    await phone.check(page, "mail-settings")

    # Never kept for offline reading: the service worker leaves these pages alone.
    kept = await page.evaluate("""async () => { const names = await caches.keys(); const urls = [];
        for (const n of names) { for (const r of await (await caches.open(n)).keys()) urls.push(r.url); }
        return urls; }""")
    paths = [urlsplit(u).path for u in kept]
    assert not [p for p in paths if p.startswith(("/notifications", "/follows"))], paths
