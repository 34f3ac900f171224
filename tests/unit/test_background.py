"""services.kernel.background.stop_task: a stopped task ends, its last error stays with it,
and a cancellation of whoever stops it still reaches them."""

from __future__ import annotations

import asyncio

import pytest

from services.kernel.background import stop_task


async def test_a_loop_is_cancelled_and_awaited():
    ended = asyncio.Event()

    async def loop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            ended.set()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    await stop_task(task)
    assert task.cancelled() and ended.is_set()
    await stop_task(None)  # nothing started: nothing to do


async def test_an_error_raised_on_the_way_out_ends_with_the_task():
    async def failing() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            raise RuntimeError("closing failed")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    await stop_task(task)
    assert isinstance(task.exception(), RuntimeError)


async def test_the_callers_own_cancellation_is_not_swallowed():
    async def slow_to_stop() -> None:
        while True:  # ignores cancellation for a while, as a loop finishing a batch does
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                await asyncio.sleep(0.2)
                return

    task = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    stopper = asyncio.create_task(stop_task(task))
    await asyncio.sleep(0.05)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    await asyncio.wait([task])


async def test_a_task_that_swallowed_its_cancellation_is_cancelled_again(monkeypatch):
    from services.kernel import background

    monkeypatch.setattr(background, "RECANCEL_AFTER", 0.05)
    swallowed = 0

    async def loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed == 0:
                    swallowed += 1  # as wait_for's race does once: the loop goes on
                    continue
                raise

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    await asyncio.wait_for(stop_task(task), 2)
    assert task.cancelled() and swallowed == 1
