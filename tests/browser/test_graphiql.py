"""GraphiQL on a network without internet: every request to another host is refused, and
the IDE still loads from the gateway and runs a query."""

from __future__ import annotations

import pytest

from tests.support.browser import PHONE

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def test_graphiql_loads_and_runs_a_query_with_every_other_host_blocked(browser, dev):
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
    elsewhere: list[str] = []

    async def only_here(route):
        if route.request.url.startswith(dev.base_url):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_here)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(dev.base_url + "/graphql?q=" + "%7B%20topics%20%7B%20slug%20de%20%7D%20%7D")
    await page.locator(".graphiql-execute-button").click(timeout=30_000)
    await page.get_by_text('"slug": "housing"').wait_for(timeout=30_000)
    assert elsewhere == []
    assert not [e for e in errors if "Content Security Policy" in e], errors
    await page.set_viewport_size(PHONE)
    await context.close()


async def test_the_pages_work_without_javascript(browser, dev):
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False, locale="de-DE")
    page = await context.new_page()
    await page.goto(dev.base_url + "/search")
    await page.get_by_label("Suchbegriff").fill("wohnung")
    await page.get_by_role("button", name="Suchen").click()
    await page.wait_for_url("**q=wohnung**")
    assert "gefunden" in await page.locator("#results .summary").inner_text()
    await page.get_by_label("Landkreis oder kreisfreie Stadt").select_option("10041")
    await page.get_by_role("button", name="Suchen").click()  # the next level appears after a submit
    await page.get_by_label("Gemeinde").select_option(label="Saarbrücken")
    await context.close()
