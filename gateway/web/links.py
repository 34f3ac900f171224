"""The pages that mail links open: confirm an address, set a new password — and the ways
to ask for a new link.

Mail scanners and link previews open links before people do, so a GET only shows a form;
the token is spent by the button's POST (with its CSRF token, as every form). Tokens travel
in the link's URL, so these pages run no script, send no Referer and are never cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gateway.web.forms import form_of
from gateway.web.page import Page, minutes, page_of
from proto import identity
from proto.common import Call, Q, R
from proto.errors import ErrorCode, LotseError

router = APIRouter(include_in_schema=False)


def link_page(page: Page, template: str, title_key: str, status: int = 200, **values: Any) -> Response:
    other = "en" if page.lang == "de" else "de"
    query = {k: v for k, v in page.request.query_params.items() if k != "lang"} | {"lang": other}
    switch = f"{page.request.url.path}?{urlencode(query)}" if page.request.method == "GET" else None
    return page.render(template, status=status, personal=True, scripts=False, referrer="no-referrer",
                       title=page.t(title_key), switch_url=switch, **values)


def message(page: Page, key: str, status: int = 200, *, problem: bool = False, detail: str | None = None,
            retry: dict[str, Any] | None = None, spam_hint: bool = False, **fmt: Any) -> Response:
    return link_page(page, "message.html", f"{key}.title", status, text=page.t(f"{key}.text", **fmt),
                     problem=problem, detail=detail, retry=retry, spam_hint=spam_hint)


def new_link_form(page: Page, kind: str, status: int = 200, problem: str | None = None,
                  lead: bool = True) -> Response:
    """The way out of a dead link: ask for a new one, right here."""
    if kind == "confirm":
        action, field, label, button = "/confirm/resend", "email", page.t("email"), page.t("confirm.resend.button")
    else:
        action, field, label, button = "/reset/request", "identifier", page.t("identifier"), page.t(
            "reset.request.button")
    title = f"{kind}.expired.title" if lead else f"{kind}.request.title"
    return link_page(page, "new_link.html", title, status, text=page.t(f"{kind}.expired.text" if lead else
                                                                       f"{kind}.request.text"),
                     action=action, field=field, label=label, button=button, problem=problem)


async def call(page: Page, endpoint: Call[Q, R], build: Callable[[], Q]) -> LotseError | None:
    result = await page.attempt(endpoint, build)
    return result if isinstance(result, LotseError) else None


def unavailable_or_limited(page: Page, error: LotseError, retry: dict[str, Any] | None) -> Response | None:
    if error.code == ErrorCode.RATE_LIMITED:
        return message(page, "limited", 429, problem=True, minutes=minutes(error.retry_after))
    if error.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
        return message(page, "unavailable", 503, problem=True, retry=retry)
    return None


# ---- confirm an address --------------------------------------------------------------

@router.get("/confirm")
async def confirm_page(token: str = "", page: Page = Depends(page_of)) -> Response:
    if not token.strip():
        return message(page, "missing", 400, problem=True)
    return link_page(page, "confirm.html", "confirm.title", token=token)


@router.post("/confirm")
async def confirm(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form())
    token = form.get("token")
    if not token.strip():
        return message(page, "missing", 400, problem=True)
    error = await call(page, page.gateway.client.identity.confirm_email, lambda: identity.ConfirmEmail(token=token))
    if error is None:
        return message(page, "confirm.done")
    if error.code == ErrorCode.CONFLICT:
        # A changed address that someone else confirmed first: a new link would not help.
        return message(page, "confirm.taken", 409, problem=True)
    retry = {"action": "/confirm", "fields": {"token": token}}
    return unavailable_or_limited(page, error, retry) or new_link_form(page, "confirm", 410)


@router.get("/confirm/resend")
async def resend_page(page: Page = Depends(page_of)) -> Response:
    return new_link_form(page, "confirm", lead=False)


@router.post("/confirm/resend")
async def resend_confirmation(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form())
    email = form.text("email")
    error = await call(page, page.gateway.client.identity.resend_confirmation,
                       lambda: identity.ResendConfirmation(email=email, locale=page.lang))
    if error is None:
        return message(page, "confirm.resent", spam_hint=True)
    return unavailable_or_limited(page, error, None) or new_link_form(page, "confirm", 400, problem=error.message)


# ---- set a new password --------------------------------------------------------------

@router.get("/reset")
async def reset_page(token: str = "", page: Page = Depends(page_of)) -> Response:
    if not token.strip():
        return message(page, "missing", 400, problem=True)
    return link_page(page, "reset.html", "reset.title", token=token, problem=None, detail=None)


@router.post("/reset")
async def reset(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form())
    token = form.get("token")
    if not token.strip():
        return message(page, "missing", 400, problem=True)
    password = form.get("new_password")
    if password != form.get("new_password_repeat"):
        return link_page(page, "reset.html", "reset.title", 400, token=token, problem=page.t("password.mismatch"),
                         detail=None)
    error = await call(page, page.gateway.client.identity.reset_password,
                       lambda: identity.ResetPassword(token=token, new_password=password))
    if error is None:
        return message(page, "reset.done")
    if error.code == ErrorCode.INVALID_INPUT and error.field == "newPassword":
        # The link is still good: say why the password was refused and let them try another.
        return link_page(page, "reset.html", "reset.title", 400, token=token, problem=page.t("reset.weak"),
                         detail=error.message)
    if error.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
        # Passwords are not echoed back into a page; the form comes again with the token.
        return link_page(page, "reset.html", "reset.title", 503, token=token, problem=page.t("unavailable.text"),
                         detail=None)
    return unavailable_or_limited(page, error, None) or new_link_form(page, "reset", 410)


@router.get("/reset/request")
async def reset_request_page(page: Page = Depends(page_of)) -> Response:
    return new_link_form(page, "reset", lead=False)


@router.post("/reset/request")
async def request_reset(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form())
    identifier = form.text("identifier")
    error = await call(page, page.gateway.client.identity.request_password_reset,
                       lambda: identity.RequestPasswordReset(identifier=identifier, locale=page.lang))
    if error is None:
        return message(page, "reset.requested", spam_hint=True)
    return unavailable_or_limited(page, error, None) or new_link_form(page, "reset", 400, problem=error.message)
