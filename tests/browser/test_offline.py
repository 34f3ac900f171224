"""Installable and readable offline: the service worker keeps public pages, never personal
ones, says since when the network is gone, and forgets everything on sign-out."""

from __future__ import annotations

import pytest

from tests.browser.test_journeys import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def kept_pages(page) -> list[str]:
    return await page.evaluate("""async () => {
        const names = (await caches.keys()).filter(n => n.startsWith('lotse-pages-'));
        const urls = [];
        for (const name of names) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
        return urls.filter(u => !u.includes('__lotse'));
    }""")


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
    await page.wait_for_function("""async () => {
        const names = (await caches.keys()).filter(n => n.startsWith('lotse-pages-'));
        for (const name of names) for (const r of await (await caches.open(name)).keys())
            if (r.url.includes('/regions/10041')) return true;
        return false;
    }""")
    kept = await kept_pages(page)
    assert any("/search?q=sprachkurs" in u for u in kept) and any("/regions/10041" in u for u in kept)
    assert not any(u.endswith("/me") or "/signin" in u for u in kept), kept

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
    await page.wait_for_function("""async () => (await caches.keys()).every(n => !n.startsWith('lotse-pages-'))""")
