"""The web client's routes, and how a page that cannot be shown is answered."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from gateway.web import (
    account, admin, contribute, directory, invitation, links, my_data, news, notifications, offline, publishing,
    reading,
)
from gateway.web.page import STATIC, PageProblem, page_of


def web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (directory, reading, news, account, links, my_data, invitation, contribute, publishing, admin,
                   notifications, offline):
        router.include_router(module.router)
    return router


class Assets(StaticFiles):
    """Static files; a versioned URL (`?v=<asset version>`) never changes, so it is kept a year."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        return response


async def problem_response(request: Request, problem: Exception) -> Response:
    assert isinstance(problem, PageProblem)
    page = await page_of(request)
    if problem.sign_in:
        if request.method == "GET" and not page.htmx:
            return page.redirect("/signin?" + urlencode({"next": page.path}))
        sign_in_url = "/signin"
    else:
        sign_in_url = None
    text = page.t(f"{problem.key}.text", minutes=problem.minutes) if problem.minutes else page.t(f"{problem.key}.text")
    return page.render("problem.html", status=problem.status, personal=True, title=page.t(f"{problem.key}.title"),
                       text=text, detail=problem.detail, sign_in_url=sign_in_url)


def install(app: FastAPI) -> None:
    app.include_router(web_router())
    app.mount("/assets", Assets(directory=STATIC), name="assets")
    app.add_exception_handler(PageProblem, problem_response)
