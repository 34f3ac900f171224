"""The feed's first render on a phone on a slow network: first-contentful-paint of `/news`
in Debian's Chromium (Playwright) on emulated slow 3G — about 400 kbit/s down and up, 400 ms
round trip (CDP `Network.emulateNetworkConditions`) — with the CPU slowed four times
(`Emulation.setCPUThrottlingRate`), each run a fresh browser context (nothing cached, no
service worker yet), against the platform as `make dev` runs it (sample data).

Beside it, the same bytes — the page and every file it loads, captured from the gateway —
served by a one-process FastAPI + SQLite peer (tests/perf/web_page_peer.py, its own
process): the floor the network and the browser set, so the ratio is what the gateway's
work (session, services over NATS, templates) adds to a person's wait.

Prints p50 and max over LOTSE_BENCH_RENDERS runs (7) against the 2 s budget of issue 11;
asserts nothing about time (`make bench`, never `make test`).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_dev_command import dev_process, end_embedded_nats
from tests.perf.web_page_peer import SCHEMA
from tests.support.browser import ARGS, PHONE, chromium_path
from tests.support.nats_server import free_port, wait_for_port
from tests.support.processes import wait_for_output, wait_until_ready

RUNS = int(os.environ.get("LOTSE_BENCH_RENDERS", "7"))
BUDGET_MS = 2000
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
CPU_SLOWDOWN = 4
PATH = "/news"


async def first_paint(browser, url: str) -> tuple[float, int]:
    """First-contentful-paint (ms) of one cold load, and the bytes the page's load moved."""
    context = await browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
                                        locale="de-DE")
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        await cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        await page.goto(url, wait_until="load", timeout=120_000)
        await page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0",
                                     timeout=60_000)
        paint = await page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
        moved = await page.evaluate("performance.getEntriesByType('navigation')[0].transferSize + "
                                    "performance.getEntriesByType('resource').reduce((n, r) => n + r.transferSize, 0)")
        return float(paint), int(moved)
    finally:
        await context.close()


def capture(base: str, path: str, pages_db: Path) -> list[str]:
    """The page and the files it loads (styles, scripts, icons), as the peer will serve them:
    the bytes on the wire, gzipped where the gateway gzipped them for a browser that takes it."""
    with httpx.Client(base_url=base, timeout=30, headers={"Accept-Encoding": "gzip"}) as http:
        html = http.get(path, headers={"Accept-Language": "de"})
        html.raise_for_status()
        files = sorted(set(re.findall(r'(?:src|href)="(/assets/[^"]+)"', html.text)))
        db = sqlite3.connect(pages_db)
        db.execute(SCHEMA)
        for file in [path, *files]:
            address = file.replace("&amp;", "&")
            with http.stream("GET", address, headers={"Accept-Language": "de"}) as response:
                response.raise_for_status()
                wire = b"".join(response.iter_raw())
                db.execute("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?)",
                           (address, response.headers["content-type"], response.headers.get("content-encoding", ""),
                            wire))
        db.commit()
        db.close()
    return files


def summary(name: str, paints: list[float]) -> str:
    return (f"{name}: first-contentful-paint p50 {statistics.median(paints):6.0f} ms, "
            f"max {max(paints):6.0f} ms over {len(paints)} runs")


@pytest.mark.slow
async def test_the_feeds_first_render_on_slow_3g_with_a_4x_slower_cpu_beside_the_same_bytes_from_a_peer(tmp_path):
    from playwright.async_api import async_playwright

    executable = chromium_path()
    http_port, nats_port = free_port(), free_port()
    dev = dev_process(tmp_path / "var", http_port, nats_port, tmp_path / "dev.log").start()
    base = f"http://127.0.0.1:{http_port}"
    peer = None
    try:
        wait_until_ready(f"{base}/readyz", 120, dev)
        wait_for_output(dev, "Lotse is running.", 120)
        pages_db = tmp_path / "pages.sqlite3"
        files = capture(base, PATH, pages_db)
        peer_port = free_port()
        peer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "uvicorn", "tests.perf.web_page_peer:app", "--host", "127.0.0.1", "--port",
            str(peer_port), "--log-level", "warning", env={**os.environ, "LOTSE_PEER_DB": str(pages_db)})
        await asyncio.to_thread(wait_for_port, peer_port, 30)
        peer_base = f"http://127.0.0.1:{peer_port}"

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=executable, args=ARGS, headless=True)
            try:
                await first_paint(browser, base + PATH)  # warm the platform's own caches once
                ours: list[float] = []
                theirs: list[float] = []
                moved = 0
                started = time.monotonic()
                for _ in range(RUNS):  # interleaved, so a busy moment of the machine hits both
                    paint, moved = await first_paint(browser, base + PATH)
                    ours.append(paint)
                    theirs.append((await first_paint(browser, peer_base + PATH))[0])
                elapsed = time.monotonic() - started
            finally:
                await browser.close()
    finally:
        if peer is not None and peer.returncode is None:
            peer.terminate()
            await peer.wait()
        if dev.proc and dev.proc.poll() is None:
            dev.stop(signal.SIGINT)
        end_embedded_nats(tmp_path / "var")

    p50, peer_p50 = statistics.median(ours), statistics.median(theirs)
    print()
    print(f"feed {PATH} on slow 3G (400 kbit/s, 400 ms RTT), CPU slowed {CPU_SLOWDOWN}x, 360x800, cold each run; "
          f"{moved:,} bytes moved per load ({len(files)} files besides the page)")
    print(summary("gateway", ours) + f"  — budget {BUDGET_MS} ms: {'within' if max(ours) <= BUDGET_MS else 'OVER'}")
    print(summary("peer   ", theirs))
    print(f"ratio gateway/peer (p50): {p50 / peer_p50:.2f}; {2 * RUNS / elapsed:.2f} loads/s measured")
    assert len(ours) == RUNS and all(p > 0 for p in ours + theirs)  # each run painted
