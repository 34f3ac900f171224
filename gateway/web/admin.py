"""The admins' queue: actors waiting for review, approved or rejected with a reason.

The page is shown to admins only, and the directory checks again on every approval or
rejection (an admin's token, verified by the service): a member who posts here anyway is
refused by the directory, not merely by this page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gateway.web.forms import form_of
from gateway.web.page import Page, PageProblem, page_of
from proto import directory
from proto.errors import ErrorCode

router = APIRouter(include_in_schema=False)

QUEUE_SIZE = 50
DONE = ("approved", "rejected")


def require_admin(page: Page) -> None:
    page.require_signed_in()
    if not page.is_admin:
        raise PageProblem(403, "problem.forbidden")


async def queue(page: Page, status: int = 200, done: str | None = None, problem: tuple[str, str] | None = None
                ) -> Response:
    require_admin(page)
    pending = await page.ask(page.gateway.client.directory.search_actors, lambda: directory.SearchActors(
        filter=directory.ActorFilter(status=["pending"]), first=QUEUE_SIZE))
    return page.render("admin_actors.html", status=status, personal=True, title=page.t("admin.title"),
                       pending=pending, done=done if done in DONE else None, problem=problem)


@router.get("/admin/actors")
async def review_queue(done: str = "", page: Page = Depends(page_of)) -> Response:
    return await queue(page, done=done)


@router.post("/admin/actors/{actor_id}/approve")
async def approve(actor_id: str, page: Page = Depends(page_of)) -> Response:
    await page.form()
    require_admin(page)
    await page.ask(page.gateway.client.directory.approve_actor, lambda: directory.ApproveActor(actor_id=actor_id))
    return page.redirect("/admin/actors?done=approved")


@router.post("/admin/actors/{actor_id}/reject")
async def reject(actor_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form())
    require_admin(page)
    result = await page.attempt(page.gateway.client.directory.reject_actor,
                                lambda: directory.RejectActor(actor_id=actor_id, reason=form.text("reason")))
    if isinstance(result, directory.Actor):
        return page.redirect("/admin/actors?done=rejected")
    if result.code != ErrorCode.INVALID_INPUT:
        raise page.problem(result)
    return await queue(page, 400, problem=(actor_id, result.message))
