"""Notifications' contract: a follow's target is exactly one thing; settings stay in range."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from proto import notifications as api
from proto.validation import invalid_from


def test_a_follow_target_is_exactly_one_of_actor_topic_region_or_kind():
    assert api.FollowTarget(region="10041").type == "region"
    assert api.FollowTarget.of("topic", "employment").key == "employment"
    for given in ({}, {"actor": "a-1", "region": "10041"}):
        with pytest.raises(ValidationError) as refused:
            api.FollowTarget.model_validate(given)
        assert "exactly one of actor, topic, region or kind" in invalid_from(refused.value).message
    with pytest.raises(ValidationError) as wrong_kind:
        api.FollowRequest.model_validate({"target": {"kind": "recipe"}})
    assert invalid_from(wrong_kind.value).field == "target.kind"


def test_mail_settings_name_the_field_out_of_range():
    with pytest.raises(ValidationError) as late:
        api.UpdateMailSettings(digest_hour=24)
    assert invalid_from(late.value).field == "digestHour"
    with pytest.raises(ValidationError) as day:
        api.UpdateMailSettings.model_validate({"digest_weekday": "someday"})
    assert invalid_from(day.value).field == "digestWeekday"
    assert api.MailSettings() == api.MailSettings(paused=False, digest_hour=7, digest_weekday="monday")


def test_every_cadence_is_ordered_most_immediate_first():
    assert api.EMAIL_CADENCES[0] == "immediate" and api.EMAIL_CADENCES[-1] == "off"
    assert set(api.EMAIL_CADENCES) == set(api.EmailCadence.__args__)  # type: ignore[attr-defined]
