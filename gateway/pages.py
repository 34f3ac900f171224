"""The pages that mail links open: confirm an address, set a new password.

Mail scanners and link previews open links before people do, so a GET only shows a form;
the token is spent by the button's POST. Tokens travel in the URL of the link, so these
pages send no Referer, are never cached, and may not be framed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader
from pydantic import ValidationError

from gateway.caller import client_address
from gateway.state import Gateway
from gateway.texts import TEXTS, language
from proto import identity as contract
from proto.common import Caller, Endpoint, Q, R
from proto.identity import Identity
from proto.errors import ErrorCode, LotseError
from proto.validation import invalid_from
from services.kernel.logging import get_logger

log = get_logger("gateway.pages")

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # No script at all; styles only from our own file; forms only post back here.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False)

router = APIRouter(include_in_schema=False)


# ---- rendering -----------------------------------------------------------------------

def render(
    request: Request, template: str, lang: str, title_key: str, status: int = 200, **values: Any
) -> HTMLResponse:
    t = TEXTS[lang]
    html = _env.get_template(template).render(lang=lang, t=t, title=t[title_key], **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def switch_url(request: Request, lang: str) -> tuple[str, str]:
    """The same page in the other language (GET pages only: they do nothing, so re-opening is safe)."""
    other = "en" if lang == "de" else "de"
    query = {k: v for k, v in request.query_params.items() if k != "lang"} | {"lang": other}
    return f"{request.url.path}?{urlencode(query)}", other


def message(request: Request, lang: str, key: str, status: int = 200, *, problem: bool = False,
            detail: str | None = None, retry: dict[str, Any] | None = None, **fmt: Any) -> HTMLResponse:
    text = TEXTS[lang][f"{key}.text"].format(**fmt)
    return render(request, "message.html", lang, f"{key}.title", status,
                  text=text, problem=problem, detail=detail, retry=retry)


def new_link_form(
    request: Request, lang: str, kind: str, status: int = 200, problem: str | None = None
) -> HTMLResponse:
    """The way out of a dead link: ask for a new one, right here."""
    t = TEXTS[lang]
    if kind == "confirm":
        action, field, label, button = "/confirm/resend", "email", t["email"], t["confirm.resend.button"]
    else:
        action, field, label, button = "/reset/request", "identifier", t["identifier"], t["reset.request.button"]
    return render(request, "new_link.html", lang, f"{kind}.expired.title", status,
                  text=t[f"{kind}.expired.text"], action=action, field=field, label=label,
                  button=button, problem=problem)


def minutes(seconds: int | None) -> int:
    return max(1, -(-(seconds or 60) // 60))


# ---- calling identity ----------------------------------------------------------------

def caller_of(request: Request) -> Caller:
    gateway: Gateway = request.app.state.gateway
    peer = request.client.host if request.client else None
    return Caller(
        client_address=client_address(peer, request.headers.get("x-forwarded-for"), gateway.settings.trusted_proxies)
    )


async def call_identity(request: Request, endpoint: Endpoint[Q, R], build: Callable[[], Q]) -> LotseError | None:
    """Send one identity request; None when it succeeded, else what went wrong."""
    gateway: Gateway = request.app.state.gateway
    verb = endpoint.verb
    try:
        await gateway.client.send(endpoint, build(), caller_of(request))
    except ValidationError as e:
        return invalid_from(e)
    except LotseError as e:
        if e.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
            log.warning("pages.service_error", verb=verb, code=e.code.value, error=e.message)
        return e
    return None


async def form_of(request: Request) -> tuple[dict[str, str], str]:
    """The posted fields as text, and the page language (kept in a hidden field)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return fields, language(fields.get("lang"), request.headers.get("accept-language"))


def unavailable_or_limited(
    request: Request, lang: str, error: LotseError, retry: dict[str, Any] | None
) -> HTMLResponse | None:
    if error.code == ErrorCode.RATE_LIMITED:
        return message(request, lang, "limited", 429, problem=True, minutes=minutes(error.retry_after))
    if error.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
        return message(request, lang, "unavailable", 503, problem=True, retry=retry)
    return None


# ---- confirm an address --------------------------------------------------------------

@router.get("/confirm", response_class=HTMLResponse)
async def confirm_page(request: Request, token: str = "", lang: str | None = None) -> HTMLResponse:
    lang = language(lang, request.headers.get("accept-language"))
    if not token.strip():
        return message(request, lang, "missing", 400, problem=True)
    url, other = switch_url(request, lang)
    return render(request, "confirm.html", lang, "confirm.title", token=token, switch_url=url, other_lang=other)


@router.post("/confirm", response_class=HTMLResponse)
async def confirm(request: Request) -> HTMLResponse:
    fields, lang = await form_of(request)
    token = fields.get("token", "")
    if not token.strip():
        return message(request, lang, "missing", 400, problem=True)
    error = await call_identity(request, Identity.confirm_email, lambda: contract.ConfirmEmail(token=token))
    if error is None:
        return message(request, lang, "confirm.done")
    if error.code == ErrorCode.CONFLICT:
        # A changed address that someone else confirmed first: a new link would not help.
        return message(request, lang, "confirm.taken", 409, problem=True)
    retry = {"action": "/confirm", "fields": {"token": token}}
    return unavailable_or_limited(request, lang, error, retry) or new_link_form(request, lang, "confirm", 410)


@router.post("/confirm/resend", response_class=HTMLResponse)
async def resend_confirmation(request: Request) -> HTMLResponse:
    fields, lang = await form_of(request)
    email = fields.get("email", "").strip()
    error = await call_identity(
        request, Identity.resend_confirmation, lambda: contract.ResendConfirmation(email=email, locale=lang)
    )
    if error is None:
        return message(request, lang, "confirm.resent")
    return unavailable_or_limited(request, lang, error, None) or new_link_form(
        request, lang, "confirm", 400, problem=error.message
    )


# ---- set a new password --------------------------------------------------------------

@router.get("/reset", response_class=HTMLResponse)
async def reset_page(request: Request, token: str = "", lang: str | None = None) -> HTMLResponse:
    lang = language(lang, request.headers.get("accept-language"))
    if not token.strip():
        return message(request, lang, "missing", 400, problem=True)
    url, other = switch_url(request, lang)
    return render(request, "reset.html", lang, "reset.title", token=token, switch_url=url, other_lang=other)


@router.post("/reset", response_class=HTMLResponse)
async def reset(request: Request) -> HTMLResponse:
    fields, lang = await form_of(request)
    t = TEXTS[lang]
    token = fields.get("token", "")
    if not token.strip():
        return message(request, lang, "missing", 400, problem=True)
    password = fields.get("new_password", "")
    if password != fields.get("new_password_repeat", ""):
        return render(request, "reset.html", lang, "reset.title", 400, token=token, problem=t["reset.mismatch"])
    error = await call_identity(
        request, Identity.reset_password, lambda: contract.ResetPassword(token=token, new_password=password)
    )
    if error is None:
        return message(request, lang, "reset.done")
    if error.code == ErrorCode.INVALID_INPUT and error.field == "newPassword":
        # The link is still good: say why the password was refused and let them try another.
        return render(request, "reset.html", lang, "reset.title", 400, token=token,
                      problem=t["reset.weak"], detail=error.message)
    if error.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
        # Passwords are not echoed back into a page; the form comes again with the token.
        return render(request, "reset.html", lang, "reset.title", 503, token=token,
                      problem=TEXTS[lang]["unavailable.text"])
    return unavailable_or_limited(request, lang, error, None) or new_link_form(request, lang, "reset", 410)


@router.post("/reset/request", response_class=HTMLResponse)
async def request_reset(request: Request) -> HTMLResponse:
    fields, lang = await form_of(request)
    identifier = fields.get("identifier", "").strip()
    error = await call_identity(
        request, Identity.request_password_reset,
        lambda: contract.RequestPasswordReset(identifier=identifier, locale=lang),
    )
    if error is None:
        return message(request, lang, "reset.requested")
    return unavailable_or_limited(request, lang, error, None) or new_link_form(
        request, lang, "reset", 400, problem=error.message
    )
