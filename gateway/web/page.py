"""What every page handler stands on: who is asking, in which language, and how to answer.

`Page` is to a page handler what `info.context` is to a resolver: it carries the caller
(the person's access token from the session cookie, and the client address), so a handler
calls services through the typed proto client exactly as GraphQL does, and every rule the
API enforces holds on the pages too. It renders templates with the security headers, sets
and clears the cookies, and checks the CSRF token of every form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import ValidationError

from gateway.caller import client_address
from gateway.state import Gateway
from gateway.web import csrf, i18n
from gateway.web.headers import page_headers
from gateway.web.session import WebSession
from proto import directory, identity
from proto.common import Call, Caller, Q, R
from proto.errors import ErrorCode, LotseError
from proto.validation import invalid_from
from services.kernel.auth import Principal, TokenRevoked
from services.kernel.logging import get_logger

log = get_logger("gateway.web")

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
T = TypeVar("T")

SESSION_COOKIE = "lotse-session"
CSRF_COOKIE = "lotse-csrf"
LANG_COOKIE = "lotse-lang"


def cookie_name(page_settings_https: bool, base: str) -> str:
    """`__Host-` where the browser honours it (https): then only this host, path /, Secure,
    may set the cookie — no neighbour on a sibling domain can plant one."""
    return f"__Host-{base}" if page_settings_https else base


# ---- assets --------------------------------------------------------------------------

@lru_cache(maxsize=1)
def asset_version() -> str:
    """A digest of every static file: part of each asset URL and of the service worker's
    cache names, so a new release is fetched afresh and old caches are dropped."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def asset(path: str) -> str:
    return f"/assets/{path}?v={asset_version()}"


# ---- templates -----------------------------------------------------------------------

def _language_name(code: str, lang: str) -> str:
    from babel import Locale

    return Locale.parse(lang).languages.get(code, code)


LABELS = {
    "topic": {t.slug: t for t in directory.TOPICS},
    "kind": {t.slug: t for t in directory.ACTOR_KINDS},
    "level": {t.slug: t for t in directory.REGION_LEVELS},
}


def _label(vocabulary: str) -> Callable[[str, str], str]:
    def label(slug: str, lang: str) -> str:
        term = LABELS[vocabulary].get(slug)
        return (term.de if lang == "de" else term.en) if term else slug
    return label


@lru_cache(maxsize=len(i18n.LANGUAGES))
def environment(lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False,
                      extensions=["jinja2.ext.i18n"], undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(asset=asset, lang=lang, other_lang="en" if lang == "de" else "de")
    env.filters.update(
        when=lambda value: i18n.when(value, lang),
        day=lambda value: i18n.day(value, lang),
        topic=lambda slug: _label("topic")(slug, lang),
        kind=lambda slug: _label("kind")(slug, lang),
        level=lambda slug: _label("level")(slug, lang),
        language_name=lambda code: _language_name(code, lang),
        urlquote=lambda value: quote(str(value), safe=""),
        direction=i18n.direction,
        moment=lambda o: i18n.moment(o.local_start, o.local_end, o.all_day, lang),
        deadline_day=lambda value: i18n.deadline(value, lang),
        native_name=i18n.native_name,
    )
    return env


# ---- problems ------------------------------------------------------------------------

class PageProblem(Exception):
    """A page cannot be shown: rendered by `problem_response` with its status and texts."""

    def __init__(self, status: int, key: str, *, sign_in: bool = False, minutes: int | None = None,
                 detail: str | None = None) -> None:
        super().__init__(key)
        self.status = status
        self.key = key  # `<key>.title` and `<key>.text` in the catalogs
        self.sign_in = sign_in
        self.minutes = minutes
        self.detail = detail


def minutes(seconds: int | None) -> int:
    return max(1, -(-(seconds or 60) // 60))


def problem_of(error: LotseError) -> PageProblem:
    """A service's refusal as a page. UNAUTHENTICATED sends the person to sign in."""
    code = error.code
    if code == ErrorCode.UNAUTHENTICATED:
        return PageProblem(401, "problem.signin", sign_in=True)
    if code == ErrorCode.FORBIDDEN:
        return PageProblem(403, "problem.forbidden")
    if code == ErrorCode.NOT_FOUND:
        return PageProblem(404, "problem.not_found")
    if code == ErrorCode.RATE_LIMITED:
        return PageProblem(429, "limited", minutes=minutes(error.retry_after))
    if code == ErrorCode.INVALID_INPUT:
        return PageProblem(400, "problem.invalid", detail=error.message)
    if code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
        log.warning("web.service_error", code=code.value, error=error.message)
    return PageProblem(503, "problem.unavailable")


def local_path(candidate: str | None, default: str = "/") -> str:
    """Where a `next` parameter may send the browser: a path on this site, nothing else."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return default
    if any(ord(c) < 0x20 for c in candidate):
        return default
    return candidate


# ---- the page context ----------------------------------------------------------------

@dataclass
class Page:
    request: Request
    gateway: Gateway
    lang: str
    session: WebSession | None
    principal: Principal | None
    csrf_value: str
    _set: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    _clear: set[str] = field(default_factory=set)
    _clear_site: bool = False

    # -- who is asking

    @property
    def https(self) -> bool:
        return self.gateway.settings.https

    def cookie(self, base: str) -> str:
        return cookie_name(self.https, base)

    @property
    def address(self) -> str | None:
        peer = self.request.client.host if self.request.client else None
        return client_address(peer, self.request.headers.get("x-forwarded-for"),
                              self.gateway.settings.trusted_proxies)

    @property
    def caller(self) -> Caller:
        return Caller(token=self.session.access_token if self.session else None, client_address=self.address)

    @property
    def signed_in(self) -> bool:
        return self.principal is not None

    @property
    def is_admin(self) -> bool:
        return self.principal is not None and self.principal.is_admin

    def require_signed_in(self) -> Principal:
        if self.principal is None:
            raise PageProblem(401, "problem.signin", sign_in=True)
        return self.principal

    @property
    def csrf_token(self) -> str:
        return csrf.token_for(self.gateway.web_keys.csrf, self.csrf_value)

    @property
    def path(self) -> str:
        query = self.request.url.query
        return self.request.url.path + (f"?{query}" if query else "")

    def switch_language_url(self) -> str:
        return "/language?" + urlencode({"to": "en" if self.lang == "de" else "de", "next": self.path})

    def t(self, key: str, **values: object) -> str:
        return i18n.text(self.lang, key, **values)

    @property
    def htmx(self) -> bool:
        """A fragment is wanted: htmx asks, and not for a history restore (which needs the page)."""
        headers = self.request.headers
        return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"

    def now(self) -> datetime:
        return self.gateway.clock.now()

    # -- calling services

    async def ask(self, call: Call[Q, R], build: Callable[[], Q]) -> R:
        """A request whose refusal is a problem page (not found, forbidden, sign in, …)."""
        result = await self.attempt(call, build)
        if isinstance(result, LotseError):
            raise self.problem(result)
        return result

    async def attempt(self, call: Call[Q, R], build: Callable[[], Q]) -> R | LotseError:
        """A request whose refusal the handler shows itself (a form's field errors, a conflict)."""
        try:
            request = build()
        except ValidationError as e:
            return invalid_from(e)
        except LotseError as e:
            return e
        try:
            return await call(request, self.caller)
        except LotseError as e:
            if e.code == ErrorCode.UNAUTHENTICATED and self.session is not None:
                self.end_session()  # the session ended elsewhere: this cookie is worth nothing now
            if e.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
                verb = getattr(getattr(call, "endpoint", None), "verb", None)
                log.warning("web.service_error", verb=verb, code=e.code.value, error=e.message)
            return e

    def problem(self, error: LotseError) -> PageProblem:
        return problem_of(error)

    # -- forms

    async def form(self) -> dict[str, list[str]]:
        """The posted fields (every value of each name), after the CSRF check."""
        form = await self.request.form()
        fields: dict[str, list[str]] = {}
        for name, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(name, []).append(value)
        if (chosen := (fields.get("lang") or [""])[0]) in i18n.LANGUAGES:
            self.lang = chosen  # the language of the page the form was on (the mail-link pages keep it so)
        submitted = (fields.get(csrf.FIELD) or [""])[0]
        if not csrf.same_origin(self.request, self.gateway.settings.public_url) or not csrf.valid(
                self.gateway.web_keys.csrf, self.request.cookies.get(self.cookie(CSRF_COOKIE)), submitted):
            log.info("web.csrf_refused", path=self.request.url.path)
            raise PageProblem(403, "problem.csrf")
        return fields

    # -- the session cookie

    def start_session(self, session: identity.Session) -> None:
        self.session = WebSession.of(session)
        verifier = self.gateway.verifier
        self.principal = verifier.verify(session.access_token) if verifier is not None else None
        self._store_session()

    def _store_session(self) -> None:
        assert self.session is not None
        lifetime = int((self.session.refresh_expires_at - self.now()).total_seconds())
        self._set[self.cookie(SESSION_COOKIE)] = (self.session.seal(self.gateway.web_keys.cookies), max(lifetime, 0))
        self._clear.discard(self.cookie(SESSION_COOKIE))

    def end_session(self, *, clear_site: bool = False) -> None:
        self.session = None
        self.principal = None
        self._set.pop(self.cookie(SESSION_COOKIE), None)
        self._clear.add(self.cookie(SESSION_COOKIE))
        self._clear_site = self._clear_site or clear_site

    def choose_language(self, lang: str) -> None:
        self.lang = lang
        self._set[self.cookie(LANG_COOKIE)] = (lang, 365 * 24 * 3600)

    # -- answering

    def finish(self, response: Response) -> Response:
        for name, (value, max_age) in self._set.items():
            response.set_cookie(name, value, max_age=max_age, path="/", secure=self.https, httponly=True,
                                samesite="lax")
        for name in self._clear:
            response.delete_cookie(name, path="/", secure=self.https, httponly=True, samesite="lax")
        if self._clear_site:
            # Signed out: the browser drops what it kept of this site — HTTP cache, the
            # service worker's caches and the worker itself (app.js also clears the caches).
            response.headers["Clear-Site-Data"] = '"cache", "storage"'
        return response

    def render(self, template: str, *, status: int = 200, personal: bool = False, fragment: str | None = None,
               scripts: bool = True, referrer: str = "same-origin", title: str | None = None,
               members: bool = False, **values: Any) -> Response:
        env = environment(self.lang)
        name = fragment if fragment is not None and self.htmx else template
        html = env.get_template(name).render(page=self, title=title, rendered_at=self.now(), scripts=scripts,
                                             **values)
        headers = page_headers(self.gateway.settings, personal=personal or self.request.method != "GET",
                               scripts=scripts, referrer=referrer, members=members, signed_in=self.signed_in)
        return self.finish(HTMLResponse(html, status_code=status, headers=headers))

    def redirect(self, url: str) -> Response:
        headers = page_headers(self.gateway.settings, personal=True)
        return self.finish(RedirectResponse(local_path(url), status_code=303, headers=headers))


async def page_of(request: Request) -> Page:
    """FastAPI dependency: the page context of one request (kept on `request.state` so the
    problem handler answers with the same cookies)."""
    existing = getattr(request.state, "page", None)
    if isinstance(existing, Page):
        return existing
    gateway: Gateway = request.app.state.gateway
    https = gateway.settings.https
    lang = i18n.language(request.query_params.get("lang"), request.cookies.get(cookie_name(https, LANG_COOKIE)),
                         request.headers.get("accept-language"))
    csrf_value = request.cookies.get(cookie_name(https, CSRF_COOKIE)) or ""
    page = Page(request=request, gateway=gateway, lang=lang, session=None, principal=None,
                csrf_value=csrf_value or csrf.new_value())
    if not csrf_value:
        page._set[page.cookie(CSRF_COOKIE)] = (page.csrf_value, None)  # a browser session's lifetime
    request.state.page = page
    await _resume(page, request.cookies.get(page.cookie(SESSION_COOKIE)))
    return page


async def _resume(page: Page, sealed: str | None) -> None:
    """The session the cookie holds: its access token while it lives, else a refreshed one."""
    if not sealed:
        return
    gateway = page.gateway
    session = WebSession.unseal(gateway.web_keys.cookies, sealed)
    if session is None or session.refresh_expires_at <= page.now():
        page.end_session()
        return
    verifier = gateway.verifier
    if verifier is None or gateway.lotse is None:
        return  # not connected yet: the page shows as signed out, the cookie stays for later
    if not session.needs_refresh(page.now()):
        try:
            page.session, page.principal = session, verifier.verify(session.access_token)
            return
        except TokenRevoked:
            page.end_session()  # signed out elsewhere, or everywhere
            return
        except LotseError:
            pass  # expired early or keys rotated: a refresh decides
    try:
        fresh = await gateway.web_sessions.refresh(gateway.client, session.refresh_token, page.caller, page.now())
    except LotseError as e:
        if e.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL, ErrorCode.RATE_LIMITED):
            log.warning("web.refresh_failed", code=e.code.value)
            return  # keep the cookie: the next request may refresh it
        page.end_session()
        return
    page.start_session(fresh)
