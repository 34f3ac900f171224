"""The notifications benchmark's live clients, in a process of their own (tests/perf/test_notifications_bench.py).

    python -m tests.perf.notification_clients ws ws://127.0.0.1:8000/graphql tokens.tsv
    python -m tests.perf.notification_clients nats nats://127.0.0.1:4222 accounts.tsv

`ws`: one WebSocket per line of the file (`account_id<TAB>token`), graphql-transport-ws,
the token in `connection_init`, one `notificationReceived` subscription each; the server's
keepalive pings are answered. `nats`: the peer's side, one core NATS subscription per
account (`peer.live.<account_id>`) on one connection.

Each notification is stamped with `time.time()` the moment its frame is read: the publisher
runs on the same machine and stamps its publish with the same clock (a monotonic clock is
not shared between processes). Speaks JSON lines on stdout: `{"ready": n}` once every
client has subscribed, `{"item": title, "count": n, "first": t, "last": t}` as soon as
every client has one notification with that title, and on `report` (a line on stdin) the
totals — per title how many clients got it, how many (client, notification) pairs came
more than once, and every error a client saw — then it closes its connections and ends.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import nats
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

SUBSCRIPTION = "subscription { notificationReceived { id title } }"
CONNECTING_AT_ONCE = 50


def say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class Tally:
    def __init__(self, clients: int):
        self.clients = clients
        self.seen: set[tuple[str, str]] = set()
        self.repeats = 0
        self.by_title: dict[str, list[float]] = defaultdict(list)  # receive times, one per client
        self.errors: list[str] = []

    def received(self, account_id: str, notification_id: str, title: str, at: float) -> None:
        if (account_id, notification_id) in self.seen:
            self.repeats += 1
            return
        self.seen.add((account_id, notification_id))
        times = self.by_title[title]
        times.append(at)
        if len(times) == self.clients:
            say({"item": title, "count": len(times), "first": min(times), "last": max(times)})

    def report(self) -> dict:
        return {"report": {title: len(times) for title, times in self.by_title.items()},
                "repeats": self.repeats, "errors": self.errors[:20], "error_count": len(self.errors)}


async def websocket_client(url: str, account_id: str, token: str, tally: Tally, subscribed: asyncio.Queue,
                           gate: asyncio.Semaphore) -> None:
    announced = False
    try:
        async with gate:
            socket = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], ping_interval=None,
                                   max_queue=None, open_timeout=60)
            await socket.send(json.dumps({"type": "connection_init",
                                          "payload": {"authorization": f"Bearer {token}"}}))
            ack = json.loads(await socket.recv())
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"{account_id}: {ack}")
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        await subscribed.put(account_id)
        announced = True
        async with socket:
            async for frame in socket:
                at = time.time()
                message = json.loads(frame)
                kind = message.get("type")
                if kind == "next":
                    if message["payload"].get("errors"):
                        tally.errors.append(f"{account_id}: {message['payload']['errors']}")
                        continue
                    found = message["payload"]["data"]["notificationReceived"]
                    tally.received(account_id, found["id"], found["title"], at)
                elif kind == "ping":
                    await socket.send('{"type":"pong"}')
                elif kind in ("error", "complete"):
                    tally.errors.append(f"{account_id}: {message}")
                    return
    except ConnectionClosed as e:
        tally.errors.append(f"{account_id}: closed {e.rcvd.code if e.rcvd else None}")
    except Exception as e:  # reported, not hidden: the benchmark asserts there were none
        tally.errors.append(f"{account_id}: {e!r}")
    if not announced:
        await subscribed.put(account_id)


async def run_websockets(url: str, rows: list[tuple[str, str]]) -> None:
    tally = Tally(len(rows))
    subscribed: asyncio.Queue[str] = asyncio.Queue()
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    tasks = [asyncio.create_task(websocket_client(url, account_id, token, tally, subscribed, gate))
             for account_id, token in rows]
    for _ in rows:
        await subscribed.get()
    say({"ready": len(rows) - len(tally.errors), "errors": tally.errors[:5]})
    await until_report(tally)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def run_nats(url: str, accounts: list[str]) -> None:
    tally = Tally(len(accounts))
    nc = await nats.connect(url, name="bench-peer-listeners", pending_size=256 * 1024 * 1024)

    def handler(account_id: str):
        async def on(msg) -> None:
            at = time.time()
            found = json.loads(msg.data)
            tally.received(account_id, found["id"], found["title"], at)
        return on

    for account_id in accounts:
        await nc.subscribe(f"peer.live.{account_id}", cb=handler(account_id), pending_msgs_limit=100_000)
    await nc.flush()
    say({"ready": len(accounts), "errors": []})
    await until_report(tally)
    await nc.close()


async def until_report(tally: Tally) -> None:
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line or line.strip() == "report":
            say(tally.report())
            return


def main() -> None:
    mode, url, path = sys.argv[1:4]
    # Two sockets a client here (the connection, and a pipe or two of the loop's): above 1,024 by default.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows = [line.split("\t") for line in Path(path).read_text().splitlines() if line]
    if mode == "ws":
        asyncio.run(run_websockets(url, [(r[0], r[1]) for r in rows]))
    elif mode == "nats":
        asyncio.run(run_nats(url, [r[0] for r in rows]))
    else:
        raise SystemExit(f"unknown mode {mode!r}: ws or nats")


if __name__ == "__main__":
    main()
