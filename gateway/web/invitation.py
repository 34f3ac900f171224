"""The page an invitation mail links to: join an actor.

Like the other mail-link pages (gateway/web/links.py): a GET shows which actor invites, as
which role — it spends nothing, because mail scanners open links before people do. A
person signed in to the web client accepts with one button; anyone else signs in on the
same form (from their client address, so sign-in throttling applies as for GraphQL) and
stays signed in, ready to edit the entry they just joined. The directory decides whether
the signed-in account may accept: only the one whose confirmed address was invited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gateway.web.forms import form_of
from gateway.web.links import link_page, message, unavailable_or_limited
from gateway.web.page import Page, page_of
from proto import directory, identity
from proto.errors import ErrorCode, LotseError
from services.kernel.logging import get_logger

log = get_logger("gateway.web.invitation")

router = APIRouter(include_in_schema=False)


def dead_link(page: Page, error: LotseError, retry: dict[str, Any] | None = None) -> Response:
    """What a failed lookup or acceptance shows: wait, try again later, or ask for a new invitation."""
    return unavailable_or_limited(page, error, retry) or message(page, "invitation.invalid", 410, problem=True)


def invitation_form(page: Page, token: str, summary: directory.InvitationSummary, status: int = 200,
                    problem: str | None = None, identifier: str | None = None) -> Response:
    lead = page.t("invitation.lead", actor=summary.actor_name, role=page.t(f"invitation.role.{summary.role}"))
    register = "/register"
    return link_page(page, "invitation.html", "invitation.title", status, token=token, lead=lead, problem=problem,
                     identifier=identifier, register_url=register)


@router.get("/invitation")
async def invitation_page(token: str = "", page: Page = Depends(page_of)) -> Response:
    if not token.strip():
        return message(page, "missing", 400, problem=True)
    summary = await page.attempt(page.gateway.client.directory.describe_invitation,
                                 lambda: directory.DescribeInvitation(token=token))
    if isinstance(summary, LotseError):
        return dead_link(page, summary)
    return invitation_form(page, token, summary)


@router.post("/invitation")
async def accept_invitation(page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form())
    token = form.get("token")
    if not token.strip():
        return message(page, "missing", 400, problem=True)
    summary = await page.attempt(page.gateway.client.directory.describe_invitation,
                                 lambda: directory.DescribeInvitation(token=token))
    if isinstance(summary, LotseError):
        return dead_link(page, summary)

    if page.session is None or form.get("password"):
        identifier = form.text("identifier")
        session = await page.attempt(page.gateway.client.identity.sign_in, lambda: identity.SignIn(
            identifier=identifier, password=form.get("password")))
        if isinstance(session, LotseError):
            if session.code == ErrorCode.FORBIDDEN:
                return invitation_form(page, token, summary, 403, page.t("invitation.unconfirmed"), identifier)
            if session.code in (ErrorCode.UNAUTHENTICATED, ErrorCode.INVALID_INPUT):
                return invitation_form(page, token, summary, 401, page.t("signin.failed"), identifier)
            # Passwords are not echoed into a page: no "try again" button that would resend one.
            return dead_link(page, session)
        page.start_session(session)

    actor = await page.attempt(page.gateway.client.directory.accept_invitation,
                               lambda: directory.AcceptInvitation(token=token))
    if isinstance(actor, LotseError):
        if actor.code == ErrorCode.CONFLICT:
            return message(page, "invitation.member", 409, problem=True)
        if actor.code == ErrorCode.FORBIDDEN:
            return message(page, "invitation.other_account", 403, problem=True)
        return dead_link(page, actor)
    return link_page(page, "message.html", "invitation.done.title", text=page.t("invitation.done.text",
                     actor=actor.name), next_url=f"/contribute/actors/{actor.id}", next_label=page.t("actor.edit"))
