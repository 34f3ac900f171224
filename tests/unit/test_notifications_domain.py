"""Notifications' pure rules: one recipient per person with every reason, stable buckets, and
digest periods in Berlin wall time across both DST switches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from proto import notifications as api
from services.notifications import domain
from services.notifications.domain import Match, SubscriberState


def test_one_recipient_per_person_with_every_reason_and_the_most_immediate_cadence():
    matches = [
        Match("anna", "f1", api.FollowTarget(region="10041"), "daily", "Regionalverband Saarbrücken"),
        Match("anna", "f2", api.FollowTarget(actor="a-1"), "immediate", "Migrationsberatung"),
        Match("ben", "f3", api.FollowTarget(topic="employment"), "off", "Arbeit"),
        Match("owner", "f4", api.FollowTarget(actor="a-1"), "immediate", "Migrationsberatung"),
    ]
    people = domain.recipients("event-1", matches, skip=["owner"])
    assert [(p.account_id, p.email, p.follow_id, len(p.reasons)) for p in people] == [
        ("anna", "immediate", "f2", 2), ("ben", "off", None, 1)]
    again = domain.recipients("event-1", reversed(matches), skip=["owner"])
    assert [p.notification_id for p in again] == [p.notification_id for p in people]  # a repeat is the same


def test_an_account_always_falls_in_the_same_bucket():
    people = domain.recipients("e", [Match(f"acc-{n}", f"f{n}", api.FollowTarget(kind="event"), "off", "x")
                                     for n in range(500)])
    first = domain.buckets("e", people)
    second = domain.buckets("e", list(reversed(people)))
    assert {d: sorted(r.account_id for r in rs) for d, rs in first} == {
        d: sorted(r.account_id for r in rs) for d, rs in second}
    assert len(first) <= domain.BUCKETS and sum(len(rs) for _, rs in first) == 500


@pytest.mark.parametrize(("now", "period", "due"), [
    # Spring forward (29 March 2026): 02:00 does not exist; it is read as 03:00 CEST = 01:00 UTC.
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03-29", datetime(2026, 3, 29, 1, tzinfo=UTC)),
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "2026-03-28", datetime(2026, 3, 28, 1, tzinfo=UTC)),
    # Fall back (25 October 2026): 02:00 comes twice; the first (CEST, 00:00 UTC) counts.
    (datetime(2026, 10, 25, 0, 10, tzinfo=UTC), "2026-10-25", datetime(2026, 10, 25, 0, tzinfo=UTC)),
])
def test_daily_periods_follow_berlin_wall_time(now, period, due):
    slot = domain.digest_slot(now, api.MailSettings(digest_hour=2), "daily")
    assert (slot.period, slot.due_at) == (period, due)


def test_the_weekly_period_is_the_iso_week_of_the_persons_weekday():
    settings = api.MailSettings(digest_hour=8, digest_weekday="friday")
    before = domain.digest_slot(datetime(2026, 4, 3, 5, tzinfo=UTC), settings, "weekly")  # Friday 07:00 CEST
    after = domain.digest_slot(datetime(2026, 4, 3, 6, 1, tzinfo=UTC), settings, "weekly")
    assert (before.period, after.period) == ("2026-W13", "2026-W14")
    assert after.due_at == datetime(2026, 4, 3, 6, tzinfo=UTC)


def test_a_default_follow_never_overrides_what_the_person_chose():
    state = SubscriberState("anna")
    chosen = domain.decide_follow(state, api.FollowRequest(target=api.FollowTarget(region="10041"), email="off"),
                                  follow_id="mine")
    state = domain.evolve(state, chosen, version=1, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert domain.decide_follow(state, api.FollowRequest(target=api.FollowTarget(region="10041")),
                                follow_id="default", automatic=True) is None
    with pytest.raises(Exception) as foreign:
        domain.decide_update_follow(state, "someone-elses", "daily")
    assert getattr(foreign.value, "field", None) == "followId"
