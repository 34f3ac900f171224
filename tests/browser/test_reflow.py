"""Usable zoomed in: the pages reflow instead of cutting off or scrolling sideways.

WCAG 2.1 AA (BITV 2.0) asks for text resized to 200 % without loss of content (1.4.4) and for
reflow down to 320 CSS pixels without scrolling in two directions (1.4.10). Three ways a
person gets there, each against `lotse dev`:

- a desktop browser (1280×800) zoomed to 200 %: 640 CSS pixels wide at twice the density;
- the same at 400 %: 320 CSS pixels, the width WCAG names;
- a phone (360 px) whose reader set the browser's text to twice its size (32 px instead of
  16): every rem and em of the layout grows with it.

On every page: no sideways scrolling, every link, button and field inside the screen and
the page's heading visible.
"""

from __future__ import annotations

import pytest

from tests.browser.test_journeys import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PUBLIC = ["/", "/search?q=wohnung", "/regions", "/regions/10041", "/responsible", "/news", "/events", "/funding",
          "/signin", "/register", "/reset/request"]
SIGNED_IN = ["/me", "/notifications", "/follows", "/notifications/settings", "/contribute"]

# What overflows: the document, or a control sticking out to the right of the viewport.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width + 1) out.push(`page ${document.documentElement.scrollWidth}px`);
  for (const el of document.querySelectorAll('main a, main button, main input, main select, main textarea, header a')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not shown (hidden, collapsed)
    if (getComputedStyle(el).position === 'absolute' && box.right < 0) continue;  // skip links parked off screen
    const what = (el.innerText || el.name || '').trim().slice(0, 30);
    if (box.right > width + 1) out.push(`${el.tagName.toLowerCase()} "${what}" ends at ${Math.round(box.right)}px`);
  }
  return out;
}"""


async def _actor_path(phone, page) -> str:
    await phone.open(page, "/search?q=wohnung")
    href = await page.locator("#results ul.actors > li.card h3 a").first.get_attribute("href")
    assert href and href.startswith("/actors/")
    return href


async def _assert_reflows(phone, page, paths: list[str], how: str) -> None:
    for path in paths:
        response = await phone.open(page, path)
        assert response.ok, f"{path}: {response.status}"
        await page.wait_for_load_state("load")
        problems = await page.evaluate(OVERFLOW)
        assert problems == [], f"{how}, {path}: {problems}"
        heading = page.locator("main h1").first
        assert await heading.is_visible(), f"{how}, {path}: no visible heading"


@pytest.mark.parametrize(("viewport", "scale", "how"), [
    ({"width": 640, "height": 400}, 2, "desktop at 200 %"),
    ({"width": 320, "height": 200}, 4, "desktop at 400 %"),
])
async def test_pages_reflow_when_a_desktop_browser_zooms_in(browser, dev, viewport, scale, how):
    from tests.browser.conftest import Phone

    context = await browser.new_context(viewport=viewport, device_scale_factor=scale, locale="de-DE")
    person = Phone(context, dev)
    await context.route("**/*", person.route)
    try:
        page = await person.page()
        actor = await _actor_path(person, page)
        await _assert_reflows(person, page, [*PUBLIC, actor], how)
        await sign_in(person, page, "mehmet.yilmaz")
        await _assert_reflows(person, page, SIGNED_IN, how)
        assert person.elsewhere == []
    finally:
        await context.close()


async def test_pages_reflow_on_a_phone_with_text_at_twice_its_size(phone):
    page = await phone.page()
    # The browser's own text size, doubled (Chromium's setting behind "Font size"): what a
    # stylesheet sizes in rem and em grows with it.
    cdp = await phone.context.new_cdp_session(page)
    await cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    actor = await _actor_path(phone, page)
    size = await page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size >= 30, f"the text is {size}px: the setting did not reach the page, nothing would be measured"
    await _assert_reflows(phone, page, [*PUBLIC, actor], "phone, text 200 %")
    await sign_in(phone, page, "mehmet.yilmaz")
    await _assert_reflows(phone, page, SIGNED_IN, "phone, text 200 %")
