"""Reading and writing news on a phone (360×800) against `lotse dev`: the feed and its
filters, an event and its calendar file, funding programmes by deadline, English and
Arabic; a member publishes an event, meets someone else's edit, withdraws it — and the
forbidden paths; the feed and a saved event read offline. Every new page is checked
with axe-core and saved as a screenshot."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.test_journeys import sign_in
from tests.browser.test_offline import kept, kept_pages, until

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def test_a_reader_filters_the_feed_opens_an_event_takes_its_ics_and_reads_in_english_and_arabic(phone):
    page = await phone.page()
    await phone.open(page, "/news")
    await page.get_by_role("heading", level=1, name="Neuigkeiten").wait_for()
    assert await page.locator("#reading-results li.news-card").count() >= 5
    await phone.check(page, "news")

    # A district and a kind: htmx swaps the results, the address follows.
    await page.locator("summary", has_text="Auswahl").click()
    await page.get_by_label("Landkreis oder kreisfreie Stadt").select_option(label="Regionalverband Saarbrücken")
    await page.wait_for_url("**district=10041**")
    await page.locator("summary", has_text=re.compile(r"^Art")).click()
    await page.get_by_label("Pressemitteilung").check()
    await page.wait_for_url("**kind=press-release**")
    titles = await page.locator("#reading-results li.news-card h3").all_inner_texts()
    assert any("Wohnraumbörse" in t for t in titles), titles
    assert not any("Informationsabend" in t for t in titles), titles  # an event, not a press release
    await phone.check(page)
    # The same address without htmx: the whole page, with the same results.
    response = await page.request.get(page.url)
    assert "<!doctype html>" in await response.text() and "Wohnraumbörse" in await response.text()
    assert "HX-Request" in response.headers["vary"]

    # Events, soonest first; one opens with its time, place and calendar file.
    await page.get_by_role("link", name="Veranstaltungen").first.click()
    await page.get_by_role("heading", level=1, name="Veranstaltungen").wait_for()
    await phone.check(page, "events")
    first = page.locator("#reading-results li.news-card h3 a").first
    name = await first.inner_text()
    await first.click()
    await page.get_by_role("heading", level=1, name=name).wait_for()
    await phone.check(page, "event")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="In den Kalender übernehmen").click()
    download = await download_info.value
    calendar = Path(await download.path()).read_text("utf-8")
    assert calendar.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in calendar
    assert re.search(r"SUMMARY[^:]*:" + re.escape(name[:20]), calendar.replace("\r\n ", "")), calendar[:800]

    # Funding programmes: the nearest deadline first.
    await phone.open(page, "/funding")
    await phone.check(page, "funding")
    deadlines = await page.locator("#reading-results time").evaluate_all("els => els.map(e => e.dateTime)")
    assert deadlines and deadlines == sorted(deadlines), deadlines

    # In English, and back.
    await phone.open(page, "/news")
    await page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="English").click()
    await page.get_by_role("heading", level=1, name="News").wait_for()
    assert await page.evaluate("document.documentElement.lang") == "en"
    assert await page.get_by_role("link", name="Events").count() >= 1
    await phone.check(page)
    await page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Deutsch").click()
    await page.get_by_role("heading", level=1, name="Neuigkeiten").wait_for()

    # An item with an Arabic version: one tap away, and it runs right to left.
    card = page.locator("li.news-card", has_text="Job-Turbo")
    await card.get_by_role("link", name="العربية").click()
    heading = page.get_by_role("heading", level=1)
    await page.wait_for_url("**read=ar**")
    assert await heading.get_attribute("dir") == "rtl" and await heading.get_attribute("lang") == "ar"
    assert await heading.evaluate("h => getComputedStyle(h).direction") == "rtl"
    text = page.locator(".item-text")
    assert await text.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert await page.evaluate("document.documentElement.lang") == "de"  # the page around it stays German
    assert await page.evaluate("getComputedStyle(document.querySelector('.muted')).direction") == "ltr"
    await phone.check(page, "rtl")
    await page.get_by_role("navigation", name="Andere Sprachfassungen").get_by_role("link", name="Deutsch").click()
    await page.wait_for_url("**read=de**")
    assert await page.get_by_role("heading", level=1).get_attribute("dir") == "ltr"


async def test_a_member_publishes_an_event_meets_a_concurrent_edit_and_withdraws_it(phone, browser):
    page = await phone.page()
    await sign_in(phone, page, "mehmet.yilmaz")
    await phone.open(page, "/contribute")
    await page.locator("li.card", has_text="Stadt Völklingen").get_by_role(
        "link", name="Neuigkeiten und Veranstaltungen").click()
    await page.get_by_role("heading", level=1, name=re.compile("Stadt Völklingen")).wait_for()
    news_url = page.url
    await phone.check(page)
    await page.get_by_role("link", name="Neue Veranstaltung").click()

    title = f"Elterncafé Völklingen {secrets.token_hex(2)}"
    day = date.today() + timedelta(days=9)
    await page.get_by_label("Titel", exact=True).fill(title)
    await page.locator("#summary").fill("Eltern treffen sich, die Kinder spielen.")
    await page.get_by_label("Beginn").fill(f"{day.isoformat()}T16:00")
    await page.get_by_label("Ende").fill(f"{day.isoformat()}T18:00")
    await page.get_by_label("Wiederholung", exact=True).select_option("WEEKLY")
    await page.get_by_label("Wiederholen bis (freiwillig)").fill((day + timedelta(weeks=5)).isoformat())
    await page.get_by_label("Ort (freiwillig)").fill("Familienzentrum Völklingen")
    await phone.check(page, "publish")
    await page.get_by_role("button", name="Jetzt veröffentlichen").click()
    await page.get_by_text("Veröffentlicht. Wer der Region").wait_for()
    edit_url = page.url.split("?")[0]
    item_id = edit_url.rsplit("/", 1)[1]
    # The stored rule (its UNTIL in UTC) reads back as the choice made.
    assert await page.get_by_label("Wiederholung", exact=True).input_value() == "WEEKLY"
    assert await page.get_by_label("Wiederholen bis (freiwillig)").input_value() == (
        day + timedelta(weeks=5)).isoformat()

    # One date is cancelled; the others stay.
    dates = page.locator("#dates ~ ul li")
    assert await dates.count() == 6
    second = await dates.nth(1).locator("p").inner_text()
    await dates.nth(1).get_by_role("button", name=re.compile("Termin absagen")).click()
    await page.get_by_text("Der Termin ist abgesagt.").wait_for()
    assert "abgesagt" in await page.locator("#dates ~ ul li").nth(1).inner_text()
    assert await page.get_by_role("button", name=re.compile("Absage zurücknehmen")).count() == 1

    # Anyone reads it, as a repeating event with six dates, in the region's events too.
    reader = await browser.new_context(viewport={"width": 360, "height": 800}, locale="de-DE")
    await reader.route("**/*", phone.route)
    anonymous = await reader.new_page()
    await anonymous.goto(f"{phone.dev.base_url}/news/{item_id}")
    await anonymous.get_by_role("heading", level=1, name=title).wait_for()
    assert await anonymous.get_by_text("Wiederkehrend: 6 Termine").count() == 1
    await anonymous.goto(f"{phone.dev.base_url}/events?region=10041519")
    assert await anonymous.get_by_role("link", name=title).count() >= 1
    listed = anonymous.locator("li.news-card", has_text=title).filter(has_text=second)
    assert "abgesagt" in await listed.first.inner_text()  # the cancelled date, marked

    # Signed out, nothing of writing opens; the forms refuse a post without the page's token.
    refused = await anonymous.goto(f"{phone.dev.base_url}/contribute/news/{item_id}")
    assert refused is not None and "/signin" in anonymous.url
    post = await anonymous.request.post(f"{phone.dev.base_url}/contribute/news/{item_id}/withdraw",
                                        form={"reason": "weg"})
    assert post.status == 403

    # A signed-in person who is no member of the actor: refused, with a valid token too.
    outsider_context = await browser.new_context(viewport={"width": 360, "height": 800}, locale="de-DE")
    await outsider_context.route("**/*", phone.route)
    outsider = await outsider_context.new_page()
    await sign_in(phone, outsider, "julia.weber")
    for path in (f"/contribute/news/{item_id}", news_url.removeprefix(phone.dev.base_url)):
        response = await outsider.goto(phone.dev.base_url + path)
        assert response is not None and response.status == 403, path
    await outsider.goto(phone.dev.base_url + "/me")
    token = await outsider.locator('input[name="csrf"]').first.get_attribute("value")
    for action in ("withdraw", "publish"):
        post = await outsider.request.post(f"{phone.dev.base_url}/contribute/news/{item_id}/{action}",
                                           form={"csrf": token or ""})
        assert post.status == 403, action
    await outsider_context.close()

    # The same member on a second phone saves first; this phone's save meets a conflict.
    other_context = await browser.new_context(viewport={"width": 360, "height": 800}, locale="de-DE")
    await other_context.route("**/*", phone.route)
    other = await other_context.new_page()
    await sign_in(phone, other, "mehmet.yilmaz")
    await page.goto(edit_url)
    await other.goto(edit_url)
    await other.get_by_label("Ort (freiwillig)").fill("Stadtbibliothek Völklingen")
    await other.get_by_role("button", name="Änderungen speichern").click()
    await other.get_by_text("Ihre Änderungen sind gespeichert.").wait_for()
    await other_context.close()
    await page.get_by_label("Ort (freiwillig)").fill("Rathaus Völklingen")
    await page.get_by_role("button", name="Änderungen speichern").click()
    conflict = page.locator("section.conflict")
    await conflict.wait_for()
    text = await conflict.inner_text()
    assert "Stadtbibliothek Völklingen" in text and "Rathaus Völklingen" in text  # saved now, and mine
    assert await page.get_by_label("Ort (freiwillig)").input_value() == "Rathaus Völklingen"  # nothing lost
    await phone.check(page, "news-conflict")
    await page.get_by_role("button", name="Meine Fassung speichern").click()
    await page.get_by_text("Ihre Änderungen sind gespeichert.").wait_for()
    assert await page.get_by_label("Ort (freiwillig)").input_value() == "Rathaus Völklingen"

    # Withdrawn: gone for readers.
    await page.get_by_label("Grund (freiwillig)").fill("Der Termin fällt aus.")
    await page.get_by_role("button", name="Zurückziehen").click()
    await page.get_by_text("Zurückgezogen. Der Beitrag ist aus allen Listen").wait_for()
    gone = await anonymous.goto(f"{phone.dev.base_url}/news/{item_id}")
    assert gone is not None and gone.status == 404
    await anonymous.goto(f"{phone.dev.base_url}/events?region=10041519")
    assert await anonymous.get_by_role("link", name=title).count() == 0
    await reader.close()
    await page.goto(news_url)
    await page.locator("li.card", has_text=title).get_by_text("Zurückgezogen").wait_for()


async def test_the_feed_and_a_saved_event_read_offline_with_their_age_and_go_on_sign_out(phone):
    page = await phone.page()
    await phone.open(page, "/")
    await page.evaluate("navigator.serviceWorker.ready")
    await page.reload()  # now controlled by the worker
    await phone.open(page, "/news")
    await phone.open(page, "/events")
    first = page.locator("#reading-results li.news-card h3 a").first
    name = await first.inner_text()
    await first.click()
    await page.get_by_role("heading", level=1, name=name).wait_for()
    event_path = page.url.removeprefix(phone.dev.base_url)
    save = page.locator("#save-event")
    await save.wait_for()  # shown by app.js: a worker can keep the event
    await save.click()
    await page.get_by_text("Gemerkt – auch ohne Netz lesbar").wait_for()
    assert await save.inner_text() == "Nicht mehr merken"
    await until(page, kept(phone.dev.base_url + "/news", "lotse-pages-", exact=True))

    await phone.context.set_offline(True)
    await page.goto(phone.dev.base_url + "/news")
    status = page.locator("#offline-status")
    await status.wait_for()
    assert "offline" in (await status.inner_text()).lower() and "Stand" in await status.inner_text()
    assert await page.locator("#reading-results li.news-card").count() >= 5
    await page.goto(phone.dev.base_url + "/saved")
    await page.get_by_role("heading", level=1, name="Gemerkte Veranstaltungen").wait_for()
    saved = page.locator("#saved-events").get_by_role("link", name=name)
    await saved.wait_for()
    await phone.check(page, "saved-offline")
    await saved.click()
    await page.get_by_role("heading", level=1, name=name).wait_for()
    assert await page.locator("#offline-status").is_visible()
    calendar = await page.evaluate(f"fetch('{event_path.replace('/news/', '/events/')}.ics').then(r => r.text())")
    assert calendar.startswith("BEGIN:VCALENDAR")
    await phone.context.set_offline(False)

    # Signed in, the feed (which may hold members-only news) is kept only while signed in.
    await sign_in(phone, page, "mehmet.yilmaz")
    await phone.open(page, "/news")
    # Nothing chosen: the regions and topics of the actors Mehmet belongs to.
    mine = page.locator("#reading-results .notice", has_text="Für Sie ausgewählt")
    assert "Saarland" in await mine.inner_text()
    await until(page, kept(phone.dev.base_url + "/news", "lotse-session-", exact=True))
    public = await kept_pages(page, ("lotse-pages-",))
    assert not any(u.endswith("/news") for u in public), public  # moved out of the public pages
    await phone.open(page, "/me")
    await page.get_by_role("button", name="Auf diesem Gerät abmelden").click()
    await page.wait_for_function("document.body.dataset.signedOut === '1'")
    await until(page, "async () => (await caches.keys()).every(n => !n.startsWith('lotse-session-')"
                      " && !n.startsWith('lotse-saved-'))")


async def test_a_member_schedules_a_funding_programme_with_an_arabic_version_takes_it_back_and_publishes(phone):
    page = await phone.page()
    await sign_in(phone, page, "mehmet.yilmaz")
    await phone.open(page, "/contribute")
    await page.locator("li.card", has_text="Syrisch-Deutscher Verein").get_by_role(
        "link", name="Neuigkeiten und Veranstaltungen").click()
    await page.get_by_role("link", name="Neues Förderprogramm").click()
    title = f"Mikrofonds Begegnung {secrets.token_hex(2)}"
    await page.get_by_label("Titel", exact=True).fill(title)
    await page.get_by_label("Fördergeber").fill("Stiftung Saar")
    await page.get_by_label("Antragsfrist (letzter Tag) (freiwillig)").fill(
        (date.today() + timedelta(days=3)).isoformat())
    await page.locator("summary", has_text="Übersetzung").click()
    await page.get_by_label("Sprache der Übersetzung (freiwillig)").fill("ar")
    await page.get_by_label("Titel der Übersetzung (freiwillig)").fill("صندوق صغير للقاءات")

    # A time in the past is refused by name, and nothing typed is lost.
    await page.get_by_label("Erscheinen am (freiwillig)").fill("2020-01-01T09:00")
    await page.get_by_role("button", name="Planen").click()
    await page.get_by_text("Gespeichert, aber nicht veröffentlicht").wait_for()
    assert await page.get_by_label("Titel", exact=True).input_value() == title
    await page.get_by_label("Erscheinen am (freiwillig)").fill(
        f"{(date.today() + timedelta(days=1)).isoformat()}T09:00")
    await page.get_by_role("button", name="Planen").click()
    await page.get_by_text("Geplant: Lotse veröffentlicht den Beitrag").wait_for()
    assert await page.get_by_text("erscheint am").count() == 1
    await phone.check(page)
    item_id = page.url.split("?")[0].rsplit("/", 1)[1]

    # Not public yet; the schedule is taken back, then it is published now.
    listed = await page.request.get(f"{phone.dev.base_url}/funding?all=1")
    assert title not in await listed.text()
    await page.get_by_role("button", name="Planung aufheben").click()
    await page.get_by_text("Die Planung ist aufgehoben").wait_for()
    await page.get_by_role("button", name="Jetzt veröffentlichen").click()
    await page.get_by_text("Veröffentlicht. Wer der Region").wait_for()

    # Among the programmes, closing soon, with its Arabic version one tap away.
    await phone.open(page, "/funding?all=1")
    card = page.locator("li.news-card", has_text=title)
    assert "Frist endet bald" in await card.inner_text()
    await card.get_by_role("link", name="العربية").click()
    await page.wait_for_url(f"**/news/{item_id}?read=ar")
    heading = page.get_by_role("heading", level=1)
    assert await heading.inner_text() == "صندوق صغير للقاءات" and await heading.get_attribute("dir") == "rtl"
