"""The member area: accounts, sign-in, sessions, passwords, the signed-in viewer.

Resolvers turn GraphQL arguments into `proto.identity` requests and call identity through
the proto client as the caller; identity decides everything (who may, what is valid).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from gateway.context import GatewayInfo

from gateway.schema.errors import UserError, ask, attempt, graphql_error
from proto import identity as contract
from proto.identity import Identity
from proto.errors import LotseError


def given(**fields: Any) -> dict[str, Any]:
    """Only the arguments the client set, so the proto model's defaults apply to the rest."""
    return {name: value for name, value in fields.items() if value is not None}


# ---- types ---------------------------------------------------------------------------

@strawberry.enum(description="A platform-wide role.")
class Role(Enum):
    ADMIN = "admin"
    MEMBER = "member"


@strawberry.type(description="An account as its owner sees it.")
class Account:
    id: strawberry.ID
    username: str
    email: str
    display_name: str
    locale: str = strawberry.field(description="Language of mails and pages: de or en.")
    role: Role
    email_confirmed: bool
    pending_email: str | None = strawberry.field(
        description="A new address waiting for its confirmation link to be opened."
    )
    created_at: datetime

    @classmethod
    def of(cls, account: contract.Account) -> "Account":
        return cls(
            id=strawberry.ID(account.id),
            username=account.username,
            email=account.email,
            display_name=account.display_name,
            locale=account.locale,
            role=Role(account.role),
            email_confirmed=account.email_confirmed,
            pending_email=account.pending_email,
            created_at=account.created_at,
        )


@strawberry.input
class RegisterInput:
    username: str
    email: str
    password: str
    display_name: str
    locale: str | None = strawberry.field(default=None, description="de (default) or en.")


# ---- payloads ------------------------------------------------------------------------

@strawberry.type
class AcceptedPayload:
    ok: bool = strawberry.field(description="True when the request was taken; false with userErrors.")
    user_errors: list[UserError]


@strawberry.type(description="An unconfirmed account was created and a confirmation link mailed.")
class RegisterPayload(AcceptedPayload):
    pass


@strawberry.type(description="A new confirmation link was mailed, if the address awaits one.")
class ResendConfirmationPayload(AcceptedPayload):
    pass


@strawberry.type(description="The address of the link was confirmed.")
class ConfirmEmailPayload(AcceptedPayload):
    pass


@strawberry.type(description="The refresh token's session ended.")
class SignOutPayload(AcceptedPayload):
    pass


@strawberry.type(description="Every session of the caller ended.")
class SignOutEverywherePayload(AcceptedPayload):
    pass


@strawberry.type(description="A reset link was mailed, if the account exists.")
class RequestPasswordResetPayload(AcceptedPayload):
    pass


@strawberry.type(description="The password was set by a reset link; every session ended.")
class ResetPasswordPayload(AcceptedPayload):
    pass


@strawberry.type(description="The caller's password was changed; every other session ended.")
class ChangePasswordPayload(AcceptedPayload):
    pass


@strawberry.type(description="A link to confirm the new address was mailed to it.")
class ChangeEmailPayload(AcceptedPayload):
    pass


@strawberry.type(description="A link to download everything the platform holds about the caller was mailed "
                 "to the account's address: single use, valid 24 hours.")
class ExportMyDataPayload(AcceptedPayload):
    pass


@strawberry.type(description="The account is erased, with the caller's personal data in every service; every "
                 "session ended, and the username and address may be registered again.")
class DeleteAccountPayload(AcceptedPayload):
    pass


@strawberry.type(description="A session: a short-lived access token and a single-use refresh token.")
class SessionPayload:
    access_token: str | None = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    access_token_expires_at: datetime | None
    refresh_token: str | None = strawberry.field(description="Single use: refreshSession returns a new one.")
    refresh_token_expires_at: datetime | None
    viewer: Account | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, session: contract.Session | None, user_errors: list[UserError]) -> "SessionPayload":
        if session is None:
            return cls(
                access_token=None, access_token_expires_at=None, refresh_token=None,
                refresh_token_expires_at=None, viewer=None, user_errors=user_errors,
            )
        return cls(
            access_token=session.access_token,
            access_token_expires_at=session.access_expires_at,
            refresh_token=session.refresh_token,
            refresh_token_expires_at=session.refresh_expires_at,
            viewer=Account.of(session.account),
            user_errors=user_errors,
        )


@strawberry.type(description="The caller's account after the change.")
class UpdateProfilePayload:
    viewer: Account | None
    user_errors: list[UserError]


# ---- operations ----------------------------------------------------------------------

@strawberry.type
class Query:
    @strawberry.field(description="The signed-in account; null when the request carries no token.")
    async def viewer(self, info: GatewayInfo) -> Account | None:
        if info.context.token is None:
            return None  # anonymous: nothing to ask identity
        reply = await ask(info, contract.GetViewer(), Identity.viewer)
        return Account.of(reply.account) if reply.account else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account; a link to confirm the address is mailed.")
    async def register(self, info: GatewayInfo, input: RegisterInput) -> RegisterPayload:
        outcome = await attempt(
            info,
            lambda: contract.Register(
                username=input.username,
                email=input.email,
                password=input.password,
                display_name=input.display_name,
                **given(locale=input.locale),
            ),
            Identity.register,
        )
        return RegisterPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Mail a new confirmation link to an address that awaits one.")
    async def resend_confirmation(self, info: GatewayInfo, email: str) -> ResendConfirmationPayload:
        outcome = await attempt(
            info, lambda: contract.ResendConfirmation(email=email), Identity.resend_confirmation
        )
        return ResendConfirmationPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Confirm an address with the token from its link. Confirming a new address "
                         "ends every session but the one that asked for the change.")
    async def confirm_email(self, info: GatewayInfo, token: str) -> ConfirmEmailPayload:
        outcome = await attempt(info, lambda: contract.ConfirmEmail(token=token), Identity.confirm_email)
        return ConfirmEmailPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Start a session with username or email, and password.")
    async def sign_in(self, info: GatewayInfo, identifier: str, password: str) -> SessionPayload:
        outcome = await attempt(
            info, lambda: contract.SignIn(identifier=identifier, password=password), Identity.sign_in
        )
        return SessionPayload.of(outcome.reply, outcome.user_errors)

    @strawberry.mutation(description="Trade a refresh token for a new session; the old token is spent.")
    async def refresh_session(self, info: GatewayInfo, refresh_token: str) -> SessionPayload:
        outcome = await attempt(
            info, lambda: contract.RefreshSession(refresh_token=refresh_token), Identity.refresh_session
        )
        return SessionPayload.of(outcome.reply, outcome.user_errors)

    @strawberry.mutation(description="End the session of a refresh token.")
    async def sign_out(self, info: GatewayInfo, refresh_token: str) -> SignOutPayload:
        outcome = await attempt(info, lambda: contract.SignOut(refresh_token=refresh_token), Identity.sign_out)
        return SignOutPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="End every session of the signed-in account.")
    async def sign_out_everywhere(self, info: GatewayInfo) -> SignOutEverywherePayload:
        outcome = await attempt(info, contract.SignOutEverywhere, Identity.sign_out_everywhere)
        return SignOutEverywherePayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Mail a password reset link; answers the same whether the account exists or not.")
    async def request_password_reset(self, info: GatewayInfo, identifier: str) -> RequestPasswordResetPayload:
        outcome = await attempt(
            info, lambda: contract.RequestPasswordReset(identifier=identifier), Identity.request_password_reset
        )
        return RequestPasswordResetPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Set a new password with the token from a reset link.")
    async def reset_password(self, info: GatewayInfo, token: str, new_password: str) -> ResetPasswordPayload:
        outcome = await attempt(
            info,
            lambda: contract.ResetPassword(token=token, new_password=new_password),
            Identity.reset_password,
        )
        return ResetPasswordPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Change the signed-in account's password.")
    async def change_password(
        self, info: GatewayInfo, current_password: str, new_password: str
    ) -> ChangePasswordPayload:
        outcome = await attempt(
            info,
            lambda: contract.ChangePassword(current_password=current_password, new_password=new_password),
            Identity.change_password,
        )
        return ChangePasswordPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Mail a link to the new address; it replaces the old one once confirmed.")
    async def change_email(self, info: GatewayInfo, new_email: str, password: str) -> ChangeEmailPayload:
        outcome = await attempt(
            info, lambda: contract.ChangeEmail(new_email=new_email, password=password), Identity.change_email
        )
        return ChangeEmailPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Change display name and/or locale; omitted arguments stay as they are.")
    async def update_profile(
        self, info: GatewayInfo, display_name: str | None = None, locale: str | None = None
    ) -> UpdateProfilePayload:
        outcome = await attempt(
            info,
            lambda: contract.UpdateProfile(**given(display_name=display_name, locale=locale)),
            Identity.update_profile,
        )
        viewer = Account.of(outcome.reply) if outcome.reply is not None else None
        return UpdateProfilePayload(viewer=viewer, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Mail the signed-in account a link to a JSON file of everything the platform "
                         "holds about it, gathered from every service when the link's page is used (README: Your "
                         "data). Limited like the other requests that send mail.")
    async def export_my_data(self, info: GatewayInfo) -> ExportMyDataPayload:
        outcome = await attempt(info, contract.RequestDataExport, Identity.request_data_export)
        return ExportMyDataPayload(ok=outcome.ok, user_errors=outcome.user_errors)

    @strawberry.mutation(description="Erase the signed-in account: checks the password (throttled like sign-in), "
                         "refuses with CONFLICT while something blocks it (the last owner of an actor hands it over "
                         "first), then removes or anonymises the caller's data in every service (README: Your data).")
    async def delete_account(self, info: GatewayInfo, password: str) -> DeleteAccountPayload:
        outcome = await attempt(info, lambda: contract.DeleteAccount(password=password), Identity.delete_account)
        return DeleteAccountPayload(ok=outcome.ok, user_errors=outcome.user_errors)


async def account_updates(context: Any, hub: Any, account_id: str) -> AsyncGenerator[Account, None]:
    async with hub.account(account_id) as listener:
        async for account in listener:
            # An access token lives 15 minutes; a subscription may live for days. Each push
            # re-checks it, so a client whose token expired (or whose key was rotated away)
            # hears UNAUTHENTICATED and reconnects with a fresh one. A session that ends does
            # not wait for a push: its connection is closed (gateway/connections.py).
            try:
                context.principal()
            except LotseError as e:
                raise graphql_error(e) from None
            yield Account.of(account)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The signed-in account, each time it changes. Over WebSocket (graphql-transport-ws) "
        "with the access token in connection_init."
    )
    async def viewer_updated(self, info: GatewayInfo) -> AsyncGenerator[Account, None]:
        # A coroutine that returns the stream rather than a generator itself: a refusal is then
        # the subscription's error before any stream exists, not a broken stream.
        context = info.context
        try:
            principal = context.principal()
            hub = context.gateway.live
        except LotseError as e:
            raise graphql_error(e) from None
        return account_updates(context, hub, principal.account_id)
