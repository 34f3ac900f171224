"""Identity's contract: accounts, sign-in, sessions, tokens, platform roles."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from proto.common import Accepted, Endpoint, Locale, Reply, Request
from proto.envelope import Event
from proto.privacy import PersonalDataContract

SERVICE = "identity"

Role = Literal["admin", "member"]
# A password is any Unicode text; the upper bound keeps hashing cost bounded.
Password = Annotated[str, Field(min_length=1, max_length=1024)]
Secret = Annotated[str, Field(min_length=1, max_length=512)]
Identifier = Annotated[str, Field(min_length=1, max_length=320)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


# ---- field groups --------------------------------------------------------------------

class AccountDetails(BaseModel):
    """An account's own fields, as registration records them and its owner reads them.
    (The `Register` request spells them with the checks people's input needs.)"""

    username: str
    email: str  # folded: compared as stored
    display_name: str
    locale: str
    role: Role


# ---- replies -------------------------------------------------------------------------

class Account(Reply, AccountDetails):
    """An account as its owner sees it."""

    id: str
    email_confirmed: bool
    pending_email: str | None = None
    created_at: datetime


class PublicProfile(Reply):
    """What other members see of an account."""

    id: str
    username: str
    display_name: str


class Profiles(Reply):
    profiles: list[PublicProfile]


class Session(Reply):
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    account: Account


class ViewerReply(Reply):
    account: Account | None


class DataExportGrant(Reply):
    """An opened data-export link: a credential for `export_personal_data` on every service
    that holds personal data (scope `proto.privacy.EXPORT_SCOPE`), valid for minutes."""

    account_id: str
    credential: str
    expires_at: datetime


# ---- requests ------------------------------------------------------------------------

class Register(Request):
    username: Username
    email: EmailStr
    password: Password
    display_name: DisplayName
    locale: Locale = "de"


class ResendConfirmation(Request):
    """`locale`: the language of the answer (the asker's page); the mail is in the account's."""

    email: Identifier
    locale: Locale | None = None


class ConfirmEmail(Request):
    token: Secret


class SignIn(Request):
    identifier: Identifier
    password: Password


class RefreshSession(Request):
    refresh_token: Secret


class SignOut(Request):
    refresh_token: Secret


class SignOutEverywhere(Request):
    pass


class RequestPasswordReset(Request):
    """`locale`: the language of the answer (the asker's page); the mail is in the account's."""

    identifier: Identifier
    locale: Locale | None = None


class ResetPassword(Request):
    token: Secret
    new_password: Password


class ChangePassword(Request):
    current_password: Password
    new_password: Password


class ChangeEmail(Request):
    new_email: EmailStr
    password: Password


class UpdateProfile(Request):
    display_name: DisplayName | None = None
    locale: Locale | None = None


class GetViewer(Request):
    pass


class LookupProfiles(Request):
    ids: list[Annotated[str, Field(max_length=26)]] = Field(max_length=500)


class CreateAdmin(Request):
    """Operator only (NATS permissions): the first admin; mails a password-set link."""

    email: EmailStr
    username: Username
    display_name: DisplayName | None = None
    locale: Locale = "de"


class SetRole(Request):
    account_id: str
    role: Role


class RequestDataExport(Request):
    """Mail the caller a single-use link (valid 24 hours) to download everything the
    platform holds about them."""


class OpenDataExport(Request):
    """The token of a data-export link; spends it. Unknown, used and expired tokens all
    answer alike."""

    token: Secret


class DeleteAccount(Request):
    """Erase the caller's account and their personal data in every service."""

    password: Password


class Identity(PersonalDataContract):
    """identity's endpoints: `client.identity.<verb>(request, caller)`; `Identity.<verb>` describes one."""

    service = SERVICE

    register = Endpoint(Register, Accepted, "Create an unconfirmed account; mail a link.")
    resend_confirmation = Endpoint(ResendConfirmation, Accepted, "Mail a new confirmation link.")
    confirm_email = Endpoint(ConfirmEmail, Accepted, "Confirm an address by its link's token.")
    sign_in = Endpoint(SignIn, Session, "Start a session with username or email and password.")
    refresh_session = Endpoint(RefreshSession, Session, "Rotate a refresh token.")
    sign_out = Endpoint(SignOut, Accepted, "End the session of a refresh token.")
    sign_out_everywhere = Endpoint(SignOutEverywhere, Accepted, "End every session of the caller.")
    request_password_reset = Endpoint(RequestPasswordReset, Accepted, "Mail a reset link.")
    reset_password = Endpoint(ResetPassword, Accepted, "Set a new password by a reset link.")
    change_password = Endpoint(ChangePassword, Accepted, "Change the caller's password.")
    change_email = Endpoint(ChangeEmail, Accepted, "Mail a link to confirm a new address.")
    update_profile = Endpoint(UpdateProfile, Account, "Change display name or locale.")
    viewer = Endpoint(GetViewer, ViewerReply, "The caller's account, or null.", repeatable=True)
    lookup_profiles = Endpoint(LookupProfiles, Profiles, "Public profiles by account id.", repeatable=True)
    create_admin = Endpoint(CreateAdmin, Accepted, "Operator: create an admin account.")
    set_role = Endpoint(SetRole, Account, "Admin: change an account's platform role.")
    request_data_export = Endpoint(RequestDataExport, Accepted, "Mail the caller a link to their data.")
    open_data_export = Endpoint(OpenDataExport, DataExportGrant, "Spend a data-export link's token.")
    delete_account = Endpoint(DeleteAccount, Accepted, "Erase the caller's account everywhere.")


ENDPOINTS = Identity.endpoints()


# ---- events (subject identity.events.account.<id>) ------------------------------------

class AccountRegistered(Event, AccountDetails):
    TYPE = "identity.account_registered"
    account_id: str
    password_hash: str | None  # None: an admin created by the CLI sets it by a link
    confirm_token_hash: str | None
    confirm_expires_at: datetime | None


class ConfirmationIssued(Event):
    """A new confirmation link for `email` (the current one, or a requested new one)."""

    TYPE = "identity.confirmation_issued"
    email: str
    token_hash: str
    expires_at: datetime
    # For a new address: the session that asked for it, which stays signed in when the
    # address is confirmed. None for the current address, and in events from before.
    session_id: str | None = None


class EmailConfirmed(Event):
    """The address is confirmed. A confirmed change of address ends every session but the
    one that asked for it (`kept_session_id`), as a password change does; events from
    before that rule have `ends_other_sessions` false and ended none."""

    TYPE = "identity.email_confirmed"
    email: str
    ends_other_sessions: bool = False
    kept_session_id: str | None = None


class PasswordResetIssued(Event):
    TYPE = "identity.password_reset_issued"
    token_hash: str
    expires_at: datetime


class PasswordReset(Event):
    """A reset by link: every session ends with it. Also confirms the address it was sent to."""

    TYPE = "identity.password_reset"
    password_hash: str


class PasswordChanged(Event):
    """A change by the signed-in owner: every other session ends."""

    TYPE = "identity.password_changed"
    password_hash: str
    kept_session_id: str | None


class ProfileUpdated(Event):
    TYPE = "identity.profile_updated"
    display_name: str
    locale: str


class RoleChanged(Event):
    TYPE = "identity.role_changed"
    role: Role


class SessionStarted(Event):
    TYPE = "identity.session_started"
    session_id: str
    token_hash: str
    expires_at: datetime


class SessionRotated(Event):
    TYPE = "identity.session_rotated"
    session_id: str
    token_hash: str
    expires_at: datetime


class SessionEnded(Event):
    TYPE = "identity.session_ended"
    session_id: str


class AllSessionsEnded(Event):
    TYPE = "identity.all_sessions_ended"


class DataExportRequested(Event):
    """A data-export link was mailed; it replaces any earlier one."""

    TYPE = "identity.data_export_requested"
    token_hash: str
    expires_at: datetime


class DataExportOpened(Event):
    """The link was used: it works once. The data is gathered now, not stored anywhere."""

    TYPE = "identity.data_export_opened"


class AccountDeleted(Event):
    """The tombstone: the account is erased. The only event left on the account's subject
    (identity erases every earlier one); it carries nothing about the person, and every
    service reacts to it by removing or anonymising what it holds about the account."""

    TYPE = "identity.account_deleted"


class AccountView(Reply):
    """Live push on `live.account.<id>` after the account changed."""

    account: Account


# ---- the revocation list: bucket `subjects.KV_REVOCATIONS`, written by identity only ----
#
# Every token verifier (services/kernel/auth.py) watches it, so an ended session's access
# tokens are refused at once everywhere rather than when they expire.

ACCESS_TOKEN_VALIDITY = timedelta(minutes=15)
# An entry matters only while a token it refuses could still be unexpired: the tokens'
# lifetime, plus a margin for clocks that disagree a little. The bucket forgets older ones.
REVOCATION_RETENTION = ACCESS_TOKEN_VALIDITY + timedelta(minutes=5)


class RevokedSession(Reply):
    """Under `session.<session_id>`: every access token of this session is refused."""

    account_id: str
    until: datetime  # no token of the session is unexpired after this; the entry may go


class RevokedTokens(Reply):
    """Under `account.<account_id>`: access tokens issued from the account at version
    `issued_up_to` or before (their `ver` claim) are refused, whatever their session.
    A version rather than a time: a token issued right after the change, within the same
    second, carries a higher version and stays valid."""

    issued_up_to: int
    until: datetime
