"""The directory killed (-9) in the middle of a rebuild and in the middle of an import, then
started again: nothing is lost and nothing is doubled — in its view, in its stream, and in
what the gateway answers.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import nats
import pytest

from proto import directory as api
from proto import subjects
from proto.envelope import Envelope, new_id
from services.kernel.clock import Clock
from tests.perf import generated
from tests.support.nats_server import LocalNats, free_port
from tests.support.processes import LOTSE, LotseProcess, wait_until_ready

pytestmark = pytest.mark.slow

SAARBRUECKEN = "10041100"


@pytest.fixture
def deployment(tmp_path):
    nats_server = LocalNats(store_dir=tmp_path / "nats")
    nats_server.start()
    http_port = free_port()
    env = {"LOTSE_NATS_URL": nats_server.url, "LOTSE_HTTP_HOST": "127.0.0.1", "LOTSE_HTTP_PORT": str(http_port),
           "LOTSE_METRICS_PORT": str(free_port()),
           "LOTSE_SECRET_KEY": "a-test-secret-that-all-processes-share", "LOTSE_LOG_FORMAT": "json"}
    processes: dict[str, LotseProcess] = {}

    def start(name: str, **extra: str) -> LotseProcess:
        args = ["gateway"] if name == "gateway" else ["serve", name]
        process_env = {**env, "LOTSE_DATA_DIR": str(tmp_path / name), **extra}
        processes[name] = LotseProcess(args, process_env, tmp_path / "logs" / f"{name}.log").start()
        return processes[name]

    for name in ("identity", "directory", "news", "notifications", "gateway"):
        start(name)
    base = f"http://127.0.0.1:{http_port}"
    wait_until_ready(f"{base}/readyz", process=processes["gateway"])
    yield {"start": start, "processes": processes, "env": env, "base": base, "nats": nats_server,
           "view": tmp_path / "directory" / "directory" / "directory.sqlite3", "tmp": tmp_path}
    try:
        for process in processes.values():
            process.stop()
    finally:
        nats_server.cleanup()


def view_counts(view: Path) -> dict[str, int]:
    empty = {"actors": 0, "distinct": 0, "indexed": 0, "history": 0, "applied": 0}
    try:
        db = sqlite3.connect(f"file:{view}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:  # not created yet
        return empty
    try:
        return {
            "actors": db.execute("SELECT count(*) FROM actors").fetchone()[0],
            "distinct": db.execute("SELECT count(DISTINCT slug) FROM actors").fetchone()[0],
            "indexed": db.execute("SELECT count(*) FROM actor_index").fetchone()[0],
            "history": db.execute("SELECT count(*) FROM history").fetchone()[0],
            "applied": (db.execute("SELECT last_seq FROM projection WHERE stream = 'DIRECTORY'").fetchone() or [0])[0],
        }
    except sqlite3.OperationalError:  # its tables not created yet
        return empty
    finally:
        db.close()


def searchable(base: str) -> int:
    answer = httpx.post(f"{base}/graphql", json={"query": "{ actors(first: 1) { totalCount } }"}, timeout=10)
    body = answer.json()
    if body.get("errors"):
        return -1
    return body["data"]["actors"]["totalCount"]


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


async def append_imported(url: str, count: int) -> int:
    """`count` imported actors straight into the stream; its last sequence."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    clock, pending, last = Clock(), [], 0
    try:
        for n in range(count):
            actor_id = new_id()
            event = api.ActorImported(actor_id=actor_id, profile=api.ActorProfile(
                kind="other", name=f"Absturzakteur {n}", slug=f"absturzakteur-{n}", regions=[SAARBRUECKEN]))
            envelope = Envelope(type=event.TYPE, occurred_at=clock.now(), data=event.model_dump(mode="json"))
            pending.append(await js.publish_async(
                subjects.aggregate_subject(api.SERVICE, api.AGGREGATE_ACTOR, actor_id),
                envelope.model_dump_json().encode(), headers={subjects.MSG_ID: envelope.id}))
            if len(pending) >= 1000:
                last = max(ack.seq for ack in await asyncio.gather(*pending))
                pending = []
        if pending:
            last = max(ack.seq for ack in await asyncio.gather(*pending))
        return last
    finally:
        await nc.close()


async def stream_messages(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().stream_info(subjects.stream_name(api.SERVICE))).state.messages
    finally:
        await nc.close()


async def test_killed_in_the_middle_of_a_rebuild_the_directory_finishes_it_after_a_restart(deployment):
    count = 20_000
    last = await append_imported(deployment["nats"].url, count)
    view = deployment["view"]
    await asyncio.to_thread(wait_until, lambda: view_counts(view)["applied"] >= last, 300, "first projection")

    directory = deployment["processes"]["directory"]
    assert directory.stop() == 0
    for leftover in view.parent.glob("directory.sqlite3*"):
        leftover.unlink()
    directory = deployment["start"]("directory", LOTSE_STARTUP_WAIT="0")
    # Started while far behind: the gateway says so, and a search is refused, not answered wrongly.
    await asyncio.to_thread(wait_until, lambda: view_counts(view)["applied"] > 0, 120, "rebuild begun")
    midway = view_counts(view)["applied"]
    directory.kill()
    assert 0 < midway < last, "the rebuild must still be under way when it is killed"
    killed_at = view_counts(view)
    assert killed_at["actors"] == killed_at["history"] == killed_at["indexed"]  # whole batches only

    directory = deployment["start"]("directory", LOTSE_STARTUP_WAIT="0")
    seen: list[dict] = []

    def says_catching_up() -> bool:
        seen.append(httpx.get(f"{deployment['base']}/readyz", timeout=5).json())
        return "directory" in seen[-1].get("catchingUp", {})

    await asyncio.to_thread(wait_until, says_catching_up, 60, "/readyz naming the directory's rebuild")
    progress = seen[-1]["catchingUp"]["directory"]
    assert seen[-1]["services"]["directory"] is False and 0 < progress["applied"] < progress["of"] == last
    await asyncio.to_thread(wait_until, lambda: searchable(deployment["base"]) == count, 300, "rebuilt")
    counts = view_counts(view)
    assert counts == {"actors": count, "distinct": count, "indexed": count, "history": count, "applied": last}


async def test_killed_in_the_middle_of_an_import_the_rerun_adds_only_what_is_missing(deployment):
    rows = 3000
    csv = deployment["tmp"] / "actors.csv"
    generated.write_csv(csv, rows)
    env = {**os.environ, **deployment["env"], "LOTSE_REQUEST_TIMEOUT": "2"}  # to notice the crash soon
    view = deployment["view"]
    before = await stream_messages(deployment["nats"].url)  # the shipped regions

    importing = subprocess.Popen([LOTSE, "admin", "import-actors", "--commit", str(csv)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    await asyncio.to_thread(wait_until, lambda: view_counts(view)["actors"] >= 300, 120, "import under way")
    deployment["processes"]["directory"].kill()
    output, _ = await asyncio.to_thread(importing.communicate, timeout=120)
    assert importing.returncode != 0, output  # the importer saw the directory go
    partial = view_counts(view)["actors"]
    assert 300 <= partial < rows

    deployment["start"]("directory")
    await asyncio.to_thread(wait_until, lambda: searchable(deployment["base"]) >= partial, 120, "restarted")
    rerun = await asyncio.to_thread(subprocess.run, [LOTSE, "admin", "import-actors", "--commit", str(csv)],
                                    env={**os.environ, **deployment["env"]}, capture_output=True, text=True,
                                    timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    summary = rerun.stdout.strip().splitlines()[-1]
    created, there = (int(summary.split(": ")[1].split(" actors created")[0]),
                      int(summary.split(", ")[1].split(" already there")[0]))
    assert created + there == rows and there >= partial and created > 0, summary

    await asyncio.to_thread(wait_until, lambda: searchable(deployment["base"]) == rows, 120, "all searchable")
    counts = view_counts(view)
    assert counts["actors"] == counts["distinct"] == counts["indexed"] == counts["history"] == rows
    assert await stream_messages(deployment["nats"].url) == before + rows  # no event twice in the stream
