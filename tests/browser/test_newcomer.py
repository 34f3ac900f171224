"""The newcomer's whole journey on a phone (360×800) against `lotse dev`, in one go, as
issue 11 tells it: she registers on the web, confirms from the mail the platform wrote,
signs in, is asked to follow something, searches "wohnung" in a district with the region
picker, follows a housing cooperative from its page; the cooperative's member publishes on
his own phone, and her open inbox shows it live and the header's badge counts it without a
reload; she reads it (read on every device), her feed now comes from what she follows (the
cooperative, then her district too) — and with the network gone the item is still there,
saying since when she is offline.

Every page along the way passes axe-core (no serious or critical WCAG 2.1 AA violation),
fits the screen, loads nothing from another host and trips no Content-Security-Policy
refusal; the main steps are saved as screenshots (var/screenshots, or LOTSE_SCREENSHOTS).
"""

from __future__ import annotations

import secrets

import pytest

from tests.browser.test_journeys import sign_in
from tests.browser.test_offline import kept, until

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "Neu in Saarbrücken und auf Wohnungssuche"
ACTOR = "Wohnungsbaugenossenschaft Burbach eG"  # mehmet.yilmaz's, in the sample; serves 10041100 and 10041515
DISTRICT = "Regionalverband Saarbrücken"


async def badge_count(page) -> int:
    await page.wait_for_selector("#unread-badge[data-count]", state="attached")  # htmx loaded the count
    return int(await page.locator("#unread-badge").get_attribute("data-count") or -1)


async def test_a_newcomer_registers_follows_a_housing_cooperative_hears_live_and_reads_it_offline(phone, browser):
    dev = phone.dev
    page = await phone.page()
    await phone.open(page, "/")
    await page.evaluate("navigator.serviceWorker.ready")  # installed: every page from here on may be kept
    await phone.check(page)

    # Register on the web.
    name = f"nora{secrets.token_hex(3)}"
    address = f"{name}@example.org"
    await page.get_by_role("link", name="Registrieren").first.click()
    await page.get_by_label("Ihr Name, wie andere ihn sehen").fill("Nora Neu")
    await page.get_by_label("Benutzername").fill(name)
    await page.get_by_label("E-Mail-Adresse").fill(address)
    await page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    await page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    await phone.check(page)
    await page.get_by_role("button", name="Konto anlegen").click()
    await page.get_by_text("Bitte bestätigen Sie Ihre Adresse").wait_for()
    await phone.check(page, "newcomer-registered")

    # Confirm from the mail the platform wrote: the link opens a page, its button confirms.
    link = dev.link_in(dev.mail_to(address, "/confirm?token="), "/confirm?token=")
    await page.goto(link)
    await phone.check(page)
    await page.get_by_role("button", name="Adresse bestätigen").click()
    await page.get_by_text("Ihre E-Mail-Adresse ist bestätigt").wait_for()

    # Signing in: the email address works as well as the username.
    await phone.open(page, "/signin")
    await phone.check(page)
    await sign_in(phone, page, address, PASSWORD)
    assert await page.get_by_text(name, exact=True).count() == 1  # her username on /me
    assert await page.get_by_label("Ihr Name, wie andere ihn sehen").input_value() == "Nora Neu"
    await phone.check(page)

    # Her feed: she follows nothing yet, so she is asked to, with the ways to do it — and
    # meanwhile reads everything, not an empty page.
    await phone.open(page, "/news")
    hint = page.locator("#follow-hint")
    await hint.wait_for()
    assert "Sie folgen noch nichts" in await hint.inner_text()
    assert await hint.get_by_role("link").count() == 3
    assert await page.locator("#for-me").count() == 0
    assert await page.locator("#reading-results li.news-card").count() >= 5
    await phone.check(page, "newcomer-feed-empty")

    # Find actors, as the hint says: "wohnung" in her district, with the region picker.
    await hint.get_by_role("link", name="Akteure finden").click()
    await page.wait_for_url("**/search")
    await page.get_by_label("Landkreis oder kreisfreie Stadt").select_option(label=DISTRICT)
    await page.get_by_label("Gemeinde").wait_for()  # htmx brought the district's municipalities
    await page.get_by_label("Suchbegriff").fill("wohnung")
    await page.get_by_role("button", name="Suchen").click()
    await page.wait_for_url("**q=wohnung**")
    assert "district=10041" in page.url
    results = page.locator("#results ul.actors > li.card h3 a")
    await results.first.wait_for()
    names = await results.all_inner_texts()
    assert ACTOR in names, names
    assert "Wohnen an der Saar Saarlouis GmbH" not in names  # another district's
    await phone.check(page, "newcomer-search")

    # Follow the cooperative from its page: the button htmx loaded knows she is signed in.
    await results.filter(has_text=ACTOR).click()
    await page.get_by_role("heading", level=1, name=ACTOR).wait_for()
    actor_path = page.url.removeprefix(dev.base_url)
    await page.locator("#follow-button").get_by_role("button", name="Folgen").click()
    await page.wait_for_url(f"**{actor_path}")
    await page.locator("#follow-button").get_by_text("Sie folgen diesem Akteur.").wait_for()
    await phone.check(page, "newcomer-following")

    # Her inbox, open and empty, waiting.
    await phone.open(page, "/notifications")
    await page.get_by_role("heading", name="Benachrichtigungen", level=1).wait_for()
    assert await page.locator("#inbox li").count() == 0
    assert await badge_count(page) == 0
    assert not await page.locator("#unread-badge").is_visible()
    await phone.check(page)

    # The cooperative's member publishes on his own phone.
    title = f"Freie Wohnungen in Burbach ab Juni {secrets.token_hex(2)}"
    his = await browser.new_context(viewport={"width": 360, "height": 800}, device_scale_factor=1,
                                    is_mobile=True, has_touch=True, locale="de-DE",
                                    timezone_id="Europe/Berlin")
    await his.route("**/*", phone.route)
    member = await his.new_page()
    await sign_in(phone, member, "mehmet.yilmaz")
    await phone.open(member, "/contribute")
    await member.locator("li.card", has_text=ACTOR).get_by_role("link", name="Neuigkeiten und Veranstaltungen").click()
    await member.get_by_role("link", name="Neuer Artikel").click()
    await member.get_by_label("Titel", exact=True).fill(title)
    await member.locator("#summary").fill("Drei Wohnungen für Familien, Besichtigung nach Absprache.")
    await member.get_by_role("button", name="Jetzt veröffentlichen").click()
    await member.get_by_text("Veröffentlicht. Wer der Region").wait_for()
    item_id = member.url.split("?")[0].rsplit("/", 1)[1]
    await his.close()

    # Live, without a reload: the entry at the top of her inbox, and the badge counts it.
    entry = page.locator("#inbox").get_by_role("link", name=title)
    await entry.wait_for(timeout=20_000)
    await page.wait_for_function("Number(document.getElementById('unread-badge').dataset.count) === 1",
                                 timeout=20_000)
    assert await page.locator("#unread-badge").is_visible()
    assert f"Sie folgen {ACTOR}" in await page.locator("#inbox li").first.inner_text()  # why she is told
    assert "1 ungelesen" in await page.locator("#inbox-count").inner_text()
    await phone.check(page, "newcomer-live")

    # She reads it: the item opens, and it is read — on the server, so on every device.
    await entry.click()
    await page.wait_for_url(f"**/news/{item_id}")
    await page.get_by_role("heading", level=1, name=title).wait_for()
    assert await badge_count(page) == 0
    await phone.check(page, "newcomer-item")
    await phone.open(page, "/notifications")
    assert await page.locator("#inbox li.unread").count() == 0
    assert await page.locator("#inbox li").count() == 1
    await phone.check(page)

    # Her feed now: what she follows, the new item first, and where to change that.
    await phone.open(page, "/news")
    mine = page.locator("#for-me")
    await mine.wait_for()
    assert ACTOR in await mine.inner_text() and "Für Sie ausgewählt" in await mine.inner_text()
    assert await page.locator("#follow-hint").count() == 0
    cards = page.locator("#reading-results li.news-card")
    assert (await cards.locator("h3").first.inner_text()) == title
    assert all(ACTOR in text for text in await cards.all_inner_texts())  # the cooperative's items only

    # She follows her district too, from its page; the feed widens to either (as her
    # notifications would), it does not narrow to both.
    await phone.open(page, "/regions/10041")
    await page.locator("#follow-button").get_by_role("button", name="Folgen").click()
    await page.wait_for_url("**/regions/10041")
    await page.locator("#follow-button").get_by_text("Sie folgen dieser Region.").wait_for()
    await phone.check(page)
    await phone.open(page, "/news")
    assert DISTRICT in await page.locator("#for-me").inner_text()
    assert (await cards.locator("h3").first.inner_text()) == title
    texts = await cards.all_inner_texts()
    assert any(ACTOR in text for text in texts) and any(ACTOR not in text for text in texts), texts
    await phone.check(page, "newcomer-feed")

    # Events and funding programmes "for her" too: her district's, not another's.
    await page.get_by_role("link", name="Veranstaltungen").first.click()
    await page.get_by_role("heading", level=1, name="Veranstaltungen").wait_for()
    await page.locator("#for-me").wait_for()
    events = await cards.locator("h3").all_inner_texts()
    assert "Informationsabend Einbürgerung" in events, events  # for Regionalverband Saarbrücken
    assert "Stammtisch der Patinnen und Paten" not in events, events  # St. Wendeler Land's
    await phone.check(page)
    await page.get_by_role("link", name="Förderprogramme").first.click()
    await page.get_by_role("heading", level=1, name="Förderprogramme").wait_for()
    await page.locator("#for-me").wait_for()
    assert "Kleinprojektefonds Nachbarschaft" in await cards.locator("h3").all_inner_texts()
    await phone.check(page)

    # The network goes; the item she read is still there, saying since when she is offline.
    await until(page, kept(f"{dev.base_url}/news/{item_id}", exact=True))
    await phone.context.set_offline(True)
    try:
        await page.goto(f"{dev.base_url}/news/{item_id}")
        await page.get_by_role("heading", level=1, name=title).wait_for()
        status = page.locator("#offline-status")
        await status.wait_for()
        text = await status.inner_text()
        assert "offline seit" in text, text
        assert "Drei Wohnungen für Familien" in await page.locator("main").inner_text()
        await phone.check(page, "newcomer-offline")
    finally:
        await phone.context.set_offline(False)
