"""The web client's own rules, without a platform: cookies, fragments, headers, texts, budgets."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import base64
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from cryptography.fernet import Fernet

from gateway.web import i18n
from gateway.web.page import STATIC, local_path
from gateway.web.session import Refresher, WebSession
from proto import directory, identity
from proto.errors import Unauthenticated
from tests.support.gateway import FakeIdentity, app_with, http

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
WEB = Path(__file__).resolve().parents[2] / "gateway" / "web"


def session(n: int) -> identity.Session:
    return identity.Session(
        access_token=f"access-{n}", access_expires_at=NOW + timedelta(minutes=15), refresh_token=f"refresh-{n}",
        refresh_expires_at=NOW + timedelta(days=30),
        account=identity.Account(id="A1", username="eda", email="eda@example.org", display_name="Eda", locale="de",
                                 role="member", email_confirmed=True, created_at=NOW))


# ---- the session cookie ---------------------------------------------------------------

def test_a_sealed_session_opens_only_with_its_key_and_shows_no_token():
    key, other = Fernet(Fernet.generate_key()), Fernet(Fernet.generate_key())
    sealed = WebSession.of(session(1)).seal(key)
    assert "refresh-1" not in sealed and "access-1" not in sealed
    assert WebSession.unseal(key, sealed) == WebSession.of(session(1))
    assert WebSession.unseal(other, sealed) is None
    assert WebSession.unseal(key, sealed[:-4] + "AAAA") is None
    assert WebSession.unseal(key, "not a cookie") is None


async def test_concurrent_refreshes_of_one_token_ask_identity_once_and_share_the_new_pair():
    """A refresh token works once: two page loads racing with the same expired access token
    must not spend it twice (identity would end the session as stolen)."""
    calls = []

    class Identity:
        async def refresh_session(self, request, caller):
            calls.append(request.refresh_token)
            await asyncio.sleep(0.05)
            return session(len(calls) + 1)

    class Client:
        identity = Identity()

    refresher = Refresher()
    results = await asyncio.gather(*[refresher.refresh(Client(), "refresh-1", None, NOW) for _ in range(5)])
    assert calls == ["refresh-1"]
    assert {r.refresh_token for r in results} == {"refresh-2"}
    # A request still carrying the old cookie a moment later gets the same pair, not a second refresh.
    assert (await refresher.refresh(Client(), "refresh-1", None, NOW + timedelta(seconds=30))).refresh_token == \
        "refresh-2"
    assert calls == ["refresh-1"]


async def test_a_refused_refresh_is_not_remembered():
    class Identity:
        async def refresh_session(self, request, caller):
            raise Unauthenticated("this session has ended; sign in again")

    class Client:
        identity = Identity()

    refresher = Refresher()
    with pytest.raises(Unauthenticated):
        await refresher.refresh(Client(), "refresh-1", None, NOW)
    assert refresher._recent == {} and refresher._inflight == {}


@pytest.mark.parametrize(("candidate", "expected"), [
    ("/me", "/me"), ("/search?q=a", "/search?q=a"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"), ("", "/"), ("/a\nb", "/"),
])
def test_next_may_only_send_the_browser_to_a_path_on_this_site(candidate, expected):
    assert local_path(candidate) == expected


# ---- fragments, headers ------------------------------------------------------------

def search_reply() -> directory.ActorConnection:
    return directory.ActorConnection(edges=[], page_info=directory.PageInfo(
        has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None), total_count=0,
        facets=directory.Facets(kinds=[], topics=[], languages=[]))


def fake_directory() -> FakeIdentity:
    return FakeIdentity({"list_regions": directory.RegionList(regions=[]), "search_actors": search_reply()})


async def test_a_url_answers_the_page_without_the_htmx_header_and_the_fragment_with_it():
    async with http(app_with(FakeIdentity(), fake_directory())) as client:
        page = await client.get("/search?q=wohnung")
        fragment = await client.get("/search?q=wohnung", headers={"HX-Request": "true"})
        restore = await client.get("/search?q=wohnung", headers={"HX-Request": "true",
                                                                  "HX-History-Restore-Request": "true"})
    assert page.text.startswith("<!doctype html>") and "<html" in page.text
    assert not fragment.text.lstrip().startswith("<!doctype") and 'id="results"' in fragment.text
    assert "<html" not in fragment.text
    assert restore.text.startswith("<!doctype html>")  # the back button never gets a bare fragment
    for response in (page, fragment):
        assert "HX-Request" in response.headers["vary"]


async def test_pages_forbid_inline_script_and_other_hosts_and_public_ones_are_revalidated():
    async with http(app_with(FakeIdentity(), fake_directory())) as client:
        response = await client.get("/search")
        signin = await client.get("/signin")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "http" not in csp
    assert response.headers["cache-control"] == "private, no-cache"
    assert signin.headers["cache-control"] == "no-store"  # personal: never kept, by anyone
    assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None  # no inline script
    assert not re.search(r"<[^>]+\son[a-z]+=", response.text)  # no inline event handlers


async def test_the_session_and_csrf_cookies_are_httponly_samesite_and_secure_behind_https():
    async with http(app_with(FakeIdentity(), fake_directory(), public_url="https://lotse.example")) as client:
        response = await client.get("/search")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-lotse-csrf=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Path=/" in cookie
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_signed_out_pages_ask_for_sign_in():
    async with http(app_with(FakeIdentity(), fake_directory())) as client:
        for path in ("/me", "/contribute", "/admin/actors", "/contribute/new"):
            response = await client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/signin?next="), path


# ---- texts ------------------------------------------------------------------------

def used_keys() -> set[str]:
    keys: set[str] = set()
    methods = [("templates/**.html", "jinja2"), ("**.py", "python")]
    for _, _, message, *_ in extract_from_dir(str(WEB), method_map=methods,
                                              keywords={"_": None, "ngettext": (1, 2), "t": None}):
        keys.update(message if isinstance(message, tuple) else (message,))
    return {k for k in keys if re.fullmatch(r"[a-z_]+(\.[A-Za-z_]+)+", k)}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_text_the_pages_use_is_in_both_catalogs_and_none_is_empty_or_fuzzy(lang):
    with i18n.catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    ids |= {m.id[1] for m in catalog if isinstance(m.id, tuple)}
    missing = sorted(used_keys() - ids)
    assert missing == [], f"{lang} lacks {missing}"
    for message in catalog:
        if message.id:
            assert not message.fuzzy and all(message.string if isinstance(message.string, tuple)
                                             else [message.string]), message.id


def test_german_and_english_catalogs_hold_the_same_keys():
    def keys(lang: str) -> set[str]:
        with i18n.catalog_path(lang).open("rb") as f:
            return {str(m.id) for m in read_po(f, locale=lang) if m.id}
    assert keys("de") == keys("en")


def test_texts_compile_and_format():
    assert i18n.text("de", "limited.text", minutes=3).endswith("in 3 Minuten noch einmal.")
    assert i18n.text("en", "nav.search") == "Search"


# ---- budgets and vendored files -----------------------------------------------------

def scripts_of(html: str) -> list[Path]:
    return [STATIC / src.split("?")[0].removeprefix("/assets/") for src in re.findall(r'<script src="([^"]+)"', html)]


async def test_no_page_sends_more_than_50_kb_of_javascript_gzipped():
    from tests.unit.test_web_reading import fake_news

    async with http(app_with(FakeIdentity(), fake_directory(), fake_news())) as client:
        for path in ("/", "/search", "/responsible", "/signin", "/register", "/offline", "/reset/request",
                     "/news", "/events", "/funding", "/saved", "/news/01JNEWS0000000000000000002"):
            html = (await client.get(path)).text
            total = sum(len(gzip.compress(p.read_bytes(), 9)) for p in scripts_of(html))
            print(f"{path}: {total} bytes of JavaScript, gzipped")
            assert total <= 50_000, (path, total)
            assert (total > 0) == (path != "/reset/request"), path  # the mail-link pages run no script


async def raw_asset(client, url: str, accept_encoding: str | None):
    """The bytes as sent (httpx would undo the gzip) and the headers; no Accept-Encoding at
    all when `accept_encoding` is None."""
    request = client.build_request("GET", url)
    del request.headers["accept-encoding"]
    if accept_encoding is not None:
        request.headers["accept-encoding"] = accept_encoding
    response = await client.send(request, stream=True)
    body = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response, body


@pytest.mark.parametrize("path", ["vendor/htmx-2.0.11.min.js", "app.css", "app.js", "notifications.js",
                                  "vendor/graphiql/graphiql-3.8.3.min.js", "vendor/graphiql/graphiql-3.8.3.min.css"])
async def test_text_assets_go_gzipped_to_who_takes_it_and_plain_to_who_does_not(path):
    from gateway.web.page import asset

    plain_file = (STATIC / path).read_bytes()
    async with http(app_with(FakeIdentity())) as client:
        zipped, body = await raw_asset(client, asset(path), "gzip, deflate, br")
        assert zipped.status_code == 200 and zipped.headers["content-encoding"] == "gzip"
        assert gzip.decompress(body) == plain_file and len(body) < len(plain_file)
        assert int(zipped.headers["content-length"]) == len(body)
        assert zipped.headers["vary"] == "Accept-Encoding"
        assert zipped.headers["cache-control"] == "public, max-age=31536000, immutable"  # versioned: a year
        # A browser revalidating the gzip it holds hears "not modified".
        again = await client.get(asset(path), headers={"accept-encoding": "gzip",
                                                       "if-none-match": zipped.headers["etag"]})
        assert again.status_code == 304 and again.content == b""

        for refused in (None, "identity", "gzip;q=0, identity"):
            plain, body = await raw_asset(client, asset(path), refused)
            assert plain.status_code == 200 and "content-encoding" not in plain.headers, refused
            assert body == plain_file, refused
            assert plain.headers["vary"] == "Accept-Encoding"
            assert plain.headers["etag"] != zipped.headers["etag"]  # two representations, two tags

        # Without the release's version the address may show another file tomorrow: checked each time.
        unversioned, _ = await raw_asset(client, f"/assets/{path}", "gzip")
        assert unversioned.headers["cache-control"] == "no-cache"


async def test_images_go_as_they_are():
    from gateway.web.page import asset

    async with http(app_with(FakeIdentity())) as client:
        response, body = await raw_asset(client, asset("icons/icon-192.png"), "gzip")
    assert "content-encoding" not in response.headers and body == (STATIC / "icons/icon-192.png").read_bytes()
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_accept_encoding_is_read_with_its_weights():
    from gateway.web.routes import takes_gzip

    assert takes_gzip("gzip") and takes_gzip("br, gzip;q=0.5") and takes_gzip("*") and takes_gzip("GZIP")
    assert not takes_gzip("") and not takes_gzip("identity") and not takes_gzip("gzip;q=0")
    assert not takes_gzip("*, gzip;q=0") and not takes_gzip("br") and not takes_gzip("gzip;q=nonsense")


VENDORED = {
    "vendor/htmx-2.0.11.min.js": "2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg",
    "vendor/graphiql/react-18.2.0.production.min.js":
        "tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    "vendor/graphiql/react-dom-18.2.0.production.min.js":
        "bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    "vendor/graphiql/graphiql-3.8.3.min.js": "HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    "vendor/graphiql/graphiql-3.8.3.min.css": "Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    "vendor/graphiql/plugin-explorer-1.0.2.umd.js": "2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    "vendor/graphiql/plugin-explorer-1.0.2.css": "5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
}


@pytest.mark.parametrize(("path", "digest"), VENDORED.items())
def test_vendored_files_are_the_pinned_releases(path, digest):
    assert base64.b64encode(hashlib.sha384((STATIC / path).read_bytes()).digest()).decode() == digest


async def test_graphiql_comes_from_the_gateway_alone():
    async with http(app_with(FakeIdentity())) as client:
        response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "graphiql-3.8.3.min.js" in response.text
    assert "unpkg" not in response.text and "https://" not in response.text
    assert "<script>" not in response.text  # the init script is a file too
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


async def test_the_service_worker_is_versioned_and_never_keeps_personal_paths():
    async with http(app_with(FakeIdentity())) as client:
        script = (await client.get("/sw.js")).text
    assert "__VERSION__" not in script and re.search(r'const VERSION = "[0-9a-f]{12}"', script)
    for path in ("/me", "/contribute", "/admin", "/signin"):
        assert f'"{path}"' in script
