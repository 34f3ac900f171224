"""The platform as `make dev` runs it — a real `lotse dev` process with its embedded
nats-server on free ports, sample data loaded, mail written to files — and headless
Chromium on a phone's viewport, with every request to another host refused."""

from __future__ import annotations

import asyncio
import email
import os
import re
import signal
import time
from dataclasses import dataclass
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_dev_command import dev_process, end_embedded_nats
from tests.support.browser import ARGS, PHONE, axe_violations, chromium_path
from tests.support.nats_server import free_port
from tests.support.processes import LotseProcess, wait_for_output, wait_until_ready

# The tests keep their screenshots as artifacts (var/screenshots, not in git); `make
# screenshots` runs them with LOTSE_SCREENSHOTS=docs/screenshots to renew README's pictures.
SCREENSHOTS = Path(os.environ.get("LOTSE_SCREENSHOTS")
                   or Path(__file__).resolve().parents[2] / "var" / "screenshots")


@dataclass
class Dev:
    process: LotseProcess
    base_url: str
    data_dir: Path

    def mail_to(self, address: str, containing: str, timeout: float = 20.0) -> str:
        """The text of the newest mail to `address` whose body contains `containing`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted((self.data_dir / "mail").glob("*.eml"), key=lambda p: p.stat().st_mtime,
                               reverse=True):
                message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                if address in str(message["To"]):
                    body = message.get_body(("plain",))
                    text = body.get_content() if body else ""
                    if containing in text:
                        return text
            time.sleep(0.2)
        raise AssertionError(f"no mail to {address} with {containing!r} within {timeout}s")

    def link_in(self, text: str, path: str) -> str:
        match = re.search(r"https?://\S*" + re.escape(path) + r"\S*", text)
        assert match, f"no {path} link in:\n{text}"
        return match.group(0)


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_path()


@pytest.fixture(scope="session")
def dev(chromium, tmp_path_factory):  # noqa: ARG001 - no browser, no platform to start
    root = tmp_path_factory.mktemp("dev")
    http_port, nats_port = free_port(), free_port()
    process = dev_process(root / "var", http_port, nats_port, root / "dev.log").start()
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_ready(f"{base}/readyz", 120, process)
        wait_for_output(process, "Lotse is running.", 120)
        yield Dev(process, base, root / "var")
    finally:
        if process.proc and process.proc.poll() is None:
            process.stop(signal.SIGINT)
        end_embedded_nats(root / "var")


@pytest.fixture(scope="session")
async def browser(chromium):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # Playwright gives each launch a fresh, temporary user-data directory.
        launched = await playwright.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        yield launched
        await launched.close()


class Phone:
    """One person's browser: a fresh context on a 360×800 viewport that may reach only
    this machine; every request to another host is refused and remembered."""

    def __init__(self, context, dev: Dev):
        self.context = context
        self.dev = dev
        self.elsewhere: list[str] = []
        self.csp_errors: list[str] = []

    async def route(self, route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            await route.abort()

    async def page(self):
        page = await self.context.new_page()
        page.on("console", lambda msg: self.csp_errors.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        return page

    async def open(self, page, path: str):
        response = await page.goto(self.dev.base_url + path)
        assert response is not None
        return response

    async def check(self, page, name: str | None = None) -> None:
        """No serious accessibility problem, nothing from elsewhere, no CSP refusal; a screenshot."""
        violations = await axe_violations(page)
        assert violations == [], f"{page.url}: {violations}"
        assert self.elsewhere == [], self.elsewhere
        assert self.csp_errors == [], self.csp_errors
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px screen"
        if name:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


@pytest.fixture
async def phone(browser, dev):
    context = await browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
                                        locale="de-DE", timezone_id="Europe/Berlin", service_workers="allow")
    person = Phone(context, dev)
    await context.route("**/*", person.route)
    yield person
    await context.close()


def wait(seconds: float) -> asyncio.Future:
    return asyncio.sleep(seconds)
