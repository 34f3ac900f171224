"""What every page the gateway serves says about itself: security and caching headers.

The Content-Security-Policy allows script only from our own files (no inline script, no
inline event handlers, no eval), styles only from our own files, and nothing from
another host: a public body's visitors' addresses go to no CDN. htmx is told not to add
its inline indicator style (the `htmx-config` meta tag), so it needs no exception.
"""

from __future__ import annotations

from services.kernel.settings import Settings

CSP_PAGES = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "manifest-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Pages that mail links open run no script at all: their URL carries a token.
CSP_NO_SCRIPT = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)

# Personal pages (member area, contribute, admin, and any page that shows what only a
# signed-in person may see) are never stored, by the browser or the service worker.
NO_STORE = "no-store"
# Public pages may be kept (the service worker keeps the last ones for offline reading)
# but are checked with us before each use.
REVALIDATE = "private, no-cache"
# A public page that also shows members-only news (signed-in people see it) holds nothing
# about the person: the service worker may keep it for offline reading, but only while the
# person is signed in — in a cache of its own, dropped on sign-out and as soon as a page
# says the session is gone (`KEPT_HEADER` / `SESSION_HEADER`, read by static/sw.js).
KEPT_HEADER = "X-Lotse-Kept"
SESSION_HEADER = "X-Lotse-Session"


def page_headers(settings: Settings, *, personal: bool, scripts: bool = True,
                 referrer: str = "same-origin", members: bool = False, signed_in: bool | None = None) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CSP_PAGES if scripts else CSP_NO_SCRIPT,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": referrer,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cache-Control": NO_STORE if personal else REVALIDATE,
        # The same URL answers a page or (to htmx) a fragment, in the chosen language, for
        # the signed-in person or anyone: a cache must keep them apart.
        "Vary": "HX-Request, Cookie, Accept-Language",
    }
    if members and not personal:
        headers[KEPT_HEADER] = "while-signed-in"
    if signed_in is not None:
        headers[SESSION_HEADER] = "signed-in" if signed_in else "none"
    if settings.https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers
