"""The revocation list as every verifier holds it: which tokens it refuses, from the entries
identity writes (services/kernel/revocations.py), and who hears of a new one."""

from __future__ import annotations

from datetime import timedelta

from nats.js.kv import KeyValue

from proto import subjects
from proto.identity import REVOCATION_RETENTION, RevokedSession, RevokedTokens
from services.kernel.clock import Clock
from services.kernel.revocations import RevocationList

ANNA, BEN = "01J000000000000000000ANNA0", "01J0000000000000000000BEN0"


def entry(key: str, value: bytes | None, operation: str | None = None, revision: int = 1) -> KeyValue.Entry:
    return KeyValue.Entry(bucket=subjects.KV_REVOCATIONS, key=key, value=value, revision=revision, delta=0,
                          created=None, operation=operation)


def ended(clock: Clock, session_id: str, account_id: str = ANNA) -> KeyValue.Entry:
    value = RevokedSession(account_id=account_id, until=clock.now() + REVOCATION_RETENTION)
    return entry(subjects.revoked_session_key(session_id), value.model_dump_json().encode())


def cutoff(clock: Clock, version: int, account_id: str = ANNA) -> KeyValue.Entry:
    value = RevokedTokens(issued_up_to=version, until=clock.now() + REVOCATION_RETENTION)
    return entry(subjects.revoked_tokens_key(account_id), value.model_dump_json().encode())


def test_an_ended_session_refuses_its_tokens_and_no_other_sessions():
    clock = Clock()
    revoked = RevocationList(clock)
    revoked.apply(ended(clock, "s-phone"))
    assert revoked.refuses(ANNA, "s-phone", 10)
    assert not revoked.refuses(ANNA, "s-laptop", 10)
    assert not revoked.refuses(BEN, "s-other", 10)


def test_a_cutoff_refuses_tokens_up_to_its_version_in_every_session_of_that_account():
    clock = Clock()
    revoked = RevocationList(clock)
    revoked.apply(cutoff(clock, 41))
    assert revoked.refuses(ANNA, "s-phone", 41) and revoked.refuses(ANNA, "s-laptop", 3)
    assert revoked.refuses(ANNA, None, 0)  # a token from before the `ver` claim existed
    assert not revoked.refuses(ANNA, "s-phone", 42)  # issued after the change, even in the same second
    assert not revoked.refuses(BEN, "s-other", 1)


def test_a_lower_cutoff_arriving_late_does_not_lift_a_higher_one():
    clock = Clock()
    revoked = RevocationList(clock)
    revoked.apply(cutoff(clock, 50))
    revoked.apply(cutoff(clock, 41))
    assert revoked.refuses(ANNA, "s", 45)


def test_entries_refuse_nothing_once_every_token_they_name_has_expired():
    clock = Clock()
    revoked = RevocationList(clock)
    revoked.apply(ended(clock, "s-phone"))
    revoked.apply(cutoff(clock, 41))
    clock.advance(REVOCATION_RETENTION + timedelta(seconds=1))
    assert not revoked.refuses(ANNA, "s-phone", 1)
    revoked.apply(ended(clock, "s-later", BEN))  # the next entry prunes what expired
    assert len(revoked) == 1


def test_a_deleted_entry_is_taken_back_and_unknown_keys_are_ignored():
    clock = Clock()
    revoked = RevocationList(clock)
    revoked.apply(ended(clock, "s-phone"))
    revoked.apply(entry(subjects.revoked_session_key("s-phone"), None, operation="DEL", revision=2))
    assert not revoked.refuses(ANNA, "s-phone", 1)
    revoked.apply(entry("something.else.entirely", b"{}"))
    revoked.apply(entry(subjects.revoked_session_key("s-bad"), b"not json"))
    assert len(revoked) == 0


def test_listeners_hear_the_account_of_each_new_revocation():
    clock = Clock()
    revoked = RevocationList(clock)
    heard: list[str] = []
    stop = revoked.listen(heard.append)
    revoked.apply(ended(clock, "s-phone", BEN))
    revoked.apply(cutoff(clock, 7, ANNA))
    stop()
    revoked.apply(ended(clock, "s-laptop", BEN))
    assert heard == [BEN, ANNA]
