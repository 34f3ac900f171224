"""Headless Chromium for the browser tests: Debian's `chromium` driven by Playwright.

Playwright's own browser download cannot work here, so the tests launch the system
browser (`LOTSE_CHROMIUM`, default /usr/bin/chromium). Where it is missing the tests skip
— and say so at the end of the run (tests/conftest.py) — unless LOTSE_REQUIRE_BROWSER=1,
as CI sets it, which makes a missing browser a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[1] / "browser" / "vendor" / "axe-core-4.14.1.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PHONE = {"width": 360, "height": 800}
# Begins the reason of every browser skip: the run's summary (tests/conftest.py) finds them
# among the reports, which pytest-xdist's workers send to the controlling process.
SKIP_PREFIX = "browser not found: "


def chromium_path() -> str:
    """The browser to drive, or skip (fail under LOTSE_REQUIRE_BROWSER=1)."""
    path = os.environ.get("LOTSE_CHROMIUM", "/usr/bin/chromium")
    if Path(path).is_file() or shutil.which(path):
        return path
    reason = f"{SKIP_PREFIX}no Chromium at {path}"
    if os.environ.get("LOTSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and LOTSE_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(reason)


async def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now.

    axe is evaluated through the DevTools protocol, not added as a <script>: the pages'
    Content-Security-Policy (rightly) refuses inline script, and the test must not loosen it."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text("utf-8") + "\n;undefined")
    result = await page.evaluate("""async () => {
        const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]
