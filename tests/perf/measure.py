"""Latency and throughput of a bounded number of requests from a few concurrent clients."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    name: str
    requests: int
    seconds: float
    latencies: list[float]  # seconds, sorted

    def percentile(self, p: float) -> float:
        index = min(len(self.latencies) - 1, max(0, round(p / 100 * len(self.latencies)) - 1))
        return self.latencies[index]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        ms = 1000
        return (f"{self.name:<34} n={self.requests:<5} p50={self.p50 * ms:8.2f} ms  "
                f"p95={self.percentile(95) * ms:8.2f} ms  p99={self.percentile(99) * ms:8.2f} ms  "
                f"{self.throughput:9.1f} req/s")


async def run(name: str, requests: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> Stats:
    """Call `one(i)` for i in range(requests) from `concurrency` workers."""
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker() -> None:
        for i in counter:  # a shared iterator: each index runs once
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Stats(name, requests, time.perf_counter() - started, sorted(latencies))


def run_blocking(name: str, requests: int, one: Callable[[int], object]) -> Stats:
    """The baseline: one caller, no event loop, no network."""
    latencies = []
    started = time.perf_counter()
    for i in range(requests):
        t = time.perf_counter()
        one(i)
        latencies.append(time.perf_counter() - t)
    return Stats(name, requests, time.perf_counter() - started, sorted(latencies))
