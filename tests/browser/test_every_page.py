"""Every page the web client serves, checked once on the phone: axe-core (no serious or
critical WCAG 2.1 AA violation), nothing loaded from another host, no CSP refusal, no
sideways scrolling — the journeys reach most pages; this reaches the rest, in English as
well as in German, and the pages a mail link opens with a link that is not (or no longer)
good, as people do open them."""

from __future__ import annotations

import pytest

from tests.browser.test_journeys import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PUBLIC = ["/", "/search?q=wohnung", "/regions", "/regions/10041", "/regions/10041100",
          "/responsible?topic=housing&state=10&district=10041&municipality=10041100", "/news", "/events",
          "/funding", "/signin", "/register", "/reset/request", "/confirm/resend", "/offline", "/saved"]
# Mail links with a token that is not good: each answers its own page, not an error page.
LINKS = ["/confirm?token=not-a-token", "/reset?token=not-a-token", "/invitation?token=not-a-token",
         "/unsubscribe/not-a-token"]
MEMBER = ["/me", "/my-data", "/notifications", "/follows", "/notifications/settings", "/contribute",
          "/contribute/new"]
ADMIN = ["/admin/actors"]


async def _visit(phone, page, paths: list[str]) -> None:
    for path in paths:
        response = await phone.open(page, path)
        assert response.status < 500, f"{path}: {response.status}"
        assert await page.locator("main h1").first.is_visible(), f"{path}: no heading"
        await phone.check(page)


async def _first(page, selector: str) -> str:
    href = await page.locator(selector).first.get_attribute("href")
    assert href, selector
    return href


async def test_every_public_page_and_mail_link_page_in_german_and_english(phone):
    page = await phone.page()
    await phone.open(page, "/search?q=wohnung")
    actor = await _first(page, "#results ul.actors > li.card h3 a")
    await phone.open(page, "/news")
    item = await _first(page, "li.news-card h3 a")
    await _visit(phone, page, [*PUBLIC, actor, item, *LINKS])
    # The same pages in English: the switch keeps the page, the choice stays for the next.
    await phone.open(page, "/")
    await page.get_by_role("link", name="English").click()
    await page.wait_for_function("document.documentElement.lang === 'en'")
    await _visit(phone, page, [*PUBLIC, actor, item, *LINKS])


async def test_every_members_and_admins_page(phone, browser):
    page = await phone.page()
    await sign_in(phone, page, "mehmet.yilmaz")
    await phone.open(page, "/contribute")
    mine = await _first(page, 'main a[href^="/contribute/actors/"]')
    await _visit(phone, page, [*MEMBER, mine, f"{mine}/news", f"{mine}/news/new"])

    admin = await phone.page()
    await phone.context.clear_cookies()
    await sign_in(phone, admin, "admin")
    await _visit(phone, admin, ADMIN)
