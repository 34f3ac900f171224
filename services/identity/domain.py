"""Identity's rules, without I/O: who may register, sign in, reset, change what.

State comes from the view, time and fresh token hashes come from the caller; each
`decide_*` returns the one event that records the whole change, or raises.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from zxcvbn import zxcvbn

from proto.envelope import Event
from proto.errors import Forbidden, Invalid, Unauthenticated
from proto.identity import (
    AccountDeleted,
    AccountRegistered,
    AllSessionsEnded,
    ConfirmationIssued,
    DataExportOpened,
    DataExportRequested,
    EmailConfirmed,
    PasswordChanged,
    PasswordReset,
    PasswordResetIssued,
    ProfileUpdated,
    Role,
    RoleChanged,
    SessionEnded,
    SessionRotated,
    SessionStarted,
)
from proto.privacy import ErasureBlocker

CONFIRMATION_VALIDITY = timedelta(hours=72)
RESET_VALIDITY = timedelta(minutes=60)
ADMIN_SETUP_VALIDITY = timedelta(hours=72)
REFRESH_TOKEN_VALIDITY = timedelta(days=30)
DATA_EXPORT_VALIDITY = timedelta(hours=24)  # the mailed link
EXPORT_CREDENTIAL_VALIDITY = timedelta(minutes=2)  # the opened link's credential: one gathering
DEAD_EXPORT_LINK = "this link is not valid (any more): it expired, was used, or a newer one was sent"

PASSWORD_MIN = 12
PASSWORD_MAX = 1024
# zxcvbn's cost grows with length; beyond this many characters a password is strong by
# length alone, so only its start is rated.
RATED_PREFIX = 72  # zxcvbn refuses longer input by default
MIN_STRENGTH = 3  # zxcvbn score 0–4; 3 is "safely unguessable: moderate protection"

USERNAME = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{1,30})[a-z0-9]$")


# ---- normalisation -------------------------------------------------------------------

def username_key(username: str) -> str:
    """Usernames compare trimmed and case-insensitively."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def email_key(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold()


def identifier_key(identifier: str) -> str:
    """A sign-in identifier is a username or an email; both fold the same way."""
    return unicodedata.normalize("NFKC", identifier).strip().casefold()


def looks_like_email(identifier: str) -> bool:
    return "@" in identifier


# ---- checks --------------------------------------------------------------------------

def check_username(username: str) -> str:
    key = username_key(username)
    if not USERNAME.match(key):
        raise Invalid(
            "use 3 to 32 letters a–z, digits, dots, hyphens or underscores, "
            "starting and ending with a letter or digit",
            "username",
        )
    return username.strip()


def check_password(password: str, *, field_name: str, username: str, email: str,
                   other_inputs: tuple[str, ...] = ()) -> None:
    """Length, and not guessable — no composition rules (NIST SP 800-63B)."""
    length = len(password)
    if length < PASSWORD_MIN:
        raise Invalid(f"use at least {PASSWORD_MIN} characters", field_name)
    if length > PASSWORD_MAX:
        raise Invalid(f"use at most {PASSWORD_MAX} characters", field_name)
    folded = password.casefold()
    local_part = email.split("@", 1)[0].casefold()
    for personal in (username.casefold(), email.casefold(), local_part):
        if len(personal) >= 3 and personal in folded:
            raise Invalid("the password must not contain your username or email address", field_name)
    rating = zxcvbn(password[:RATED_PREFIX], user_inputs=[username, email, *other_inputs], max_length=RATED_PREFIX)
    if rating["score"] < MIN_STRENGTH:
        hint = (rating.get("feedback") or {}).get("warning") or ""
        message = "this password is too easy to guess; a few unrelated words make a strong one"
        raise Invalid(f"{message}{' (' + hint.rstrip('.') + ')' if hint else ''}", field_name)


# ---- state ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    id: str
    token_hash: str
    expires_at: datetime
    ended: bool


@dataclass(frozen=True)
class AccountState:
    id: str
    username: str
    email: str
    display_name: str
    locale: str
    role: Role
    password_hash: str | None
    email_confirmed: bool
    pending_email: str | None
    confirm_hash: str | None
    confirm_expires: datetime | None
    reset_hash: str | None
    reset_expires: datetime | None
    created_at: datetime
    version: int
    sessions: dict[str, Session] = field(default_factory=dict)
    # The session that asked for `pending_email`; it stays signed in when that is confirmed.
    email_change_session: str | None = None
    # The newest data-export link, until it is used or expires.
    export_hash: str | None = None
    export_expires: datetime | None = None


# ---- decisions -----------------------------------------------------------------------

def decide_register(*, account_id: str, username: str, email: str, display_name: str, locale: str,
                    password_hash: str | None, role: Role, token_hash: str | None,
                    now: datetime) -> AccountRegistered:
    return AccountRegistered(
        account_id=account_id,
        username=username,
        email=email_key(email),
        display_name=display_name,
        locale=locale,
        role=role,
        password_hash=password_hash,
        confirm_token_hash=token_hash,
        confirm_expires_at=now + CONFIRMATION_VALIDITY if token_hash else None,
    )


def decide_issue_confirmation(state: AccountState, *, email: str, token_hash: str, now: datetime,
                              session_id: str | None = None) -> ConfirmationIssued:
    """A new link for the current address (resend) or for a requested new one, asked for
    in `session_id`.

    Issuing replaces the previous link: only the newest works.
    """
    address = email_key(email)
    return ConfirmationIssued(email=address, token_hash=token_hash, expires_at=now + CONFIRMATION_VALIDITY,
                              session_id=session_id if address != state.email else None)


def decide_confirm_email(state: AccountState, *, token_hash: str, now: datetime) -> EmailConfirmed:
    """Confirming a new address ends every other session, as a password change does: the
    address is how the account is recovered, so whoever else is signed in is signed out.
    The session that asked for the change stays."""
    if state.confirm_hash != token_hash:
        raise Invalid("this link is not valid any more; ask for a new one", "token")
    if state.confirm_expires is None or state.confirm_expires <= now:
        raise Invalid("this link has expired; ask for a new one", "token")
    if state.pending_email is None:
        return EmailConfirmed(email=state.email)
    return EmailConfirmed(email=state.pending_email, ends_other_sessions=True,
                          kept_session_id=state.email_change_session)


def decide_request_reset(state: AccountState, *, token_hash: str, now: datetime,
                         validity: timedelta = RESET_VALIDITY) -> PasswordResetIssued:
    return PasswordResetIssued(token_hash=token_hash, expires_at=now + validity)


def decide_reset_password(state: AccountState, *, token_hash: str, password_hash: str,
                          now: datetime) -> PasswordReset:
    if state.reset_hash != token_hash:
        raise Invalid("this link is not valid any more; ask for a new one", "token")
    if state.reset_expires is None or state.reset_expires <= now:
        raise Invalid("this link has expired; ask for a new one", "token")
    return PasswordReset(password_hash=password_hash)


def decide_change_password(state: AccountState, *, password_hash: str,
                           kept_session_id: str | None) -> PasswordChanged:
    return PasswordChanged(password_hash=password_hash, kept_session_id=kept_session_id)


def decide_update_profile(state: AccountState, *, display_name: str | None,
                          locale: str | None) -> ProfileUpdated | None:
    new_name = display_name if display_name is not None else state.display_name
    new_locale = locale if locale is not None else state.locale
    if (new_name, new_locale) == (state.display_name, state.locale):
        return None
    return ProfileUpdated(display_name=new_name, locale=new_locale)


def decide_sign_in(state: AccountState, *, session_id: str, token_hash: str, now: datetime) -> SessionStarted:
    """Called after the password matched: an unconfirmed account is told to confirm."""
    if not state.email_confirmed:
        raise Forbidden(
            "please confirm your email address first; we can send the link again", "identifier"
        )
    return SessionStarted(session_id=session_id, token_hash=token_hash, expires_at=now + REFRESH_TOKEN_VALIDITY)


def live_session(state: AccountState, session_id: str, now: datetime) -> Session:
    session = state.sessions.get(session_id)
    if session is None or session.ended or session.expires_at <= now:
        raise Unauthenticated("this session has ended; sign in again", "refreshToken")
    return session


def decide_refresh(state: AccountState, *, session_id: str, presented_hash: str, new_hash: str,
                   now: datetime) -> SessionRotated | SessionEnded:
    """Rotate a refresh token; a token used twice ends the session (it may have been stolen)."""
    session = live_session(state, session_id, now)
    if session.token_hash != presented_hash:
        return SessionEnded(session_id=session_id)
    return SessionRotated(session_id=session_id, token_hash=new_hash, expires_at=now + REFRESH_TOKEN_VALIDITY)


def decide_sign_out(state: AccountState, *, session_id: str, presented_hash: str,
                    now: datetime) -> SessionEnded | None:
    session = state.sessions.get(session_id)
    if session is None or session.ended or session.token_hash != presented_hash:
        return None  # already out, or not this token's session: nothing to end
    return SessionEnded(session_id=session_id)


def decide_sign_out_everywhere(state: AccountState) -> AllSessionsEnded:
    return AllSessionsEnded()


def decide_request_export(state: AccountState, *, token_hash: str, now: datetime) -> DataExportRequested:
    """A new link replaces the previous one: only the newest works."""
    return DataExportRequested(token_hash=token_hash, expires_at=now + DATA_EXPORT_VALIDITY)


def decide_open_export(state: AccountState, *, token_hash: str, now: datetime) -> DataExportOpened:
    """Single use. Unknown, used, replaced and expired links are refused in the same words:
    the page must not tell anyone which links once worked."""
    if state.export_hash is None or state.export_hash != token_hash or (
            state.export_expires is None or state.export_expires <= now):
        raise Invalid(DEAD_EXPORT_LINK, "token")
    return DataExportOpened()


def decide_delete_account(state: AccountState) -> AccountDeleted:
    return AccountDeleted()


def erasure_blocker(state: AccountState, *, admins: int) -> ErasureBlocker | None:
    """The platform must keep an administrator: the last one hands the role on first."""
    if state.role == "admin" and admins <= 1:
        return ErasureBlocker(message="you are the only platform administrator; make someone else "
                                      "administrator before you delete your account")
    return None


def decide_set_role(state: AccountState, *, role: Role, by_account_id: str) -> RoleChanged | None:
    if state.id == by_account_id and role != "admin":
        raise Forbidden("you cannot remove your own administrator role", "role")
    if state.role == role:
        return None
    return RoleChanged(role=role)


# ---- evolving ------------------------------------------------------------------------

def _end_sessions(state: AccountState, keep: str | None = None) -> dict[str, Session]:
    return {sid: s if sid == keep else replace(s, ended=True) for sid, s in state.sessions.items()}


def _live(sessions: dict[str, Session], at: datetime) -> dict[str, Session]:
    """Ended and expired sessions decide nothing any more (an unknown session is refused
    as an ended one is), so the state keeps only the live ones."""
    return {sid: s for sid, s in sessions.items() if not s.ended and s.expires_at > at}


def evolve(state: AccountState | None, event: Event, *, version: int, at: datetime) -> AccountState | None:
    """The account after `event` (stream sequence `version`, appended at `at`); None once it
    is erased. A view rebuilt after an erasure sees the tombstone alone, on no account."""
    if isinstance(event, AccountDeleted):
        return None
    if isinstance(event, AccountRegistered):
        return AccountState(
            id=event.account_id, username=event.username, email=email_key(event.email),
            display_name=event.display_name, locale=event.locale, role=event.role,
            password_hash=event.password_hash, email_confirmed=False, pending_email=None,
            confirm_hash=event.confirm_token_hash, confirm_expires=event.confirm_expires_at,
            reset_hash=None, reset_expires=None, created_at=at, version=version,
        )
    if state is None:
        raise ValueError(f"{event.TYPE} for an account that was never registered")
    sessions = state.sessions
    match event:
        case ConfirmationIssued():
            # A link for another address than the current one is an email change.
            state = replace(state, pending_email=None if event.email == state.email else event.email,
                            confirm_hash=event.token_hash, confirm_expires=event.expires_at,
                            email_change_session=event.session_id)
        case EmailConfirmed():
            state = replace(state, email=event.email, email_confirmed=True, pending_email=None,
                            confirm_hash=None, confirm_expires=None, email_change_session=None)
            if event.ends_other_sessions:
                sessions = _end_sessions(state, keep=event.kept_session_id)
        case PasswordResetIssued():
            state = replace(state, reset_hash=event.token_hash, reset_expires=event.expires_at)
        case PasswordReset():
            # The link reached the account's mailbox: that confirms the address as well.
            state = replace(state, password_hash=event.password_hash, reset_hash=None, reset_expires=None,
                            email_confirmed=True)
            sessions = _end_sessions(state)
        case PasswordChanged():
            state = replace(state, password_hash=event.password_hash, reset_hash=None, reset_expires=None)
            sessions = _end_sessions(state, keep=event.kept_session_id)
        case ProfileUpdated():
            state = replace(state, display_name=event.display_name, locale=event.locale)
        case RoleChanged():
            state = replace(state, role=event.role)
        case SessionStarted() | SessionRotated():
            sessions = {**sessions, event.session_id: Session(event.session_id, event.token_hash,
                                                              event.expires_at, ended=False)}
        case SessionEnded():
            sessions = {sid: replace(s, ended=True) if sid == event.session_id else s for sid, s in sessions.items()}
        case AllSessionsEnded():
            sessions = _end_sessions(state)
        case DataExportRequested():
            state = replace(state, export_hash=event.token_hash, export_expires=event.expires_at)
        case DataExportOpened():
            state = replace(state, export_hash=None, export_expires=None)
        case _:
            raise ValueError(f"no rule for {event.TYPE}")
    return replace(state, sessions=_live(sessions, at), version=version)


# ---- revocation: what an event makes unusable before it expires ------------------------

@dataclass(frozen=True)
class Revocation:
    """Access tokens an event voids at once (refresh tokens end with the event itself).

    `sessions`: every access token of these sessions. `issued_up_to`: every access token
    issued from the account at this version or before (the `ver` claim), in any session.
    """

    sessions: frozenset[str] = frozenset()
    issued_up_to: int | None = None


def live_sessions(state: AccountState, now: datetime, *, keep: str | None = None) -> frozenset[str]:
    """Sessions that may still hold an unexpired access token: not ended, refreshable.

    A session whose refresh token expired last issued an access token 30 days ago."""
    return frozenset(s.id for s in state.sessions.values() if not s.ended and s.expires_at > now and s.id != keep)


def revocation(state: AccountState, event: Event, now: datetime) -> Revocation | None:
    """What `event`, decided on `state`, voids; None when it voids nothing.

    Decided before the event is appended (services/identity/service.py writes it first),
    so `state.version` is the account's version before the event: every token issued so
    far carries it or a lower one, every token issued after the event a higher one.
    """
    match event:
        case AccountDeleted():
            # Every token the account ever had, data-export credentials included (they
            # belong to no session, so this is needed even without a live one).
            return Revocation(issued_up_to=state.version)
        case SessionEnded():
            # a sign-out, or a refresh token presented twice
            return Revocation(sessions=frozenset({event.session_id}))
        case AllSessionsEnded() | PasswordReset() | RoleChanged():
            # After a role change sessions go on (a refreshed token carries the new role);
            # tokens with the old one do not. Without a live session there is no unexpired
            # token to void: a session ended earlier was revoked when it ended.
            return Revocation(issued_up_to=state.version) if live_sessions(state, now) else None
        case PasswordChanged():
            ended = live_sessions(state, now, keep=event.kept_session_id)
            return Revocation(sessions=ended) if ended else None
        case EmailConfirmed() if event.ends_other_sessions:
            ended = live_sessions(state, now, keep=event.kept_session_id)
            return Revocation(sessions=ended) if ended else None
    return None
