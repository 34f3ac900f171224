"""GraphQL documents and small flows the end-to-end tests share."""

from __future__ import annotations

import itertools

from tests.support.graphql import GraphQL
from tests.support.smtp import SmtpServer, token_in

STRONG = "Fahrrad Ampel Wolke 42 Sommer"
OTHER_STRONG = "Leuchtturm Regenschirm 7 Kaktus"

USER_ERRORS = "userErrors { field code message retryAfter }"
ACCOUNT = "id username email displayName locale role emailConfirmed pendingEmail createdAt"
SESSION = f"accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt viewer {{ {ACCOUNT} }} {USER_ERRORS}"

REGISTER = f"""mutation($input: RegisterInput!) {{ register(input: $input) {{ ok {USER_ERRORS} }} }}"""
RESEND = f"""mutation($email: String!) {{ resendConfirmation(email: $email) {{ ok {USER_ERRORS} }} }}"""
CONFIRM = f"""mutation($token: String!) {{ confirmEmail(token: $token) {{ ok {USER_ERRORS} }} }}"""
SIGN_IN = f"""mutation($identifier: String!, $password: String!) {{
  signIn(identifier: $identifier, password: $password) {{ {SESSION} }} }}"""
REFRESH = f"""mutation($refreshToken: String!) {{ refreshSession(refreshToken: $refreshToken) {{ {SESSION} }} }}"""
SIGN_OUT = f"""mutation($refreshToken: String!) {{ signOut(refreshToken: $refreshToken) {{ ok {USER_ERRORS} }} }}"""
SIGN_OUT_EVERYWHERE = f"""mutation {{ signOutEverywhere {{ ok {USER_ERRORS} }} }}"""
REQUEST_RESET = f"""mutation($identifier: String!) {{
  requestPasswordReset(identifier: $identifier) {{ ok {USER_ERRORS} }} }}"""
RESET = f"""mutation($token: String!, $newPassword: String!) {{
  resetPassword(token: $token, newPassword: $newPassword) {{ ok {USER_ERRORS} }} }}"""
CHANGE_PASSWORD = f"""mutation($currentPassword: String!, $newPassword: String!) {{
  changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {{ ok {USER_ERRORS} }} }}"""
CHANGE_EMAIL = f"""mutation($newEmail: String!, $password: String!) {{
  changeEmail(newEmail: $newEmail, password: $password) {{ ok {USER_ERRORS} }} }}"""
UPDATE_PROFILE = f"""mutation($displayName: String, $locale: String) {{
  updateProfile(displayName: $displayName, locale: $locale) {{ viewer {{ {ACCOUNT} }} {USER_ERRORS} }} }}"""
VIEWER = f"""query {{ viewer {{ {ACCOUNT} }} }}"""
VIEWER_UPDATED = f"""subscription {{ viewerUpdated {{ {ACCOUNT} }} }}"""

_names = itertools.count(1)


def new_person(prefix: str = "person") -> tuple[str, str]:
    """A fresh (username, email) pair: tests share one platform and must not collide."""
    n = next(_names)
    return f"{prefix}.{n}", f"{prefix}.{n}@example.org"


async def register(api: GraphQL, username: str, email: str, password: str = STRONG,
                   display_name: str = "Test Person", locale: str = "de") -> dict:
    data = await api(REGISTER, input={"username": username, "email": email, "password": password,
                                      "displayName": display_name, "locale": locale})
    return data["register"]


async def confirmed_member(api: GraphQL, smtp: SmtpServer, prefix: str = "member",
                           locale: str = "de") -> tuple[str, str]:
    """Register and confirm through the mailed link; return (username, email)."""
    username, email = new_person(prefix)
    assert (await register(api, username, email, locale=locale))["ok"]
    [mail] = await smtp.inbox.wait_for(email)
    confirmed = (await api(CONFIRM, token=token_in(mail, "/confirm")))["confirmEmail"]
    assert confirmed["ok"], confirmed
    return username, email


async def sign_in(api: GraphQL, identifier: str, password: str = STRONG) -> dict:
    return (await api(SIGN_IN, identifier=identifier, password=password))["signIn"]
