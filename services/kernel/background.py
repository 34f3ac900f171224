"""Background tasks of a service's parts (consumers, watches, loops): how one is stopped."""

from __future__ import annotations

import asyncio
from typing import Any

RECANCEL_AFTER = 1.0  # seconds a stopped task has to end before it is cancelled again


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and return once it has ended.

    Whatever the task raised on its way out ends with it: it is being stopped. A
    cancellation of the caller itself still reaches the caller (`asyncio.wait` does not
    swallow it, as a bare `except CancelledError` around `await task` would).
    """
    if task is None:
        return
    # Cancelled again until it ends: a cancellation that lands just as an inner
    # `asyncio.wait_for` (nats-py's fetch, say) completes is swallowed on Python 3.11, and a
    # loop would then run on for ever — and whoever stops it would wait for ever.
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=RECANCEL_AFTER)
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not report it as never retrieved
