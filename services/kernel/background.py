"""Background tasks of a service's parts (consumers, watches, loops): how one is stopped."""

from __future__ import annotations

import asyncio
from typing import Any


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and return once it has ended.

    Whatever the task raised on its way out ends with it: it is being stopped. A
    cancellation of the caller itself still reaches the caller (`asyncio.wait` does not
    swallow it, as a bare `except CancelledError` around `await task` would).
    """
    if task is None:
        return
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not report it as never retrieved
