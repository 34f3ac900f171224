"""News' pure parts: rules, recurrence bounds, occurrences across the DST switches, sanitising,
language negotiation, live filters. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.languages import from_header, preferred
from gateway.news_live import PublicationFilter
from proto import news as api
from proto.errors import Conflict, Forbidden, Invalid, NotFound
from services.kernel.auth import Principal
from services.news import domain, ical, markdown
from services.news.domain import ActorFacts

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
OWNER = Principal(account_id="owner", role="member", session_id=None)
EDITOR = Principal(account_id="editor", role="member", session_id=None)
STRANGER = Principal(account_id="stranger", role="member", session_id=None)
ADMIN = Principal(account_id="admin", role="admin", session_id=None)
KNOWN = {"10", "10041", "10041100"}


def actor(status: str = "approved") -> ActorFacts:
    return ActorFacts(id="actor-1", name="Sprachcafé", slug="sprachcafe", status=status,  # type: ignore[arg-type]
                      members={"owner": "owner", "editor": "editor"})


def create(kind: str = "article", **fields) -> api.CreateNewsItem:
    return api.CreateNewsItem.model_validate({"actor_id": "actor-1", "kind": kind, "title": "Titel",
                                              "regions": ["10041100"], **fields})


def state(kind: str = "article", **fields) -> domain.ItemState:
    event = domain.decide_create(create(kind, **fields), item_id="item-1", principal=OWNER, actor=actor(),
                                 known_regions=KNOWN, now=NOW)
    return domain.evolve(None, event, version=1, at=NOW)


def event_details(**fields) -> api.EventDetails:
    return api.EventDetails.model_validate({"starts_at": "2026-03-17T18:00:00", "ends_at": "2026-03-17T20:00:00",
                                            **fields})


# ---- rules -------------------------------------------------------------------------------------

def test_editors_write_strangers_are_forbidden_and_pending_actors_cannot_publish():
    with pytest.raises(Forbidden):
        domain.decide_create(create(), item_id="x", principal=STRANGER, actor=actor(), known_regions=KNOWN, now=NOW)
    with pytest.raises(Forbidden):
        domain.decide_create(create(), item_id="x", principal=ADMIN, actor=actor(), known_regions=KNOWN, now=NOW)
    draft = state()
    assert domain.decide_publish(draft, EDITOR, actor(), None, KNOWN) is not None
    for status in ("pending", "rejected"):
        with pytest.raises(Forbidden):
            domain.decide_publish(draft, OWNER, actor(status), None, KNOWN)
    # A draft does not exist for a stranger; a published item refuses them.
    with pytest.raises(NotFound):
        domain.decide_publish(draft, STRANGER, actor(), None, KNOWN)
    published = domain.evolve(draft, domain.decide_publish(draft, OWNER, actor(), None, KNOWN), version=2, at=NOW)
    with pytest.raises(Forbidden):
        domain.decide_update(published, api.UpdateNewsItem(item_id="item-1", expected_version=2, title="X"),
                             STRANGER, actor(), KNOWN, NOW, scope=KNOWN)
    assert domain.decide_publish(published, OWNER, actor(), None, KNOWN) is None  # published already


def test_updates_need_the_current_version_and_raise_the_revision():
    item = state()
    with pytest.raises(Conflict):
        domain.decide_update(item, api.UpdateNewsItem(item_id="item-1", expected_version=0, title="Neu"), OWNER,
                             actor(), KNOWN, NOW, scope=KNOWN)
    event = domain.decide_update(item, api.UpdateNewsItem(item_id="item-1", expected_version=1, title="Neu"),
                                 OWNER, actor(), KNOWN, NOW, scope=KNOWN)
    assert event is not None and event.changed == ["title"] and event.notice is None  # a draft: nobody to tell
    after = domain.evolve(item, event, version=5, at=NOW)
    assert (after.revision, after.version, after.content.title) == (1, 5, "Neu")
    same = api.UpdateNewsItem(item_id="item-1", expected_version=5, title="Neu")
    assert domain.decide_update(after, same, OWNER, actor(), KNOWN, NOW, scope=KNOWN) is None


def test_admins_withdraw_with_a_reason_editors_without():
    item = state()
    with pytest.raises(Invalid) as missing:
        domain.decide_withdraw(item, ADMIN, actor(), reason=None, scope=KNOWN)
    assert missing.value.field == "reason"
    by_admin = domain.decide_withdraw(item, ADMIN, actor(), reason="Spam", scope=KNOWN)
    assert by_admin is not None and by_admin.by_admin and by_admin.notice.title == "Titel"
    by_editor = domain.decide_withdraw(item, EDITOR, actor(), reason=None, scope=KNOWN)
    assert by_editor is not None and not by_editor.by_admin
    gone = domain.evolve(item, by_editor, version=2, at=NOW)
    assert domain.decide_withdraw(gone, EDITOR, actor(), reason=None, scope=KNOWN) is None
    with pytest.raises(Conflict):
        domain.decide_publish(gone, OWNER, actor(), None, KNOWN)


def test_schedules_are_in_the_future_and_fall_due_once():
    item = state()
    with pytest.raises(Invalid) as past:
        domain.decide_schedule(item, OWNER, actor(), publish_at=NOW - timedelta(minutes=1), expected=None, now=NOW)
    assert past.value.field == "publishAt"
    with pytest.raises(Invalid):
        domain.decide_schedule(item, OWNER, actor(), publish_at=datetime(2026, 4, 1, 9), expected=None, now=NOW)
    event = domain.decide_schedule(item, OWNER, actor(), publish_at=NOW + timedelta(hours=1), expected=1, now=NOW)
    scheduled = domain.evolve(item, event, version=2, at=NOW)
    assert domain.decide_due(scheduled, actor(), now=NOW, scope=KNOWN) is None  # not yet
    due = domain.decide_due(scheduled, actor(), now=NOW + timedelta(hours=1), scope=KNOWN)
    assert isinstance(due, api.ItemPublished) and due.scheduled
    published = domain.evolve(scheduled, due, version=3, at=NOW + timedelta(hours=1))
    assert domain.decide_due(published, actor(), now=NOW + timedelta(hours=2), scope=KNOWN) is None
    rejected = domain.decide_due(scheduled, actor("rejected"), now=NOW + timedelta(hours=1), scope=KNOWN)
    assert isinstance(rejected, api.ScheduleCancelled) and rejected.reason


def test_funding_status_follows_the_deadline():
    funding = api.FundingDetails(funder="Land", deadline=date(2026, 3, 20))
    assert domain.funding_status(funding, date(2026, 3, 1)) == "open"
    assert domain.funding_status(funding, date(2026, 3, 7)) == "closing-soon"
    assert domain.funding_status(funding, date(2026, 3, 20)) == "closing-soon"
    assert domain.funding_status(funding, date(2026, 3, 21)) == "closed"
    assert domain.funding_status(api.FundingDetails(funder="Land", rolling=True), date(2030, 1, 1)) == "open"
    # An old deadline stays when something else is edited; a new one in the past is refused.
    item = state("funding-programme", funding={"funder": "Land", "deadline": "2026-03-20"})
    later = NOW + timedelta(days=40)
    edit = api.UpdateNewsItem(item_id="item-1", expected_version=1, title="Neu")
    assert domain.decide_update(item, edit, OWNER, actor(), KNOWN, later, scope=KNOWN) is not None
    moved = api.UpdateNewsItem(item_id="item-1", expected_version=1,
                               funding=api.FundingDetails(funder="Land", deadline=date(2026, 3, 25)))
    with pytest.raises(Invalid) as past:
        domain.decide_update(item, moved, OWNER, actor(), KNOWN, later, scope=KNOWN)
    assert past.value.field == "funding.deadline"


# ---- recurrences -------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", ["FREQ=WEEKLY", "FREQ=DAILY;COUNT=501", "FREQ=MONTHLY;UNTIL=20300101",
                                  "FREQ=HOURLY;COUNT=3", "FREQ=WEEKLY;COUNT=2;UNTIL=20260401", "BYDAY=TU;COUNT=2",
                                  "FREQ=WEEKLY;UNTIL=20260101", "FREQ=WEEKLY;BYDAY=XX;COUNT=3"])
def test_unbounded_or_unreadable_rules_are_refused_on_the_field(rule):
    with pytest.raises(Invalid) as refused:
        domain.check_event(event_details(recurrence=rule))
    assert refused.value.field == "event.recurrence" and refused.value.message


def test_until_is_stored_in_utc_and_the_bounds_hold_at_the_edge():
    checked = domain.check_event(event_details(recurrence="RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20260630"))
    assert checked.recurrence == "FREQ=WEEKLY;UNTIL=20260630T215959Z;BYDAY=TU"  # 23:59:59 CEST
    assert domain.check_event(event_details(recurrence="FREQ=DAILY;COUNT=500")).recurrence == "FREQ=DAILY;COUNT=500"
    all_day = domain.check_event(event_details(all_day=True, recurrence="FREQ=YEARLY;UNTIL=20270317"))
    assert all_day.recurrence == "FREQ=YEARLY;UNTIL=20270317"
    # An offset sent along becomes the local wall-clock time.
    aware = domain.check_event(event_details(starts_at="2026-03-17T17:00:00+00:00", ends_at="2026-03-17T19:00Z"))
    assert aware.starts_at == datetime(2026, 3, 17, 18, 0) and aware.ends_at == datetime(2026, 3, 17, 20, 0)


def test_occurrences_keep_their_local_time_across_both_switches():
    details = domain.check_event(event_details(recurrence="FREQ=WEEKLY;BYDAY=TU;UNTIL=20261103", changed_occurrences=[
        {"occurrence": "2026-03-31T18:00:00", "cancelled": True},
        {"occurrence": "2026-10-27T18:00:00", "starts_at": "2026-10-28T17:00:00"}]))
    found = ical.occurrences(details, "item-1")
    assert len(found) == 34
    assert {o.local_start.time().hour for o in found if not o.moved} == {18}
    by_day = {o.local_start.date(): o for o in found}
    assert by_day[date(2026, 3, 24)].starts_at.hour == 17 and by_day[date(2026, 4, 7)].starts_at.hour == 16
    assert by_day[date(2026, 10, 20)].starts_at.hour == 16 and by_day[date(2026, 11, 3)].starts_at.hour == 17
    assert by_day[date(2026, 3, 31)].cancelled
    moved = by_day[date(2026, 10, 28)]
    assert moved.moved and moved.recurrence_id == datetime(2026, 10, 27, 18) and moved.local_end.hour == 19
    with pytest.raises(Invalid) as wrong:
        domain.check_event(event_details(recurrence="FREQ=WEEKLY;COUNT=3",
                                         changed_occurrences=[{"occurrence": "2026-03-18T18:00:00",
                                                               "cancelled": True}]))
    assert wrong.value.field == "event.changedOccurrences.0.occurrence"


def test_bad_event_times_name_their_field():
    for fields, field in [({"ends_at": "2026-03-17T17:00:00"}, "event.endsAt"),
                          ({"all_day": True, "ends_at": "2026-03-16T00:00:00"}, "event.endsAt"),
                          ({"time_zone": "Europe/Nowhere"}, "event.timeZone"),
                          ({"online_url": "javascript:alert(1)"}, "event.onlineUrl")]:
        with pytest.raises(Invalid) as refused:
            domain.check_event(event_details(**fields))
        assert refused.value.field == field


# ---- sanitising, languages, live filters -------------------------------------------------------

@pytest.mark.parametrize("body", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))", "[x](data:text/html;base64,PHNjcmlwdD4=)", "<a href='x' onclick='y'>z</a>",
    "![t](https://tracker.example/p.gif)", "<iframe src=//x></iframe>", "<svg onload=alert(1)>",
    "[x](vbscript:msgbox(1))", "<style>*{}</style>", "**unclosed *nesting [link(",
])
def test_no_markup_we_did_not_allow_survives(body):
    html = markdown.render(body)
    lowered = html.lower()
    for forbidden in ("<script", "<img", "<iframe", "<svg", "<style", 'href="javascript', 'href="data',
                      'href="vbscript', " onerror=\"", " onclick=\"", " onload=\"", " src=\""):
        assert forbidden not in lowered, (body, html)


def test_links_are_marked_and_images_become_links():
    html = markdown.render("[Seite](https://www.example.de) ![Ein Foto](https://x.example/a.png)")
    assert html == ('<p><a href="https://www.example.de" rel="nofollow noopener noreferrer">Seite</a> '
                    '<a href="https://x.example/a.png" rel="nofollow noopener noreferrer">Ein Foto</a></p>\n')
    assert markdown.plain("# Titel\n\n**fett** & <b>") == "Titel\nfett & <b>"


def test_accept_language_ranks_by_quality_and_lang_comes_first():
    assert from_header("de-DE,de;q=0.9,en;q=0.8,*;q=0.1") == ["de", "en"]
    assert from_header("en;q=0.2, uk, ar;q=0") == ["uk", "en"]
    assert from_header("garbage;;;q=x, 12") == []
    assert preferred("EN", "de") == ("en", "de") and preferred(None, None) == ()


def notice(**fields) -> api.Notice:
    values = {"kind": "event", "actor_id": "a", "actor_name": "A", "language": "de", "title": "T", "summary": "",
              "topics": ["housing"], "regions": ["10041100"], "region_scope": ["10", "10041", "10041100"],
              "visibility": "public", "link": None, "path": "/news/x", **fields}
    return api.Notice.model_validate(values)


def test_live_filters_match_by_region_scope_and_hide_members_only_items_from_the_anonymous():
    assert PublicationFilter(regions=frozenset({"10041"})).matches(notice())  # inside the district
    assert PublicationFilter(regions=frozenset({"10"})).matches(notice())
    assert not PublicationFilter(regions=frozenset({"10042"})).matches(notice())
    statewide = notice(regions=["10"], region_scope=["10", "10041", "10041100", "10042"])
    assert PublicationFilter(regions=frozenset({"10042"})).matches(statewide)  # covers it
    assert not PublicationFilter().matches(notice(visibility="members"))
    assert PublicationFilter(signed_in=True).matches(notice(visibility="members"))
    assert not PublicationFilter(kinds=frozenset({"article"})).matches(notice())
    assert PublicationFilter(languages=frozenset({"en"})).matches(
        notice(translations=[{"language": "en", "title": "T", "summary": ""}]))
