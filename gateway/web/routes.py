"""The web client's routes, and how a page that cannot be shown is answered."""

from __future__ import annotations

import asyncio
import gzip
import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from gateway.web import (
    account, admin, contribute, directory, invitation, links, my_data, news, notifications, offline, publishing,
    reading,
)
from gateway.web.page import STATIC, PageProblem, asset_version, page_of


def web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (directory, reading, news, account, links, my_data, invitation, contribute, publishing, admin,
                   notifications, offline):
        router.include_router(module.router)
    return router


# Text assets are sent gzipped to a browser that takes it: htmx is 52 kB as it is and 16 kB
# gzipped, GraphiQL's bundle 3.5 MB and under 1 MB. Images (PNG) are compressed already.
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".webmanifest", ".txt", ".md")
YEAR = "public, max-age=31536000, immutable"


def takes_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (RFC 9110 §12.5.3: `gzip;q=0` refuses it,
    and `*` stands for any coding not named)."""
    named: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding:
            named[coding.strip()] = quality
    if "gzip" in named:
        return named["gzip"] > 0
    return named.get("*", 0) > 0


@lru_cache(maxsize=64)
def gzipped(path: str, mtime_ns: int, size: int) -> bytes:  # noqa: ARG001 - the cache key: a changed file is new
    """A file's gzip, made once per process (the static files are part of the release)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


class Assets(StaticFiles):
    """Static files. A versioned URL (`?v=<asset version>`, what `asset()` writes) never
    changes, so it is kept a year; any other address is checked before each use, since the
    file behind it changes with a release. Text files go gzipped where the browser takes it,
    with `Vary: Accept-Encoding` on both answers, so no cache hands the gzip to a browser
    that asked for the plain file."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        request = Request(scope)
        versioned = request.query_params.get("v") == asset_version()
        if isinstance(response, FileResponse) and str(response.path).endswith(COMPRESSIBLE):
            response.headers["Vary"] = "Accept-Encoding"
            if takes_gzip(request.headers.get("accept-encoding", "")):
                response = await self.gzip_response(request, response)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = YEAR if versioned else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        return response

    @staticmethod
    async def gzip_response(request: Request, plain: FileResponse) -> Response:
        stat = os.stat(plain.path)
        # Off the event loop: GraphiQL's bundle takes a third of a second to compress, once.
        body = await asyncio.to_thread(gzipped, str(plain.path), stat.st_mtime_ns, stat.st_size)
        # The gzip is another representation: its own entity tag (RFC 9110 §8.8.3).
        etag = plain.headers["etag"].removesuffix('"') + '-gzip"'
        headers = {"ETag": etag, "Last-Modified": plain.headers["last-modified"], "Vary": "Accept-Encoding",
                   "Content-Encoding": "gzip"}
        if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(body if request.method != "HEAD" else b"", media_type=plain.media_type,
                        headers={**headers, "Content-Length": str(len(body))})


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
