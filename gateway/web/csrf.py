"""CSRF protection for every form: a signed double-submit token.

The browser holds a random value in an HttpOnly cookie; every form carries
HMAC(key, value) in a hidden field. A POST is accepted only when the field matches the
cookie it came with. Another site can make a browser post to us, but it can read neither
the cookie nor our pages, so it cannot write the field; and because the field is signed,
a cookie planted by a neighbour (over plain http, where `__Host-` does not protect) is
useless without our key. Browsers that say where a request came from (`Sec-Fetch-Site`,
`Origin`) are also held to it: a cross-site post is refused before the token is looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

FIELD = "csrf"


def new_value() -> str:
    return secrets.token_urlsafe(32)


def token_for(key: bytes, cookie_value: str) -> str:
    return hmac.new(key, cookie_value.encode(), hashlib.sha256).hexdigest()


def valid(key: bytes, cookie_value: str | None, submitted: str | None) -> bool:
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(token_for(key, cookie_value), submitted)


def same_origin(request: Request, public_url: str) -> bool:
    """False when the browser says the request came from another site.

    `Sec-Fetch-Site` decides where the browser sends it (every current one does). `Origin`
    is the fallback — but a page with `Referrer-Policy: no-referrer` (the mail-link pages)
    makes browsers send `Origin: null` on its own forms, so "null" proves nothing either way
    and the token alone decides.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    allowed = {request.headers.get("host", "")}
    if public_url:
        allowed.add(urlsplit(public_url).netloc)
    return urlsplit(origin).netloc in allowed
