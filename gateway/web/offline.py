"""Installable and readable offline: the web app manifest, the service worker, the offline page.

The service worker (static/sw.js) keeps the shell — styles, scripts, icons, the offline
page — and the last public pages visited (the feed among them), each in caches named after
`asset_version()`, so a new release drops the old ones. Pages with members-only news go to a
cache of their own that lives only while the person is signed in (headers.py). Events the
person saved ("save event") are kept, page and .ics, until removed — carried over into a new
release's cache, since the person chose them. It never keeps a page the gateway marks personal
(`Cache-Control: no-store`) nor anything under the personal paths below, and it keeps
nothing from a fragment request. Offline, it answers with the kept page and says since
when the network is gone and how old the page is. Signing out clears its caches
(`Clear-Site-Data`, and app.js as well).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from gateway.web.page import STATIC, Page, asset, asset_version, page_of

router = APIRouter(include_in_schema=False)

# Never kept by the service worker, whatever the headers say.
PERSONAL_PATHS = ("/me", "/signin", "/signout", "/register", "/contribute", "/admin", "/invitation", "/confirm",
                  "/reset", "/language", "/graphql", "/export", "/metrics", "/healthz", "/readyz", "/sw.js",
                  "/notifications", "/follows", "/unsubscribe")

SHELL = ("app.css", "app.js", "notifications.js", "vendor/htmx-2.0.11.min.js", "icons/icon.svg", "icons/icon-192.png")


def shell_urls() -> list[str]:
    return [asset(path) for path in SHELL] + ["/offline", "/saved"]


@router.get("/manifest.webmanifest")
async def manifest() -> JSONResponse:
    body = {
        "name": "Lotse – Migration und Integration",
        "short_name": "Lotse",
        "description": "Wer ist wofür zuständig? Das Netzwerk für Migration und Integration.",
        "lang": "de",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f6f8",
        "theme_color": "#0b5c8a",
        "icons": [
            {"src": asset("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": asset("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": asset("icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
            {"src": asset("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JSONResponse(body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@router.get("/sw.js")
async def service_worker() -> Response:
    source = (STATIC / "sw.js").read_text("utf-8")
    script = (source.replace("__VERSION__", asset_version())
              .replace("__SHELL__", json.dumps(shell_urls()))
              .replace("__PERSONAL__", json.dumps(list(PERSONAL_PATHS))))
    return Response(script, media_type="text/javascript", headers={
        # Checked on every load, so a new release's worker takes over at once.
        "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
    })


@router.get("/offline")
async def offline_page(page: Page = Depends(page_of)) -> Response:
    """What the worker shows for a page it never kept: the pages that can be read offline."""
    return page.render("offline.html", title=page.t("offline.title"), offline_page=True)


@router.get("/saved")
async def saved_events(page: Page = Depends(page_of)) -> Response:
    """The events this browser saved: listed by app.js from the worker's cache, so it reads the
    same with and without network; the server knows nothing of them."""
    return page.render("saved.html", title=page.t("saved.title"), offline_page=True)
