"""`pull`: a pull consumer's fetch that finds nothing is an empty batch, whichever timeout
nats-py raises for it — a short fetch on a quiet consumer, as the mailer polls between
account mail and notification mail, must not be logged as a failure."""

from __future__ import annotations

import asyncio

import nats.errors

from services.kernel.jetstream import pull


async def test_a_fetch_that_finds_nothing_is_an_empty_batch_and_a_message_still_comes(nc):
    js = nc.jetstream()
    await js.add_stream(name="PULLTEST", subjects=["pulltest.>"])
    sub = await js.pull_subscribe("pulltest.>", durable="pulltest")
    bare = 0  # a batch of more than one takes the path with two pull requests
    for n in range(200):
        timeout = 0.001 + (n % 20) * 0.0005  # around the moment nats-py sends its second request
        try:
            await sub.fetch(10, timeout=timeout)
        except nats.errors.TimeoutError:
            pass
        except asyncio.TimeoutError:
            bare += 1  # what `except nats.errors.TimeoutError` alone let through
        assert await pull(sub, 10, timeout) == []
    await js.publish("pulltest.one", b"hello")
    got = await pull(sub, 1, 2.0)
    assert [m.data for m in got] == [b"hello"]
    print(f"bare asyncio.TimeoutError from fetch: {bare} of 200")
