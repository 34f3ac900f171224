"""Installable and readable offline: the service worker keeps public pages, never personal
ones, says since when the network is gone, and forgets everything on sign-out."""

from __future__ import annotations

import asyncio

import pytest

from tests.browser.test_journeys import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def until(page, script: str, timeout: float = 15.0) -> None:
    """Wait until an (async) script in the page answers truthy. Playwright's
    `wait_for_function` does not await a promise — any async function counts as true at once."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await page.evaluate(script):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still false after {timeout}s: {script}")
        await asyncio.sleep(0.2)


def kept(url_part: str, prefix: str = "lotse-", exact: bool = False) -> str:
    """A script: is a page whose address contains `url_part` (is it, `exact`) kept in a cache
    named `prefix…`?"""
    test = f"r.url === {url_part!r}" if exact else f"r.url.includes({url_part!r})"
    return f"""async () => {{
        for (const n of await caches.keys()) if (n.startsWith({prefix!r}))
            for (const r of await (await caches.open(n)).keys()) if ({test}) return true;
        return false;
    }}"""


async def kept_pages(page, prefixes: tuple[str, ...] = ("lotse-pages-", "lotse-session-")) -> list[str]:
    """What the worker keeps of the pages visited: public ones, and those kept while signed in."""
    return await page.evaluate("""async (prefixes) => {
        const names = (await caches.keys()).filter(n => prefixes.some(p => n.startsWith(p)));
        const urls = [];
        for (const name of names) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
        return urls.filter(u => !u.includes('__lotse'));
    }""", list(prefixes))


async def test_pages_read_offline_show_their_age_personal_pages_are_never_kept_and_sign_out_clears(phone):
    page = await phone.page()
    await phone.open(page, "/")
    manifest = await page.request.get(phone.dev.base_url + "/manifest.webmanifest")
    assert manifest.ok and any(i["sizes"] == "512x512" for i in (await manifest.json())["icons"])
    await page.wait_for_function("navigator.serviceWorker.controller !== null || "
                                 "navigator.serviceWorker.ready.then(() => true)")
    await page.evaluate("navigator.serviceWorker.ready")
    await page.reload()  # now controlled by the worker

    await sign_in(phone, page, "julia.weber")
    await phone.open(page, "/search?q=sprachkurs")
    await phone.open(page, "/regions/10041")
    await phone.open(page, "/me")
    await until(page, kept("/regions/10041"))
    await until(page, kept("/search?q=sprachkurs"))
    pages = await kept_pages(page)
    assert any("/search?q=sprachkurs" in u for u in pages) and any("/regions/10041" in u for u in pages)
    assert not any(u.endswith("/me") or "/signin" in u for u in pages), pages

    await phone.context.set_offline(True)
    await page.goto(phone.dev.base_url + "/regions/10041")
    status = page.locator("#offline-status")
    await status.wait_for()
    assert "offline" in (await status.inner_text()).lower()
    assert await page.locator("figure.chart svg").count() == 1  # the page itself, as kept
    await phone.check(page, "offline")
    await page.goto(phone.dev.base_url + "/me")  # personal: never kept, so the offline page instead
    assert await page.get_by_role("heading", level=1).inner_text() in ("Gerade offline", "Offline right now")
    await phone.context.set_offline(False)

    await phone.open(page, "/me")
    # Julia's account is in English: signing in switched the pages to it.
    await page.get_by_role("button", name="Sign out on this device").click()
    await page.wait_for_function("document.body.dataset.signedOut === '1'")
    await until(page, "async () => (await caches.keys()).every(n => !n.startsWith('lotse-pages-') && "
                      "!n.startsWith('lotse-session-'))")
