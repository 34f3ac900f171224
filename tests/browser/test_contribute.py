"""Contributing on a phone: create an entry, have it approved, edit it while someone else
does (the conflict shows both versions), invite a member — and the forbidden paths."""

from __future__ import annotations

import secrets

import pytest

from tests.browser.test_journeys import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def test_a_member_creates_an_entry_an_admin_approves_it_and_a_concurrent_edit_shows_both(phone, browser):
    page = await phone.page()
    await sign_in(phone, page, "mehmet.yilmaz")
    name = f"Nachbarschaftshilfe Dudweiler {secrets.token_hex(2)}"
    await phone.open(page, "/contribute/new")
    await page.get_by_label("Art der Stelle").select_option("volunteer-initiative")
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Wohnen").check()
    # The region picker without leaving the form: pick a district, add it.
    await page.locator("#add-region-district").select_option("10041")
    await page.get_by_role("button", name="Region hinzufügen").click()
    await page.get_by_label("Regionalverband Saarbrücken (Landkreis oder kreisfreie Stadt)").wait_for()
    await phone.check(page, "contribute")
    await page.get_by_role("button", name="Eintrag anlegen").click()
    await page.get_by_text("wartet auf die Freigabe").first.wait_for()
    edit_url = page.url.split("?")[0]

    # A member cannot open the admins' queue.
    refused = await phone.open(page, "/admin/actors")
    assert refused.status == 403

    # The admin approves it in the queue.
    admin_context = await browser.new_context(viewport={"width": 360, "height": 800}, locale="de-DE")
    await admin_context.route("**/*", phone.route)
    admin = await admin_context.new_page()
    await sign_in(phone, admin, "admin")
    await phone.open(admin, "/admin/actors")
    entry = admin.locator("li.card", has_text=name)
    await phone.check(admin, "admin-queue")
    await entry.get_by_role("button", name="Freigeben").click()
    await admin.get_by_text("Freigegeben. Die Inhaber*innen").wait_for()

    # The same owner on a second phone: both open the edit form, the second phone saves
    # first, and the first one's save meets a conflict.
    other_context = await browser.new_context(viewport={"width": 360, "height": 800}, locale="de-DE")
    await other_context.route("**/*", phone.route)
    other = await other_context.new_page()
    await sign_in(phone, other, "mehmet.yilmaz")
    await page.goto(edit_url)
    await other.goto(edit_url)
    await other.get_by_label("Kurzname").fill("NH Dudweiler")
    await other.get_by_role("button", name="Änderungen speichern").click()
    await other.get_by_text("Ihre Änderungen sind gespeichert.").wait_for()
    await other_context.close()
    await page.get_by_label("Kurzname").fill("Nachbarn helfen")
    await page.get_by_role("button", name="Änderungen speichern").click()
    conflict = page.locator("section.conflict")
    await conflict.wait_for()
    text = await conflict.inner_text()
    assert "NH Dudweiler" in text and "Nachbarn helfen" in text  # saved now, and mine
    assert await page.get_by_label("Kurzname").input_value() == "Nachbarn helfen"  # nothing typed is lost
    await phone.check(page, "conflict")
    await page.get_by_role("button", name="Meine Fassung speichern").click()
    await page.get_by_text("Ihre Änderungen sind gespeichert.").wait_for()
    assert await page.get_by_label("Kurzname").input_value() == "Nachbarn helfen"

    # The owner invites a member by mail; the invitation page opens from the link.
    invitee = f"helfer{secrets.token_hex(2)}@example.org"
    await page.locator("#invite-email").fill(invitee)
    await page.get_by_role("button", name="Einladung senden").click()
    await page.get_by_text("Die Einladung ist unterwegs").wait_for()
    link = phone.dev.link_in(phone.dev.mail_to(invitee, "/invitation?token="), "/invitation?token=")
    await admin.goto(link)
    await admin.get_by_text(name).first.wait_for()
    await phone.check(admin)

    # The public page shows the approved entry.
    await admin_context.close()
    await phone.open(page, "/search?q=" + name.split()[-1])
    assert await page.get_by_role("link", name=name).count() == 1
