"""Writing news on the pages: how the form's fields become the news contract's request."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from gateway.web.forms import form_of
from gateway.web.publishing import (
    FIELDS, content_of, differences, event_of, form_values, item_values, publish_time, repeat_of, translations_of,
)
from proto import news
from tests.unit.test_web_reading import item


def posted(**fields: str | list[str]) -> dict:
    return form_values(form_of({k.replace("__", "."): v if isinstance(v, list) else [v]
                                for k, v in fields.items()}, *FIELDS))


@pytest.mark.parametrize(("rule", "expected"), [
    (None, ("", "", "")),
    ("FREQ=WEEKLY;UNTIL=20270115", ("WEEKLY", "2027-01-15", "")),
    ("FREQ=WEEKLY;INTERVAL=2;UNTIL=20270115", ("BIWEEKLY", "2027-01-15", "")),
    ("FREQ=MONTHLY;UNTIL=20271231", ("MONTHLY", "2027-12-31", "")),
    ("FREQ=WEEKLY;UNTIL=20270115T225959Z", ("WEEKLY", "2027-01-15", "")),  # as news stores it: UTC
    ("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10", ("custom", "", "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10")),
    ("FREQ=DAILY;UNTIL=20270115", ("custom", "", "FREQ=DAILY;UNTIL=20270115")),
])
def test_a_rule_reads_back_as_the_forms_choice_and_one_it_cannot_spell_is_kept_as_written(rule, expected):
    assert repeat_of(rule) == expected


def test_an_event_from_the_form_keeps_what_the_form_does_not_show_and_its_changed_dates_while_times_stay():
    before = item(kind="event").event
    assert before is not None
    before = before.model_copy(update={"organiser": "Stadt", "recurrence": "FREQ=WEEKLY;UNTIL=20270115T225959Z",
                                       "changed_occurrences": [news.OccurrenceChange(occurrence=before.starts_at,
                                                                                     cancelled=True)]})
    same = posted(**{"event__startsAt": before.starts_at.strftime("%Y-%m-%dT%H:%M"),
                     "event__endsAt": before.ends_at.strftime("%Y-%m-%dT%H:%M"), "event__repeat": "WEEKLY",
                     "event__until": "2027-01-15", "event__placeName": "Rathaus"})
    kept = event_of(same, before)
    assert kept["organiser"] == "Stadt" and kept["recurrence"] == "FREQ=WEEKLY;UNTIL=20270115T225959Z"
    assert len(kept["changed_occurrences"]) == 1
    moved = event_of(posted(**{"event__startsAt": "2027-01-05T10:00", "event__endsAt": "2027-01-05T12:00",
                               "event__repeat": "MONTHLY", "event__until": "2027-06-30"}), before)
    assert moved["recurrence"] == "FREQ=MONTHLY;UNTIL=20270630" and moved["changed_occurrences"] == []
    assert moved["starts_at"] == datetime(2027, 1, 5, 10, 0)


def test_a_typed_time_that_is_no_time_goes_to_the_service_as_typed_to_be_refused_by_name():
    values = posted(title="Fest", **{"event__startsAt": "morgen", "event__endsAt": "übermorgen"})
    with pytest.raises(Exception) as refused:
        news.CreateNewsItem.model_validate({**content_of(values, "event", None, []), "actor_id": "A1",
                                            "kind": "event"})
    assert "starts_at" in str(refused.value)


def test_the_forms_translation_replaces_its_language_and_the_others_stay_as_they_were():
    others = [news.Translation(language="uk", title="Кава"), news.Translation(language="ar", title="قديم")]
    values = posted(**{"translation__language": "AR", "translation__title": "مقهى"})
    assert translations_of(values, others) == [
        {"language": "ar", "title": "مقهى", "summary": "", "body": ""},
        {"language": "uk", "title": "Кава", "summary": "", "body": ""}]
    assert translations_of(posted(), others) == [t.model_dump() for t in others]


def test_a_funding_programme_from_the_form():
    values = posted(title="Fonds", **{"funding__funder": "Land", "funding__deadline": "2027-03-31",
                                      "funding__amountMax": "5.000 €"})
    funding = content_of(values, "funding-programme", None, [])["funding"]
    assert (funding["funder"], funding["deadline"], funding["amount_max"]) == ("Land", date(2027, 3, 31), "5000")
    assert news.FundingDetails.model_validate(funding).amount_max == 5000


def test_a_time_to_publish_is_read_in_lotses_zone():
    assert publish_time("2027-01-05T09:00").utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    assert publish_time("2027-07-05T09:00").utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    assert publish_time("soon") == "soon"


def test_a_conflict_names_only_what_differs():
    saved = item_values(item(title="Sprachcafé"), None)
    yours = dict(saved, title="Sprachcafé am Dienstag", topics=list(reversed(saved["topics"])))
    assert [(d.field, d.saved, d.yours) for d in differences(saved, yours)] == [
        ("title", "Sprachcafé", "Sprachcafé am Dienstag")]


def test_cancelling_one_date_and_taking_it_back_keeps_the_other_changes():
    from datetime import timedelta

    from gateway.web.publishing import with_date

    event = item(kind="event").event
    assert event is not None
    first = datetime(2027, 1, 5, 16, 0)
    moved = news.OccurrenceChange(occurrence=first + timedelta(weeks=2), starts_at=first + timedelta(weeks=2, days=1),
                                  ends_at=first + timedelta(weeks=2, days=1, hours=2))
    event = event.model_copy(update={"recurrence": "FREQ=WEEKLY;UNTIL=20270301", "changed_occurrences": [moved]})
    cancelled = with_date(event, first + timedelta(weeks=1), True)
    assert [(c["occurrence"], c["cancelled"]) for c in cancelled["changed_occurrences"]] == [
        (first + timedelta(weeks=2), False), (first + timedelta(weeks=1), True)]
    restored = with_date(event.model_copy(update={"changed_occurrences": [
        news.OccurrenceChange(**cancelled["changed_occurrences"][1]), moved]}), first + timedelta(weeks=1), False)
    assert restored["changed_occurrences"] == [moved.model_dump()]
