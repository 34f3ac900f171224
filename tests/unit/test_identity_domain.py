"""Identity's rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proto.errors import Forbidden, Invalid, Unauthenticated
from proto.identity import (
    AllSessionsEnded, EmailConfirmed, PasswordChanged, PasswordReset, ProfileUpdated, RoleChanged, SessionEnded,
    SessionRotated, SessionStarted,
)
from services.identity import domain
from services.identity.domain import AccountState, Session
from services.identity.throttle import ACCOUNT, ADDRESS, LOCK_MAX, lock_after

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def account(**changes) -> AccountState:
    base = dict(
        id="01J0000000000000000000ACCT", username="Lena.K", email="lena@example.org", display_name="Lena",
        locale="de", role="member", password_hash="$argon2id$…", email_confirmed=True, pending_email=None,
        confirm_hash=None, confirm_expires=None, reset_hash=None, reset_expires=None, created_at=NOW,
        version=7, sessions={},
    )
    base.update(changes)
    return AccountState(**base)


class TestPasswords:
    def check(self, password: str) -> None:
        domain.check_password(password, field_name="password", username="lena.k", email="lena@example.org")

    def test_a_long_passphrase_passes(self):
        self.check("Fahrrad Ampel Wolke 42 Sommer")

    def test_any_unicode_is_allowed(self):
        self.check("Çay içmek güzel, ağaçlar yeşil 🌳")

    @pytest.mark.parametrize("password", ["kurz", "elevenchars"])
    def test_fewer_than_twelve_characters_are_refused(self, password):
        with pytest.raises(Invalid) as e:
            self.check(password)
        assert e.value.field == "password" and "12" in e.value.message

    def test_more_than_1024_characters_are_refused(self):
        with pytest.raises(Invalid, match="1024"):
            self.check("x7!Qz" * 205)

    def test_1024_characters_are_allowed(self):
        self.check(("Wolke Ampel Sommer 42 " * 47)[:1024])

    @pytest.mark.parametrize("password", ["passwort1234", "123456789012", "qwertzuiopasdf"])
    def test_weak_passwords_are_refused(self, password):
        with pytest.raises(Invalid, match="too easy to guess"):
            self.check(password)

    @pytest.mark.parametrize("password", ["my name is LENA.K and I ride", "lena@example.org is mine!!"])
    def test_passwords_containing_username_or_email_are_refused(self, password):
        with pytest.raises(Invalid, match="username or email"):
            self.check(password)

    def test_the_field_is_named_as_the_caller_says(self):
        with pytest.raises(Invalid) as e:
            domain.check_password("short", field_name="newPassword", username="x", email="x@y.z")
        assert e.value.field == "newPassword"


class TestUsernames:
    @pytest.mark.parametrize("name", ["ab", "-lena", "lena-", "lena k", "lena<script>", "a" * 33, "łena"])
    def test_bad_usernames_name_the_field(self, name):
        with pytest.raises(Invalid) as e:
            domain.check_username(name)
        assert e.value.field == "username"

    def test_usernames_compare_case_insensitively_and_trimmed(self):
        assert domain.username_key("  Lena.K ") == domain.username_key("lena.k")
        assert domain.identifier_key(" LENA@Example.ORG ") == "lena@example.org"


class TestLinks:
    def test_a_confirmation_link_works_once_and_until_it_expires(self):
        state = account(email_confirmed=False, confirm_hash="h1", confirm_expires=NOW + timedelta(hours=1))
        assert domain.decide_confirm_email(state, token_hash="h1", now=NOW) == EmailConfirmed(email="lena@example.org")
        with pytest.raises(Invalid, match="expired"):
            domain.decide_confirm_email(state, token_hash="h1", now=NOW + timedelta(hours=1))
        with pytest.raises(Invalid, match="not valid"):
            domain.decide_confirm_email(state, token_hash="older", now=NOW)

    def test_confirming_a_pending_address_moves_the_account_to_it(self):
        state = account(pending_email="new@example.org", confirm_hash="h", confirm_expires=NOW + timedelta(hours=1))
        assert domain.decide_confirm_email(state, token_hash="h", now=NOW).email == "new@example.org"

    def test_a_reset_link_is_valid_sixty_minutes(self):
        issued = domain.decide_request_reset(account(), token_hash="r", now=NOW)
        assert issued.expires_at == NOW + timedelta(minutes=60)
        state = account(reset_hash="r", reset_expires=issued.expires_at)
        domain.decide_reset_password(state, token_hash="r", password_hash="new", now=NOW + timedelta(minutes=59))
        with pytest.raises(Invalid, match="expired"):
            domain.decide_reset_password(state, token_hash="r", password_hash="new", now=NOW + timedelta(minutes=60))


class TestSessions:
    def test_an_unconfirmed_account_is_told_to_confirm(self):
        with pytest.raises(Forbidden, match="confirm"):
            domain.decide_sign_in(account(email_confirmed=False), session_id="s", token_hash="t", now=NOW)

    def test_refresh_rotates_and_a_reused_token_ends_the_session(self):
        session = Session("s1", "current", NOW + timedelta(days=1), ended=False)
        state = account(sessions={"s1": session})
        rotated = domain.decide_refresh(state, session_id="s1", presented_hash="current", new_hash="next", now=NOW)
        assert isinstance(rotated, SessionRotated) and rotated.token_hash == "next"
        reused = domain.decide_refresh(state, session_id="s1", presented_hash="older", new_hash="x", now=NOW)
        assert reused == SessionEnded(session_id="s1")

    @pytest.mark.parametrize("session", [
        Session("s1", "t", NOW - timedelta(seconds=1), ended=False),
        Session("s1", "t", NOW + timedelta(days=1), ended=True),
    ])
    def test_an_expired_or_ended_session_cannot_refresh(self, session):
        with pytest.raises(Unauthenticated):
            domain.decide_refresh(account(sessions={"s1": session}), session_id="s1", presented_hash="t",
                                  new_hash="n", now=NOW)

    def test_an_admin_cannot_drop_their_own_role(self):
        me = account(role="admin")
        with pytest.raises(Forbidden):
            domain.decide_set_role(me, role="member", by_account_id=me.id)
        assert domain.decide_set_role(me, role="admin", by_account_id=me.id) is None


def live(session_id: str) -> Session:
    return Session(session_id, "t", NOW + timedelta(days=30), ended=False)


class TestRevocation:
    """Which access tokens an event voids at once (the rest expire within 15 minutes)."""

    sessions = {"here": live("here"), "there": live("there"), "old": Session("old", "t", NOW + timedelta(days=3), True),
             "stale": Session("stale", "t", NOW - timedelta(seconds=1), ended=False)}

    def test_a_sign_out_voids_that_session_only(self):
        voided = domain.revocation(account(sessions=self.sessions), SessionEnded(session_id="there"), NOW)
        assert voided == domain.Revocation(sessions=frozenset({"there"}))

    @pytest.mark.parametrize("event", [AllSessionsEnded(), PasswordReset(password_hash="h"), RoleChanged(role="admin")])
    def test_sign_out_everywhere_a_reset_and_a_role_change_void_every_token_issued_so_far(self, event):
        voided = domain.revocation(account(version=41, sessions=self.sessions), event, NOW)
        # Up to the version the event was decided on: a token issued after it carries a higher one.
        assert voided == domain.Revocation(issued_up_to=41)

    @pytest.mark.parametrize("event", [AllSessionsEnded(), PasswordReset(password_hash="h"), RoleChanged(role="admin")])
    def test_without_a_live_session_there_is_nothing_to_void(self, event):
        only_old = {k: v for k, v in self.sessions.items() if k in ("old", "stale")}
        assert domain.revocation(account(sessions=only_old), event, NOW) is None

    def test_a_password_change_voids_the_other_live_sessions(self):
        voided = domain.revocation(account(sessions=self.sessions),
                                   PasswordChanged(password_hash="h", kept_session_id="here"), NOW)
        # Not the ended one (revoked when it ended), not the one whose refresh token expired.
        assert voided == domain.Revocation(sessions=frozenset({"there"}))

    def test_a_password_change_from_the_only_session_voids_nothing(self):
        event = PasswordChanged(password_hash="h", kept_session_id="here")
        assert domain.revocation(account(sessions={"here": live("here")}), event, NOW) is None

    def test_a_confirmed_new_address_voids_every_session_but_the_one_that_asked(self):
        state = account(sessions=self.sessions, pending_email="new@example.org", email_change_session="there",
                        confirm_hash="h", confirm_expires=NOW + timedelta(hours=1))
        confirmed = domain.decide_confirm_email(state, token_hash="h", now=NOW)
        assert confirmed == EmailConfirmed(email="new@example.org", ends_other_sessions=True, kept_session_id="there")
        assert domain.revocation(state, confirmed, NOW) == domain.Revocation(sessions=frozenset({"here"}))

    def test_a_first_confirmation_voids_nothing(self):
        state = account(email_confirmed=False, confirm_hash="h", confirm_expires=NOW + timedelta(hours=1))
        confirmed = domain.decide_confirm_email(state, token_hash="h", now=NOW)
        assert confirmed.ends_other_sessions is False
        assert domain.revocation(state, confirmed, NOW) is None

    @pytest.mark.parametrize("event", [
        SessionStarted(session_id="new", token_hash="t", expires_at=NOW),
        SessionRotated(session_id="here", token_hash="t", expires_at=NOW),
        ProfileUpdated(display_name="Lena", locale="en"),
    ])
    def test_other_events_void_nothing(self, event):
        assert domain.revocation(account(sessions=self.sessions), event, NOW) is None

    def test_only_a_link_for_a_new_address_remembers_the_session_that_asked(self):
        state = account()
        new = domain.decide_issue_confirmation(state, email="New@Example.org", token_hash="h", now=NOW,
                                               session_id="here")
        resent = domain.decide_issue_confirmation(state, email=state.email, token_hash="h", now=NOW,
                                                  session_id="here")
        assert (new.session_id, resent.session_id) == ("here", None)


class TestThrottle:
    def test_locks_start_after_five_account_failures_and_grow_to_fifteen_minutes(self):
        assert [lock_after(n, ACCOUNT).total_seconds() for n in range(1, 8)] == [0, 0, 0, 0, 30, 60, 120]
        assert lock_after(50, ACCOUNT) == LOCK_MAX == timedelta(minutes=15)

    def test_a_client_address_gets_more_room_than_an_account(self):
        assert lock_after(19, ADDRESS) == timedelta()
        assert lock_after(20, ADDRESS) == timedelta(seconds=30)


class TestEvolve:
    """What each event means for the account: the view stores exactly this."""

    def registered(self) -> AccountState:
        from proto.identity import AccountRegistered

        event = AccountRegistered(
            account_id="01J0000000000000000000ACCT", username="Lena.K", email="Lena@Example.org",
            display_name="Lena", locale="de", role="member", password_hash="h1",
            confirm_token_hash="c1", confirm_expires_at=NOW + timedelta(hours=72),
        )
        return domain.evolve(None, event, version=1, at=NOW)

    def test_registration_starts_unconfirmed_with_the_folded_address(self):
        state = self.registered()
        assert (state.email, state.email_confirmed, state.confirm_hash, state.version) == (
            "lena@example.org", False, "c1", 1)
        assert state.created_at == NOW

    def test_a_link_for_another_address_is_a_pending_change_and_confirming_moves_the_address(self):
        from proto.identity import ConfirmationIssued

        state = domain.evolve(self.registered(), EmailConfirmed(email="lena@example.org"), version=2, at=NOW)
        issued = ConfirmationIssued(email="new@example.org", token_hash="c2", expires_at=NOW + timedelta(hours=1))
        state = domain.evolve(state, issued, version=3, at=NOW)
        assert (state.email, state.pending_email, state.confirm_hash) == ("lena@example.org", "new@example.org", "c2")
        state = domain.evolve(state, EmailConfirmed(email="new@example.org"), version=4, at=NOW)
        assert (state.email, state.pending_email, state.confirm_hash, state.version) == (
            "new@example.org", None, None, 4)

    def test_sessions_start_rotate_and_end_and_ended_ones_are_dropped(self):
        from proto.identity import AllSessionsEnded, PasswordChanged, SessionStarted

        later = NOW + timedelta(days=30)
        state = self.registered()
        for n, sid in enumerate(("S1", "S2", "S3"), start=2):
            state = domain.evolve(state, SessionStarted(session_id=sid, token_hash=f"t{sid}", expires_at=later),
                                  version=n, at=NOW)
        state = domain.evolve(state, SessionRotated(session_id="S1", token_hash="t1b", expires_at=later),
                              version=5, at=NOW)
        assert state.sessions["S1"].token_hash == "t1b"
        state = domain.evolve(state, SessionEnded(session_id="S2"), version=6, at=NOW)
        assert set(state.sessions) == {"S1", "S3"}
        state = domain.evolve(state, PasswordChanged(password_hash="h2", kept_session_id="S3"), version=7, at=NOW)
        assert set(state.sessions) == {"S3"} and state.password_hash == "h2"
        state = domain.evolve(state, AllSessionsEnded(), version=8, at=NOW)
        assert state.sessions == {}

    def test_a_session_past_its_expiry_is_dropped_by_the_next_event(self):
        from proto.identity import ProfileUpdated, SessionStarted

        state = domain.evolve(self.registered(), SessionStarted(
            session_id="S1", token_hash="t", expires_at=NOW + timedelta(minutes=5)), version=2, at=NOW)
        state = domain.evolve(state, ProfileUpdated(display_name="Lena K.", locale="en"), version=3,
                              at=NOW + timedelta(minutes=6))
        assert state.sessions == {} and (state.display_name, state.locale) == ("Lena K.", "en")

    def test_a_reset_confirms_the_address_and_ends_every_session(self):
        from proto.identity import PasswordReset, PasswordResetIssued, SessionStarted

        state = domain.evolve(self.registered(), SessionStarted(
            session_id="S1", token_hash="t", expires_at=NOW + timedelta(days=1)), version=2, at=NOW)
        state = domain.evolve(state, PasswordResetIssued(token_hash="r", expires_at=NOW + timedelta(hours=1)),
                              version=3, at=NOW)
        assert state.reset_hash == "r"
        state = domain.evolve(state, PasswordReset(password_hash="h3"), version=4, at=NOW)
        assert (state.email_confirmed, state.reset_hash, state.sessions, state.password_hash) == (True, None, {}, "h3")

    def test_an_event_for_an_account_never_registered_is_refused(self):
        with pytest.raises(ValueError):
            domain.evolve(None, EmailConfirmed(email="x@example.org"), version=1, at=NOW)


class TestPersonalData:
    """A data-export link works once and only until it expires; an erased account is no
    state at all, and every token it had is void."""

    def with_link(self, token_hash: str = "x1") -> AccountState:
        issued = domain.decide_request_export(account(), token_hash=token_hash, now=NOW)
        assert issued.expires_at == NOW + timedelta(hours=24)
        state = domain.evolve(account(), issued, version=8, at=NOW)
        assert (state.export_hash, state.export_expires) == (token_hash, NOW + timedelta(hours=24))
        return state

    def test_the_link_opens_once(self):
        state = self.with_link()
        opened = domain.decide_open_export(state, token_hash="x1", now=NOW + timedelta(hours=23))
        state = domain.evolve(state, opened, version=9, at=NOW)
        assert state.export_hash is None
        with pytest.raises(Invalid) as used:
            domain.decide_open_export(state, token_hash="x1", now=NOW)
        assert (used.value.field, used.value.message) == ("token", domain.DEAD_EXPORT_LINK)

    def test_unknown_replaced_and_expired_links_are_refused_in_the_same_words(self):
        newer = domain.evolve(self.with_link("x1"), domain.decide_request_export(
            account(), token_hash="x2", now=NOW), version=9, at=NOW)
        refusals = []
        for state, token_hash, at in ((self.with_link(), "guess", NOW), (newer, "x1", NOW),
                                      (self.with_link(), "x1", NOW + timedelta(hours=24)), (account(), "x1", NOW)):
            with pytest.raises(Invalid) as e:
                domain.decide_open_export(state, token_hash=token_hash, now=at)
            refusals.append((e.value.code, e.value.field, e.value.message))
        assert len(set(refusals)) == 1
        domain.decide_open_export(newer, token_hash="x2", now=NOW)  # the newest one works

    def test_an_erased_account_is_no_state_and_a_rebuilt_view_sees_only_its_tombstone(self):
        from proto.identity import AccountDeleted

        assert domain.evolve(account(), domain.decide_delete_account(account()), version=9, at=NOW) is None
        assert domain.evolve(None, AccountDeleted(), version=1, at=NOW) is None

    def test_erasing_voids_every_token_even_without_a_live_session(self):
        # Export credentials belong to no session: the cutoff is written all the same.
        voided = domain.revocation(account(version=12), domain.decide_delete_account(account()), NOW)
        assert voided == domain.Revocation(issued_up_to=12)

    def test_the_only_administrator_hands_the_role_on_before_leaving(self):
        blocker = domain.erasure_blocker(account(role="admin"), admins=1)
        assert blocker is not None and "only platform administrator" in blocker.message
        assert domain.erasure_blocker(account(role="admin"), admins=2) is None
        assert domain.erasure_blocker(account(role="member"), admins=1) is None
