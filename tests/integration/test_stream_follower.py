"""The gateway's stream follower (gateway/stream_follower.py) against a real nats-server:
it starts at the newest event, hands on every later one once and in order, and when the
server forgets its consumer (as a restarted or failed-over node does) it subscribes anew
after the last event it saw — nothing missed, nothing twice."""

from __future__ import annotations

import asyncio

from gateway import stream_follower
from gateway.stream_follower import StreamFollower
from proto import subjects
from proto.envelope import Envelope
from services.kernel.clock import Clock
from services.kernel.streams import ensure_event_stream

SERVICE = "followertest"


async def _append(js, n: int) -> None:
    envelope = Envelope(type="followertest.noted", occurred_at=Clock().now(), by=None, data={"n": n})
    await js.publish(subjects.aggregate_subject(SERVICE, "note", str(n)), envelope.model_dump_json().encode(),
                     stream=subjects.stream_name(SERVICE), headers={subjects.MSG_ID: envelope.id})


async def _until(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_follows_from_the_newest_event_and_resumes_after_the_consumer_is_gone(nc, monkeypatch):
    monkeypatch.setattr(stream_follower, "WATCH_INTERVAL", 0.1)
    monkeypatch.setattr(stream_follower, "STALL_AFTER", 0.3)
    js = nc.jetstream()
    await ensure_event_stream(js, SERVICE)
    for n in range(3):  # before the follower starts: not live news
        await _append(js, n)
    seen: list[tuple[int, int]] = []
    follower = StreamFollower(SERVICE, subjects.events_filter(SERVICE),
                              lambda envelope, seq: seen.append((envelope.data["n"], seq)), name="test")
    await follower.start(nc)
    try:
        await _until(lambda: follower.following)
        for n in range(3, 6):
            await _append(js, n)
        await _until(lambda: len(seen) == 3)
        assert [n for n, _ in seen] == [3, 4, 5]

        # The server forgets the consumer; events stored meanwhile must still come, once.
        stream = subjects.stream_name(SERVICE)
        for name in [c.name async for c in _consumers(js, stream)]:
            await js.delete_consumer(stream, name)
        for n in range(6, 10):
            await _append(js, n)
        await _until(lambda: len(seen) == 7)
        await asyncio.sleep(0.5)  # a doubled delivery would arrive by now
        assert [n for n, _ in seen] == list(range(3, 10))
        assert [seq for _, seq in seen] == sorted({seq for _, seq in seen})
        assert follower.last_seq == seen[-1][1]
    finally:
        await follower.stop()
    assert not follower.following


async def _consumers(js, stream: str):
    for info in await js.consumers_info(stream):
        yield info
