"""News end to end: GraphQL client → gateway → NATS → news (and directory, identity) → back, and
the feeds (Atom, iCalendar) read back with feed and calendar libraries."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
import recurring_ical_events
from gql.transport.exceptions import TransportQueryError

from proto import subjects
from tests.e2e.flows import USER_ERRORS
from tests.e2e.test_directory_graphql import admin, admin_account, approved, member  # noqa: F401 (fixtures)
from tests.support.graphql import codes_of
from tests.support.smtp import text_of

BERLIN = ZoneInfo("Europe/Berlin")
SAARLAND = "10"
SAARBRUECKEN = "10041100"
VOELKLINGEN = "10041519"
REGIONALVERBAND = "10041"
MERZIG = "10042113"
ATOM = "{http://www.w3.org/2005/Atom}"

ITEM = """id kind status version title summary language originalLanguage availableLanguages body bodyHtml
  topics regions { ags name level } visibility mayEdit publishedAt scheduledFor url icsUrl
  actor { id name slug entry { id status } } author { displayName }
  event { startsAt endsAt allDay timeZone recurrence occurrenceCount cancelled
    nextOccurrence { localStart cancelled } changedOccurrences { occurrence cancelled startsAt } }
  funding { funder deadline rolling status amountMax }"""
CREATE = f"""mutation($input: CreateNewsItemInput!) {{
  createNewsItem(input: $input) {{ item {{ {ITEM} }} {USER_ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdateNewsItemInput!) {{
  updateNewsItem(input: $input) {{ item {{ {ITEM} }} {USER_ERRORS} }} }}"""
PUBLISH = f"""mutation($input: PublishNewsItemInput!) {{
  publishNewsItem(input: $input) {{ item {{ {ITEM} }} {USER_ERRORS} }} }}"""
SCHEDULE = f"""mutation($input: ScheduleNewsItemInput!) {{
  scheduleNewsItem(input: $input) {{ item {{ id status scheduledFor }} {USER_ERRORS} }} }}"""
WITHDRAW = f"""mutation($input: WithdrawNewsItemInput!) {{
  withdrawNewsItem(input: $input) {{ item {{ id status }} {USER_ERRORS} }} }}"""
ITEM_BY_ID = f"""query($id: ID!, $lang: String) {{ newsItem(id: $id, lang: $lang) {{ {ITEM} }} }}"""
FEED = """query($filter: NewsFilter, $query: String, $first: Int, $after: String, $lang: String) {
  newsFeed(filter: $filter, query: $query, first: $first, after: $after, lang: $lang) {
    edges { cursor node { id title language bodyHtml kind } } pageInfo { hasNextPage endCursor } } }"""
UPCOMING = """query($region: String, $from: DateTime, $to: DateTime, $first: Int) {
  upcomingEvents(region: $region, from: $from, to: $to, first: $first) {
    edges { node { localStart startsAt cancelled moved } item { id title } } } }"""
FUNDING = """query { fundingProgrammes(first: 50) { edges { node { title funding { status deadline } } } } }"""
HISTORY = """query($id: ID!) { newsItem(id: $id) { history { type changes byDisplayName } } }"""

_words = itertools.count(1)


def word(stem: str) -> str:
    """A made-up word only this test's items carry: the tests share one platform."""
    n = next(_words)
    return f"{stem}{'qzxwvj'[n % 6]}{n}"


async def news_seq(running) -> int:
    return (await running.client.nc.jetstream().stream_info(subjects.stream_name("news"))).state.last_seq


async def create(editor, **fields) -> dict:
    answer = (await editor(CREATE, input={"kind": "ARTICLE", "regions": [SAARBRUECKEN], **fields}))["createNewsItem"]
    assert answer["userErrors"] == [], answer
    return answer["item"]


async def publish(editor, item: dict) -> dict:
    answer = (await editor(PUBLISH, input={"itemId": item["id"]}))["publishNewsItem"]
    assert answer["userErrors"] == [], answer
    return answer["item"]


async def feed_titles(api, **variables) -> list[str]:
    found = (await api(FEED, first=100, **variables))["newsFeed"]
    return [e["node"]["title"] for e in found["edges"]]


@pytest.fixture(scope="module")
async def newsroom(running, smtp, admin_account):  # noqa: F811 (the imported fixture)
    """An approved actor with its owner, shared by the tests of this module."""
    from tests.e2e.flows import sign_in
    from tests.support.graphql import GraphQL

    anonymous = GraphQL(running.base_url, forwarded_for="203.0.113.240")
    owner = await member(anonymous, smtp, "newsroom")
    session = await sign_in(anonymous, admin_account)
    admin_api = anonymous.as_(session["accessToken"])
    actor = await approved(owner, admin_api, name=f"Integrationsbüro {word('Saar')}", regions=[SAARBRUECKEN])
    await running.platform.services["news"].directory.projector.catch_up()
    return owner, actor, admin_api


# ---- writing, reading, rights --------------------------------------------------------------------

async def test_write_publish_read_in_languages_and_search(api, newsroom, running):
    owner, actor, _ = newsroom
    marker = word("Impulse")
    item = await create(owner, actorId=actor["id"], title=f"Integrationskonferenz gibt {marker}",
                        summary="Rückblick", body="Mit **500** Teilnehmenden in der Großstadt",
                        topics=["employment"], translations=[{"language": "en", "title": f"Conference {marker}",
                                                              "body": "With *500* participants"}])
    assert (item["status"], item["mayEdit"], item["author"]["displayName"]) == ("DRAFT", True, "Test Person")
    assert await feed_titles(api, query=marker) == []
    item = await publish(owner, item)
    assert item["status"] == "PUBLISHED" and item["url"].endswith(f"/news/{item['id']}")
    assert item["actor"]["entry"]["status"] == "APPROVED"

    assert await feed_titles(api, query=marker) == [f"Integrationskonferenz gibt {marker}"]
    assert await feed_titles(api, query="grossstadt " + marker) == [f"Integrationskonferenz gibt {marker}"]
    english = (await api(FEED, query=marker, lang="en"))["newsFeed"]["edges"][0]["node"]
    assert (english["language"], english["bodyHtml"]) == ("en", "<p>With <em>500</em> participants</p>\n")
    # Accept-Language chooses when `lang` is not given.
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{running.base_url}/graphql", headers={"Accept-Language": "en-GB,en;q=0.9"},
                                 json={"query": ITEM_BY_ID, "variables": {"id": item["id"]}})
    node = answer.json()["data"]["newsItem"]
    assert (node["language"], node["title"], node["originalLanguage"]) == ("en", f"Conference {marker}", "de")
    anonymous = (await api(ITEM_BY_ID, id=item["id"], lang="ar"))["newsItem"]
    assert (anonymous["language"], anonymous["author"], anonymous["mayEdit"]) == ("de", None, False)

    stale = (await owner(UPDATE, input={"itemId": item["id"], "expectedVersion": item["version"] - 1,
                                        "title": "Alt"}))["updateNewsItem"]
    assert codes_of(stale) == ["CONFLICT"] and stale["userErrors"][0]["field"] == "expectedVersion"
    updated = (await owner(UPDATE, input={"itemId": item["id"], "expectedVersion": item["version"],
                                          "summary": None, "topics": ["housing"]}))["updateNewsItem"]
    assert updated["userErrors"] == [] and updated["item"]["summary"] == "" and updated["item"]["topics"] == [
        "housing"]
    history = (await owner(HISTORY, id=item["id"]))["newsItem"]["history"]
    assert [h["type"] for h in history] == ["item_updated", "item_published", "item_created"]
    assert history[0]["changes"] == ["summary", "topics"]


async def test_a_member_who_is_no_editor_is_forbidden_and_changes_nothing(api, smtp, newsroom, running):
    owner, actor, admin_api = newsroom
    item = await publish(owner, await create(owner, actorId=actor["id"], title=f"Bleibt {word('so')}"))
    stranger = await member(api, smtp, "stranger")
    before = await news_seq(running)
    created = (await stranger(CREATE, input={"actorId": actor["id"], "kind": "ARTICLE", "title": "Fremd",
                                             "regions": [SAARBRUECKEN]}))["createNewsItem"]
    assert created["item"] is None and codes_of(created) == ["FORBIDDEN"]
    for document, name, values in (
        (UPDATE, "updateNewsItem", {"itemId": item["id"], "expectedVersion": item["version"], "title": "Fremd"}),
        (PUBLISH, "publishNewsItem", {"itemId": item["id"]}),
        (WITHDRAW, "withdrawNewsItem", {"itemId": item["id"]}),
    ):
        answer = (await stranger(document, input=values))[name]
        assert codes_of(answer) == ["FORBIDDEN"], name
    anonymous = (await api(CREATE, input={"actorId": actor["id"], "kind": "ARTICLE", "title": "X",
                                          "regions": [SAARBRUECKEN]}))["createNewsItem"]
    assert codes_of(anonymous) == ["UNAUTHENTICATED"]
    with pytest.raises(TransportQueryError) as refused:
        await stranger(HISTORY, id=item["id"])
    assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert await news_seq(running) == before
    assert (await api(ITEM_BY_ID, id=item["id"]))["newsItem"]["title"] == item["title"]

    # An administrator may withdraw it, with a reason the owner is mailed.
    refused_reason = (await admin_api(WITHDRAW, input={"itemId": item["id"]}))["withdrawNewsItem"]
    assert refused_reason["userErrors"][0]["field"] == "reason"
    done = (await admin_api(WITHDRAW, input={"itemId": item["id"], "reason": "Doppelt eingestellt"}))
    assert done["withdrawNewsItem"]["item"]["status"] == "WITHDRAWN"
    mails = await smtp.inbox.wait_for(owner.email, count=3)  # confirmation, approval, withdrawal
    [mail] = [m for m in mails if "zurückgezogen" in m["Subject"]]
    assert "Doppelt eingestellt" in text_of(mail)


async def test_bad_input_is_refused_on_its_field_and_stores_nothing(api, newsroom, running):
    owner, actor, _ = newsroom
    good = {"actorId": actor["id"], "kind": "ARTICLE", "title": "Titel", "regions": [SAARBRUECKEN]}
    event = {"startsAt": "2026-06-02T18:00:00", "endsAt": "2026-06-02T20:00:00"}
    today = running.clock.now().date()
    before = await news_seq(running)
    for change, field in [
        ({"kind": "EVENT", "event": {**event, "endsAt": "2026-06-02T17:00:00"}}, "event.endsAt"),
        ({"kind": "FUNDING_PROGRAMME", "funding": {"funder": "Land",
                                                   "deadline": (today - timedelta(days=3)).isoformat()}},
         "funding.deadline"),
        ({"regions": ["10041999"]}, "regions"),
        ({"topics": ["knitting"]}, "topics"),
        ({"language": "qq"}, "language"),
        ({"body": "x" * 100_000}, "body"),
        ({"kind": "EVENT", "event": {**event, "recurrence": "FREQ=WEEKLY"}}, "event.recurrence"),
        ({"kind": "EVENT", "event": {**event, "recurrence": "FREQ=DAILY;UNTIL=20300101"}}, "event.recurrence"),
        ({"title": "<img src=x onerror=alert(1)>"}, "title"),
    ]:
        answer = (await owner(CREATE, input={**good, **change}))["createNewsItem"]
        assert answer["item"] is None and [(e["code"], e["field"]) for e in answer["userErrors"]] == [
            ("INVALID_INPUT", field)], change
    # A megabyte does not get past the gateway's body limit.
    async with httpx.AsyncClient() as http:
        huge = await http.post(f"{running.base_url}/graphql", headers={"Authorization": f"Bearer {owner.token}"},
                               json={"query": CREATE, "variables": {"input": {**good, "body": "x" * 1_000_000}}})
    assert huge.status_code == 413
    with pytest.raises(TransportQueryError) as refused:
        await api(FEED, filter={"regions": ["99"]})
    assert refused.value.errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": "filter.regions"}
    assert await news_seq(running) == before


async def test_broken_and_hostile_markdown_comes_out_sanitised(api, newsroom):
    owner, actor, _ = newsroom
    body = ("<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![Pixel](https://tracker.example/p.gif) "
            "<a href=\"https://x.example\" onmouseover=\"steal()\">a</a> **offen *kaputt [link(\n\n> zitat")
    item = await publish(owner, await create(owner, actorId=actor["id"], title=f"Sicher {word('md')}", body=body))
    html = (await api(ITEM_BY_ID, id=item["id"]))["newsItem"]["bodyHtml"]
    tags = elements(html)
    assert {tag for tag, _ in tags} <= {"p", "a", "blockquote", "strong", "em"}, tags
    assert all(not name.startswith("on") and not (value or "").startswith("javascript:")
               for _, attrs in tags for name, value in attrs), tags
    assert '<a href="https://tracker.example/p.gif" rel="nofollow noopener noreferrer">Pixel</a>' in html
    assert "<blockquote>" in html


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element the HTML really has (escaped text is text), with its attributes."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found


# ---- regions, events, funding ------------------------------------------------------------------

async def test_region_filter_includes_district_and_state_wide_items(api, newsroom):
    owner, actor, _ = newsroom
    marker = word("Region")
    for where in (SAARLAND, REGIONALVERBAND, SAARBRUECKEN, VOELKLINGEN, MERZIG):
        await publish(owner, await create(owner, actorId=actor["id"], title=f"{marker} {where}", regions=[where]))
    found = await feed_titles(api, query=marker, filter={"regions": [SAARBRUECKEN]})
    assert sorted(found) == sorted(f"{marker} {r}" for r in (SAARLAND, REGIONALVERBAND, SAARBRUECKEN))
    found = await feed_titles(api, query=marker, filter={"regions": [REGIONALVERBAND], "kinds": ["ARTICLE"]})
    assert sorted(found) == sorted(f"{marker} {r}" for r in (SAARLAND, REGIONALVERBAND, SAARBRUECKEN, VOELKLINGEN))


async def test_upcoming_events_and_funding_programmes(api, newsroom, running):
    owner, actor, _ = newsroom
    today = running.clock.now().astimezone(BERLIN).date()
    start = datetime.combine(today + timedelta(days=2), time(18))
    marker = word("Cafe")
    cafe = await publish(owner, await create(owner, actorId=actor["id"], kind="EVENT", title=f"Sprachcafé {marker}",
                                             regions=[VOELKLINGEN], event={
        "startsAt": start.isoformat(), "endsAt": (start + timedelta(hours=2)).isoformat(),
        "recurrence": "FREQ=WEEKLY;COUNT=3",
        "changedOccurrences": [{"occurrence": (start + timedelta(days=7)).isoformat(), "cancelled": True}]}))
    assert cafe["event"]["occurrenceCount"] == 3 and cafe["icsUrl"].endswith(f"/events/{cafe['id']}.ics")
    found = (await api(UPCOMING, region=VOELKLINGEN, first=50))["upcomingEvents"]["edges"]
    mine = [(e["node"]["localStart"], e["node"]["cancelled"]) for e in found if e["item"]["id"] == cafe["id"]]
    assert mine == [((start + timedelta(days=7 * n)).isoformat(), n == 1) for n in range(3)]

    funded = word("Foerder")
    soon = (today + timedelta(days=5)).isoformat()
    await publish(owner, await create(owner, actorId=actor["id"], kind="FUNDING_PROGRAMME", title=f"{funded} bald",
                                      regions=[SAARLAND], funding={"funder": "Land", "amountMax": 50000,
                                                                   "deadline": soon}))
    await publish(owner, await create(owner, actorId=actor["id"], kind="FUNDING_PROGRAMME", title=f"{funded} später",
                                      regions=[SAARLAND], funding={"funder": "Bund", "rolling": True}))
    programmes = [(e["node"]["title"], e["node"]["funding"]["status"])
                  for e in (await api(FUNDING))["fundingProgrammes"]["edges"] if funded in e["node"]["title"]]
    assert programmes == [(f"{funded} bald", "CLOSING_SOON"), (f"{funded} später", "OPEN")]


# ---- feeds ----------------------------------------------------------------------------------------

async def get(running, path: str, **headers) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(f"{running.base_url}{path}", headers=headers)


async def test_the_atom_feed_filters_caches_and_drops_a_withdrawn_item_at_once(api, newsroom, running):
    owner, actor, _ = newsroom
    marker = word("Atom")
    first = await publish(owner, await create(owner, actorId=actor["id"], title=f"{marker} eins",
                                              regions=[VOELKLINGEN], topics=["housing"], body="**fett**"))
    await publish(owner, await create(owner, actorId=actor["id"], title=f"{marker} zwei", regions=[MERZIG],
                                      topics=["housing"]))
    path = f"/feeds/news.atom?region={SAARBRUECKEN.removesuffix('100')}&topic=housing&kind=article"
    response = await get(running, path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    assert response.headers["cache-control"] == "public, no-cache"
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    root = ET.fromstring(response.content)
    entries = [e for e in root.findall(f"{ATOM}entry") if marker in e.findtext(f"{ATOM}title", "")]
    assert [e.findtext(f"{ATOM}title") for e in entries] == [f"{marker} eins"]  # Merzig is not in the district
    [entry] = entries
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/news/{first['id']}")
    assert "<strong>fett</strong>" in entry.findtext(f"{ATOM}content")
    assert entry.find(f"{ATOM}author").findtext(f"{ATOM}name") == actor["name"]

    assert (await get(running, path, **{"If-None-Match": etag})).status_code == 304
    assert (await get(running, path, **{"If-Modified-Since": modified})).status_code == 304
    assert (await get(running, path, **{"If-None-Match": '"something-else"'})).status_code == 200
    bad = await get(running, "/feeds/news.atom?region=99")
    assert bad.status_code == 400 and bad.text.startswith("region:")
    assert (await get(running, "/feeds/news.atom?everything=1")).status_code == 400

    running.clock.advance(timedelta(seconds=2))  # Last-Modified has second precision
    withdrawn = (await owner(WITHDRAW, input={"itemId": first["id"]}))["withdrawNewsItem"]
    assert withdrawn["userErrors"] == []
    after = await get(running, path, **{"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert marker not in after.text
    assert (await get(running, path, **{"If-Modified-Since": modified})).status_code == 200
    assert await feed_titles(api, query=marker) == [f"{marker} zwei"]
    assert (await get(running, f"/news/{first['id']}")).status_code == 404


def occurrences_between(calendar: icalendar.Calendar, uid: str, start: date, end: date) -> list:
    return sorted((e for e in recurring_ical_events.of(calendar).between(start, end) if str(e["UID"]) == uid),
                  key=lambda e: e["DTSTART"].dt)


async def test_the_calendar_is_right_across_the_daylight_saving_switches(api, newsroom, running):
    owner, actor, _ = newsroom
    running_at = running.clock.now()
    running.clock.advance(datetime(2026, 3, 1, 12, tzinfo=UTC) - running_at)  # the test needs 2026's spring
    try:
        marker = word("Kalender")
        cafe = await publish(owner, await create(
            owner, actorId=actor["id"], kind="EVENT", title=f"Sprachcafé {marker}", regions=[VOELKLINGEN],
            event={"startsAt": "2026-03-03T18:00:00", "endsAt": "2026-03-03T20:00:00",
                   "recurrence": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261103", "placeName": "Stadtbibliothek",
                   "changedOccurrences": [
                       {"occurrence": "2026-03-31T18:00:00", "cancelled": True},
                       {"occurrence": "2026-10-27T18:00:00", "startsAt": "2026-10-28T17:00:00",
                        "endsAt": "2026-10-28T19:00:00"}]}))
        conference = await publish(owner, await create(
            owner, actorId=actor["id"], kind="EVENT", title=f"Konferenz {marker}", regions=[SAARLAND],
            event={"startsAt": "2026-03-29T00:00:00", "endsAt": "2026-03-29T00:00:00", "allDay": True}))
        response = await get(running, f"/feeds/events.ics?region={VOELKLINGEN}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.text)
        assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]

        uid = f"{cafe['id']}@lotse"
        components = [c for c in calendar.walk("VEVENT") if str(c["UID"]) == uid]
        assert len(components) == 3  # the series and its two overrides, one UID
        assert {c["DTSTART"].params["TZID"] for c in components} == {"Europe/Berlin"}
        assert all(str(c["URL"]).endswith(f"/news/{cafe['id']}") for c in components)
        seen = occurrences_between(calendar, uid, date(2026, 3, 1), date(2026, 12, 1))
        assert len(seen) == 36
        for event in seen:
            local = event["DTSTART"].dt.astimezone(BERLIN)
            moved = event.get("RECURRENCE-ID") is not None and event["RECURRENCE-ID"].dt.date() == date(2026, 10, 27)
            assert (local.hour, local.weekday()) == ((17, 2) if moved else (18, 1)), local
        around = {e["DTSTART"].dt.date(): e for e in seen}
        # Either side of 29 March and of 25 October: the same 18:00 in Berlin, another offset in UTC.
        assert around[date(2026, 3, 24)]["DTSTART"].dt.utcoffset() == timedelta(hours=1)
        assert around[date(2026, 4, 7)]["DTSTART"].dt.utcoffset() == timedelta(hours=2)
        assert around[date(2026, 10, 20)]["DTSTART"].dt.utcoffset() == timedelta(hours=2)
        assert around[date(2026, 11, 3)]["DTSTART"].dt.utcoffset() == timedelta(hours=1)
        assert str(around[date(2026, 3, 31)]["STATUS"]) == "CANCELLED"
        assert around[date(2026, 3, 31)]["RECURRENCE-ID"].dt == datetime(2026, 3, 31, 18, tzinfo=BERLIN)
        assert around[date(2026, 10, 28)]["RECURRENCE-ID"].dt == datetime(2026, 10, 27, 18, tzinfo=BERLIN)

        [day] = [c for c in calendar.walk("VEVENT") if str(c["UID"]) == f"{conference['id']}@lotse"]
        assert type(day["DTSTART"].dt) is date and day["DTSTART"].dt == date(2026, 3, 29)
        assert day["DTEND"].dt == date(2026, 3, 30) and "VALUE=DATE" in day.to_ical().decode()

        # An edit raises SEQUENCE and keeps the UID; cancelling keeps the event, marked.
        sequence = int(components[0]["SEQUENCE"])
        edited = (await owner(UPDATE, input={"itemId": cafe["id"], "expectedVersion": cafe["version"], "event": {
            "startsAt": "2026-03-03T18:00:00", "endsAt": "2026-03-03T20:00:00", "cancelled": True,
            "recurrence": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261103"}}))["updateNewsItem"]
        assert edited["userErrors"] == []
        single = icalendar.Calendar.from_ical((await get(running, f"/events/{cafe['id']}.ics")).text)
        [series] = single.walk("VEVENT")
        assert str(series["UID"]) == uid and int(series["SEQUENCE"]) == sequence + 1
        assert str(series["STATUS"]) == "CANCELLED" and single.walk("VTIMEZONE")
        etag = (await get(running, f"/events/{cafe['id']}.ics")).headers["etag"]
        assert (await get(running, f"/events/{cafe['id']}.ics", **{"If-None-Match": etag})).status_code == 304

        withdrawn = (await owner(WITHDRAW, input={"itemId": cafe["id"]}))["withdrawNewsItem"]
        assert withdrawn["userErrors"] == []
        assert (await get(running, f"/events/{cafe['id']}.ics")).status_code == 404
        after = icalendar.Calendar.from_ical((await get(running, f"/feeds/events.ics?region={VOELKLINGEN}")).text)
        assert uid not in {str(c["UID"]) for c in after.walk("VEVENT")}
    finally:
        running.clock.advance(running_at - running.clock.now())


async def test_funding_deadlines_are_all_day_events(newsroom, running):
    owner, actor, _ = newsroom
    deadline = running.clock.now().astimezone(BERLIN).date() + timedelta(days=40)
    item = await publish(owner, await create(owner, actorId=actor["id"], kind="FUNDING_PROGRAMME",
                                             title=f"Förderaufruf {word('Frist')}", regions=[SAARLAND],
                                             funding={"funder": "Bund", "deadline": deadline.isoformat()}))
    calendar = icalendar.Calendar.from_ical((await get(running, f"/feeds/funding.ics?region={MERZIG}")).text)
    [entry] = [c for c in calendar.walk("VEVENT") if str(c["UID"]) == f"{item['id']}@lotse"]
    assert entry["DTSTART"].dt == deadline and entry["DTEND"].dt == deadline + timedelta(days=1)
    assert str(entry["URL"]).endswith(f"/news/{item['id']}")


async def test_the_item_page_shows_the_sanitised_body(newsroom, running):
    owner, actor, _ = newsroom
    item = await publish(owner, await create(owner, actorId=actor["id"], title=f"Seite {word('html')}",
                                             body="Hallo <script>x</script> **Welt**"))
    page = await get(running, f"/news/{item['id']}")
    assert page.status_code == 200 and "<strong>Welt</strong>" in page.text and "<script>x" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    draft = await create(owner, actorId=actor["id"], title="Entwurf")
    assert (await get(running, f"/news/{draft['id']}")).status_code == 404
