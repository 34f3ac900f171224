"""Journeys on a phone (360×800) against `lotse dev`, as people would take them.

Each page along the way is checked with axe-core (no serious or critical WCAG 2.1 AA
violation), must fit the screen without sideways scrolling, must load nothing from another
host and trip no Content-Security-Policy refusal; the main pages are saved as screenshots
(var/screenshots; `make screenshots` renews the ones README.md shows, in docs/screenshots).
"""

from __future__ import annotations

import secrets

import pytest

from services.identity.sample import SAMPLE_PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NEW_PASSWORD = "Wohnungssuche in Saarbrücken 2026"


async def sign_in(phone, page, identifier: str, password: str = SAMPLE_PASSWORD) -> None:
    await phone.open(page, "/signin")
    await page.get_by_label("Benutzername oder E-Mail-Adresse").fill(identifier)
    await page.get_by_label("Passwort", exact=True).fill(password)
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url("**/me")


async def test_a_newcomer_registers_confirms_signs_in_and_finds_housing_help_in_a_district(phone):
    page = await phone.page()
    await phone.open(page, "/")
    await phone.check(page, "home")

    # Register.
    name = f"neu{secrets.token_hex(3)}"
    address = f"{name}@example.org"
    await page.get_by_role("link", name="Registrieren").first.click()
    await phone.check(page)
    await page.get_by_label("Ihr Name, wie andere ihn sehen").fill("Nora Neu")
    await page.get_by_label("Benutzername").fill(name)
    await page.get_by_label("E-Mail-Adresse").fill(address)
    await page.get_by_label("Passwort", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Konto anlegen").click()
    await page.get_by_text("Bitte bestätigen Sie Ihre Adresse").wait_for()
    assert await page.get_by_text("Spam-Ordner").is_visible()
    await phone.check(page)

    # Confirm from the mail: opening the link spends nothing, the button does.
    link = phone.dev.link_in(phone.dev.mail_to(address, "/confirm?token="), "/confirm?token=")
    await page.goto(link)
    await phone.check(page, "confirm")
    await page.get_by_role("button", name="Adresse bestätigen").click()
    await page.get_by_text("Ihre E-Mail-Adresse ist bestätigt").wait_for()

    # Sign in by username, then search "wohnung" in a district.
    await sign_in(phone, page, name, NEW_PASSWORD)
    await phone.check(page, "me")
    await phone.open(page, "/search")
    await page.get_by_label("Landkreis oder kreisfreie Stadt").select_option(label="Regionalverband Saarbrücken")
    await page.get_by_label("Gemeinde").wait_for()  # htmx brought the district's municipalities
    await page.get_by_label("Suchbegriff").fill("wohnung")
    await page.get_by_role("button", name="Suchen").click()
    await page.wait_for_url("**q=wohnung**")
    summary = page.locator("#results .summary")
    await summary.wait_for()
    assert "gefunden" in await summary.inner_text()
    results = page.locator("#results ul.actors > li.card h3 a")
    assert await results.count() >= 1
    await phone.check(page, "search")

    # Open an actor: contact persons, tap to call, vCard.
    first = await results.first.inner_text()
    await results.first.click()
    await page.get_by_role("heading", level=1, name=first).wait_for()
    await phone.check(page, "actor")
    assert await page.locator('a[href^="tel:+49"]').count() >= 1
    vcards = page.locator('a[href$=".vcf"]')
    if await vcards.count():
        response = await page.request.get(phone.dev.base_url + await vcards.first.get_attribute("href"))
        assert response.ok and "BEGIN:VCARD" in await response.text()

    # The region page: coverage chart, uncovered topics, who is responsible per topic.
    await phone.open(page, "/regions/10046117")
    assert await page.locator("figure.chart svg rect").count() >= 1
    assert await page.get_by_role("heading", name="Hier fehlt noch").is_visible()
    await phone.check(page, "region")

    # "Who is responsible for housing in my municipality?"
    await phone.open(page, "/responsible?topic=housing&state=10&district=10041&municipality=10041100")
    await page.get_by_role("heading", name="Wohnen in Saarbrücken").wait_for()
    await phone.check(page, "responsible")


async def test_a_person_reads_in_english_and_switches_back(phone):
    page = await phone.page()
    await phone.open(page, "/search?q=sprachkurs")
    await page.get_by_role("link", name="English").click()
    await page.get_by_role("heading", level=1, name="Search the directory").wait_for()
    assert await page.evaluate("document.documentElement.lang") == "en"
    assert "q=sprachkurs" in page.url  # the same page, now in English
    await phone.check(page)
    await page.get_by_role("link", name="Deutsch").click()
    await page.get_by_role("heading", level=1, name="Verzeichnis durchsuchen").wait_for()
