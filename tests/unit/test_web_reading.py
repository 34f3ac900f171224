"""The reading pages without a platform: what they ask news, fragments, languages, directions."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from proto import directory, news
from tests.support.gateway import FakeIdentity, app_with, http

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
INFO = news.PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)


def item(item_id: str = "01JNEWS0000000000000000001", *, kind: str = "article", language: str = "de",
         title: str = "Sprachcafé", visibility: str = "public", languages: list[str] | None = None) -> news.NewsItem:
    event = funding = None
    if kind == "event":
        start = NOW + timedelta(days=3)
        occurrence = news.Occurrence(starts_at=start, ends_at=start + timedelta(hours=2), local_start=start,
                                     local_end=start + timedelta(hours=2), all_day=False, cancelled=False,
                                     moved=False, recurrence_id=None)
        event = news.EventInfo(starts_at=start, ends_at=start + timedelta(hours=2), place_name="Rathaus",
                               next_occurrence=occurrence, occurrence_count=1)
    if kind == "funding-programme":
        funding = news.FundingInfo(funder="Land", deadline=(NOW + timedelta(days=20)).date(), status="open")
    available = languages or [language]
    return news.NewsItem(
        id=item_id, kind=kind, status="published", actor=news.ActorRef(id="A1", name="Stadt", slug="stadt"),
        author=None, language=language, original_language=available[0], available_languages=available,
        title=title, summary="Kurz", body="Text", body_html="<p>Text</p>", topics=["housing"], regions=[],
        link=None, tags=[], image=None, visibility=visibility,
        translations=[news.TranslationInfo(language=code, title=title) for code in available],
        event=event, funding=funding, created_at=NOW, updated_at=NOW, published_at=NOW, scheduled_for=None,
        withdrawn_at=None, withdrawal_reason=None, version=3, may_edit=False, path=f"/news/{item_id}")


def connection(*items: news.NewsItem) -> news.NewsConnection:
    return news.NewsConnection(edges=[news.NewsEdge(cursor=f"c{n}", node=i) for n, i in enumerate(items)],
                               page_info=INFO)


def occurrences(*items: news.NewsItem) -> news.OccurrenceConnection:
    return news.OccurrenceConnection(edges=[
        news.OccurrenceEdge(cursor=f"u{n}", occurrence=i.event.next_occurrence, item=i)  # type: ignore[union-attr]
        for n, i in enumerate(items)], page_info=INFO)


def fake_news() -> FakeIdentity:
    arabic = item("01JNEWS0000000000000000002", language="ar", title="مقهى اللغة", languages=["de", "ar"])
    return FakeIdentity({
        "news_feed": connection(item(), arabic), "get_item": arabic,
        "upcoming_events": occurrences(item("01JNEWS0000000000000000003", kind="event", title="Nachbarschaftsfest")),
        "funding_programmes": connection(item("01JNEWS0000000000000000004", kind="funding-programme",
                                              title="Kleinprojektefonds")),
    })


def fake_directory() -> FakeIdentity:
    saarland = directory.Region(ags="10", name="Saarland", level="state", parent_ags=None)
    return FakeIdentity({"list_regions": directory.RegionList(regions=[saarland]), "get_region": saarland})


@pytest.mark.parametrize(("path", "title"), [("/news", "Sprachcafé"), ("/events", "Nachbarschaftsfest"),
                                             ("/funding", "Kleinprojektefonds")])
async def test_a_list_answers_the_page_without_the_htmx_header_and_its_results_with_it(path, title):
    async with http(app_with(FakeIdentity(), fake_directory(), fake_news())) as client:
        page = await client.get(path)
        fragment = await client.get(path, headers={"HX-Request": "true"})
        restore = await client.get(path, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert page.status_code == 200 and page.text.startswith("<!doctype html>") and title in page.text
    assert fragment.text.lstrip().startswith('<section id="reading-results"') and "<html" not in fragment.text
    assert title in fragment.text
    assert restore.text.startswith("<!doctype html>")  # the back button never gets a bare fragment
    for response in (page, fragment, restore):
        assert "HX-Request" in response.headers["vary"]
        assert response.headers["cache-control"] == "private, no-cache"  # kept for offline reading


async def test_signed_out_the_feed_asks_news_anonymously_for_the_chosen_region_topics_kinds_and_languages():
    fake = fake_news()
    async with http(app_with(FakeIdentity(), fake_directory(), fake)) as client:
        response = await client.get("/news?state=10&topic=housing&kind=event&language=ar&language=fa")
    assert response.status_code == 200
    call = fake.calls[-1]
    assert call.verb == "news_feed" and call.caller is not None and call.caller.token is None
    f = call.request.filter
    assert (f.regions, f.topics, f.kinds, f.languages) == (["10"], ["housing"], ["event"], ["ar", "fa"])
    assert call.request.lang == ["de"]
    assert "x-lotse-kept" not in response.headers  # nothing members-only for someone signed out


async def test_right_to_left_words_are_marked_with_their_language_and_direction_inside_a_german_page():
    async with http(app_with(FakeIdentity(), fake_directory(), fake_news())) as client:
        listing = await client.get("/news")
        one = await client.get("/news/01JNEWS0000000000000000002?read=ar")
    assert re.search(r'<h3 lang="ar" dir="rtl"><a href="/news/01JNEWS0000000000000000002">مقهى اللغة</a>',
                     listing.text)
    assert re.search(r'<h3 lang="de" dir="ltr"><a href="/news/01JNEWS0000000000000000001">', listing.text)
    assert '<html lang="de">' in one.text  # the page stays German around the Arabic item
    assert '<h1 lang="ar" dir="rtl">مقهى اللغة</h1>' in one.text
    assert '<div class="item-text" lang="ar" dir="rtl">' in one.text
    assert 'href="/news/01JNEWS0000000000000000002?read=de"' in one.text  # the original, one tap away


async def test_reading_a_version_asks_news_for_it_first_then_the_page_language():
    fake = fake_news()
    async with http(app_with(FakeIdentity(), fake_directory(), fake)) as client:
        await client.get("/news/01JNEWS0000000000000000002?read=ar", headers={"Accept-Language": "en"})
    assert fake.calls[-1].request.lang == ["ar", "en"]


async def test_an_event_page_offers_its_calendar_file_and_saving_and_a_funding_list_shows_the_deadline():
    fake = fake_news()
    fake.replies["get_item"] = item("01JNEWS0000000000000000003", kind="event", title="Fest")
    async with http(app_with(FakeIdentity(), fake_directory(), fake)) as client:
        event = await client.get("/news/01JNEWS0000000000000000003")
        funding = await client.get("/funding")
    assert 'href="/events/01JNEWS0000000000000000003.ics"' in event.text
    assert 'id="save-event" hidden' in event.text  # app.js shows it where a service worker can keep the event
    assert "Antragsfrist" in funding.text and "24. Mai 2026" in funding.text


def test_directions_come_from_the_language():
    from gateway.web.i18n import direction

    assert [direction(c) for c in ("ar", "fa", "he", "ur", "ps", "de", "uk", "tr", "xx-unknown")] == [
        "rtl", "rtl", "rtl", "rtl", "rtl", "ltr", "ltr", "ltr", "ltr"]


async def test_a_page_with_members_only_news_is_kept_offline_only_while_signed_in_and_says_whether_one_is():
    fake = fake_news()
    async with http(app_with(FakeIdentity(), fake_directory(), fake)) as client:
        public = await client.get("/news/01JNEWS0000000000000000002")
        fake.replies["get_item"] = item("01JNEWS0000000000000000005", visibility="members", title="Intern")
        members = await client.get("/news/01JNEWS0000000000000000005")
        worker = await client.get("/sw.js")
    assert members.headers["x-lotse-kept"] == "while-signed-in"
    assert members.headers["cache-control"] == "private, no-cache"
    assert "x-lotse-kept" not in public.headers
    assert public.headers["x-lotse-session"] == "none"  # the worker drops what it kept for a session
    script = worker.text
    assert '"lotse-session-" + VERSION' in script and '"lotse-saved-" + VERSION' in script
    assert 'get("X-Lotse-Session") === "none"' in script and '"/saved"' in script


# ---- "for me": the follows' queries read as one list -----------------------------------------

def test_merged_queries_page_through_the_union_newest_first_each_item_once_none_skipped():
    from gateway.web.reading import Merged

    # Three queries (a region, a topic, an actor) over one timeline: numbers are the items,
    # bigger is newer; 7, 5 and 2 match two follows each.
    lists = {"region0": [9, 7, 5, 2], "topic0": [8, 7, 4, 2, 1], "actor0": [6, 5, 3]}

    def answer(name: str, cursor: str | None, size: int) -> tuple[list[tuple[str, int]], bool]:
        values = lists[name]
        start = 0 if cursor is None else values.index(int(cursor)) + 1
        page = values[start:start + size]
        return [(str(v), v) for v in page], start + size < len(values)

    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        merged = Merged(list(lists), cursor)
        answers = {name: answer(name, merged.positions[name], 2) for name in merged.pending()}
        taken, cursor = merged.merge(answers, key=lambda v: (-v, str(v)), identity=str, limit=3)
        assert taken == sorted(taken, reverse=True)  # in order on each page, too
        seen += taken
        pages += 1
        if cursor is None:
            break
        assert pages < 10
    assert seen == [9, 8, 7, 6, 5, 4, 3, 2, 1]


def test_items_of_one_moment_in_another_order_per_query_are_each_shown_once_across_pages():
    from gateway.web.reading import Merged

    # Five items published in one moment (a scheduled batch): the service orders ties its own
    # way, which is not the gateway's tie-break by id; "c" and "d" match both follows.
    lists = {"region0": ["e", "d", "c"], "topic0": ["d", "c", "b", "a"]}
    moment = 1_700_000_000

    def answer(name: str, cursor: str | None, size: int) -> tuple[list[tuple[str, str]], bool]:
        values = lists[name]
        start = 0 if cursor is None else values.index(cursor) + 1
        return [(v, v) for v in values[start:start + size]], start + size < len(values)

    for limit in (1, 2, 3):
        shown: list[str] = []
        cursor: str | None = None
        for _ in range(20):
            merged = Merged(list(lists), cursor)
            answers = {name: answer(name, merged.positions[name], 2) for name in merged.pending()}
            taken, cursor = merged.merge(answers, key=lambda v: (-moment, v), identity=str, limit=limit)
            shown += taken
            if cursor is None:
                break
        assert sorted(shown) == ["a", "b", "c", "d", "e"], (limit, shown)


def test_a_merged_cursor_that_is_not_ours_starts_from_the_beginning():
    from gateway.web.reading import Merged

    for junk in ("not-base64!", "bm90IGpzb24", "WzEsMl0"):  # garbage, "not json", a list
        assert Merged(["a", "b"], junk).positions == {"a": None, "b": None}


@pytest.mark.parametrize(("query", "next_path"), [
    ("actor=01JACTOR00000000000000001", "/follows%3Factor%3D01JACTOR00000000000000001"),
    ("region=10041", "/follows%3Fregion%3D10041")])
async def test_the_follow_button_signed_out_leads_to_signing_in_and_back_to_following_that(query, next_path):
    async with http(app_with(FakeIdentity(), fake_directory(), fake_news())) as client:
        response = await client.get(f"/follows/button?{query}", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert f'href="/signin?next={next_path}"' in response.text



def test_follows_become_one_query_per_kind_of_follow_and_a_followed_kind_of_the_list_is_all_of_it():
    from gateway.web.reading import Interests, streams

    mine = Interests(regions=[(f"1004{n:04d}", f"Ort {n}") for n in range(25)], topics=["housing"],
                     actors=[("01JACTOR00000000000000001", "Stadt")], kinds=["event", "press-release"])
    news_queries = {q.name: q.filter for q in streams(mine, kinds=[], languages=["de"])}
    assert sorted(news_queries) == ["actor0", "kind", "region0", "region1", "topic0"]  # 25 regions: 20 + 5
    assert len(news_queries["region0"]["regions"]) == 20 and len(news_queries["region1"]["regions"]) == 5
    assert news_queries["kind"]["kinds"] == ["event", "press-release"]
    assert all(f["languages"] == ["de"] for f in news_queries.values())
    # Press releases chosen on top: the kind query keeps only what is both followed and chosen.
    chosen = {q.name: q.filter for q in streams(mine, kinds=["press-release"], languages=[])}
    assert chosen["kind"]["kinds"] == ["press-release"] and chosen["topic0"]["kinds"] == ["press-release"]
    assert "kind" not in {q.name for q in streams(mine, kinds=["article"], languages=[])}
    # Events: following the kind "event" means every event — one query, no filter.
    assert [(q.name, q.filter) for q in streams(mine, kinds=[], languages=[], all_kinds="event")] == [
        ("kind", {"kinds": [], "languages": []})]
    assert "kind" not in {q.name for q in streams(mine, kinds=[], languages=[], all_kinds="funding-programme")}


def test_merged_funding_programmes_keep_the_services_order_open_by_deadline_rolling_then_closed():
    from gateway.web.reading import deadline_first

    def programme(n: int, days: int | None, status: str) -> news.NewsItem:
        one = item(f"01JNEWS000000000000000001{n}", kind="funding-programme")
        assert one.funding is not None
        deadline = None if days is None else (NOW + timedelta(days=days)).date()
        return one.model_copy(update={"funding": one.funding.model_copy(update={"deadline": deadline,
                                                                                   "status": status})})

    soon, later, rolling = programme(1, 5, "closing-soon"), programme(2, 40, "open"), programme(3, None, "open")
    closed_lately, closed_long_ago = programme(4, -3, "closed"), programme(5, -90, "closed")
    shuffled = [closed_long_ago, rolling, later, closed_lately, soon]
    assert sorted(shuffled, key=deadline_first) == [soon, later, rolling, closed_lately, closed_long_ago]
