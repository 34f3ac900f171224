"""The page an invitation mail links to: join an actor by signing in and pressing a button.

Like the other mail-link pages (gateway/pages.py): a GET shows which actor invites, as
which role, and a sign-in form — it spends nothing, because mail scanners open links
before people do. The POST signs in through identity (as the client's address, so sign-in
throttling applies exactly as for GraphQL), accepts the invitation with that session's
access token, and ends the session again: the page needed it for one request only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from gateway.pages import caller_of, form_of, message, render, switch_url, unavailable_or_limited
from gateway.state import Gateway
from gateway.texts import TEXTS, language
from proto import directory, identity
from proto.common import Caller
from proto.errors import ErrorCode, LotseError
from proto.validation import invalid_from
from services.kernel.logging import get_logger

log = get_logger("gateway.invitation")

router = APIRouter(include_in_schema=False)


async def describe(request: Request, token: str) -> directory.InvitationSummary | LotseError:
    gateway: Gateway = request.app.state.gateway
    try:
        return await gateway.client.directory.describe_invitation(
            directory.DescribeInvitation(token=token), caller_of(request))
    except ValidationError as e:
        return invalid_from(e)
    except LotseError as e:
        return e


def dead_link(request: Request, lang: str, error: LotseError, retry: dict[str, Any] | None = None) -> HTMLResponse:
    """What a failed lookup or acceptance shows: wait, try again later, or ask for a new invitation."""
    if error.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
        log.warning("invitation.service_error", code=error.code.value, error=error.message)
    return unavailable_or_limited(request, lang, error, retry) or message(
        request, lang, "invitation.invalid", 410, problem=True)


def form(request: Request, lang: str, token: str, summary: directory.InvitationSummary, status: int = 200,
         problem: str | None = None, identifier: str | None = None) -> HTMLResponse:
    t = TEXTS[lang]
    lead = t["invitation.lead"].format(actor=summary.actor_name, role=t[f"invitation.role.{summary.role}"])
    url, other = switch_url(request, lang) if request.method == "GET" else (None, None)
    return render(request, "invitation.html", lang, "invitation.title", status, token=token, lead=lead,
                  problem=problem, identifier=identifier, switch_url=url, other_lang=other)


@router.get("/invitation", response_class=HTMLResponse)
async def invitation_page(request: Request, token: str = "", lang: str | None = None) -> HTMLResponse:
    lang = language(lang, request.headers.get("accept-language"))
    if not token.strip():
        return message(request, lang, "missing", 400, problem=True)
    summary = await describe(request, token)
    if isinstance(summary, LotseError):
        return dead_link(request, lang, summary)
    return form(request, lang, token, summary)


@router.post("/invitation", response_class=HTMLResponse)
async def accept_invitation(request: Request) -> HTMLResponse:
    fields, lang = await form_of(request)
    t = TEXTS[lang]
    token = fields.get("token", "")
    identifier = fields.get("identifier", "").strip()
    password = fields.get("password", "")
    if not token.strip():
        return message(request, lang, "missing", 400, problem=True)
    summary = await describe(request, token)
    if isinstance(summary, LotseError):
        return dead_link(request, lang, summary)

    gateway: Gateway = request.app.state.gateway
    caller = caller_of(request)
    try:
        session = await gateway.client.identity.sign_in(
            identity.SignIn(identifier=identifier, password=password), caller)
    except ValidationError:
        return form(request, lang, token, summary, 400, t["invitation.signin_failed"], identifier)
    except LotseError as e:
        if e.code == ErrorCode.FORBIDDEN:
            return form(request, lang, token, summary, 403, t["invitation.unconfirmed"], identifier)
        if e.code in (ErrorCode.UNAUTHENTICATED, ErrorCode.INVALID_INPUT):
            return form(request, lang, token, summary, 401, t["invitation.signin_failed"], identifier)
        # Passwords are not echoed into a page: no "try again" button that would resend one.
        return dead_link(request, lang, e)

    signed_in = Caller(token=session.access_token, client_address=caller.client_address)
    try:
        actor = await gateway.client.directory.accept_invitation(directory.AcceptInvitation(token=token), signed_in)
    except LotseError as e:
        if e.code == ErrorCode.CONFLICT:
            return message(request, lang, "invitation.member", 409, problem=True)
        return dead_link(request, lang, e)
    finally:
        try:
            await gateway.client.identity.sign_out(identity.SignOut(refresh_token=session.refresh_token), signed_in)
        except LotseError as e:
            log.info("invitation.sign_out_failed", code=e.code.value)
    return message(request, lang, "invitation.done", actor=actor.name)
