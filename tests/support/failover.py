"""A NATS node lost under load, measured as a client sees it: what
tests/e2e/test_cluster_failover.py checks and tests/perf/test_failover_bench.py times.

Writers create actors through a gateway, each creation with its own `clientMutationId`
and sent again with the same one until it is acknowledged, as a careful client does;
readers search through a gateway. Both note when an answer came, so the longest pause
between answers around a node's loss can be read off afterwards.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import nats

from proto import directory as api
from proto import subjects
from tests.support.graphql import GraphQL
from tests.support.nats_server import LocalCluster, LocalNats

SAARBRUECKEN = "10041100"
CREATE = """mutation($input: CreateActorInput!) {
  createActor(input: $input) { actor { id name } clientMutationId userErrors { field code message } } }"""
SEARCH = """{ actors(query: "Clusterakteur", filter: {status: [PENDING]}, first: 1) { totalCount } }"""


def actor_name(key: str) -> str:
    return f"Clusterakteur {key.replace('-', ' ')}"


@dataclass
class Answers:
    """What one client was told: acknowledged creations (key → actor id), when each answer
    came, and the answers that were not what was asked for."""

    acknowledged: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


async def write_until(stop: asyncio.Event, api_: GraphQL, prefix: str, answers: Answers) -> None:
    """Create actors one after another until `stop`; a creation not acknowledged is sent
    again with the same key until it is (so each key ends as exactly one actor)."""
    n = 0
    while not stop.is_set():
        n += 1
        key = f"{prefix}-{n}"
        while True:
            try:
                answer = (await api_(CREATE, input={
                    "kind": "other", "name": actor_name(key), "regions": [SAARBRUECKEN],
                    "clientMutationId": key}))["createActor"]
            except Exception as e:  # the gateway did not answer at all
                answers.refused.append(f"{key}: {type(e).__name__}: {e}")
                await asyncio.sleep(0.2)
                continue
            if answer["userErrors"]:
                answers.refused.append(f"{key}: {answer['userErrors']}")
                await asyncio.sleep(0.2)
                continue
            assert answer["clientMutationId"] == key
            answers.acknowledged[key] = answer["actor"]["id"]
            answers.times.append(time.monotonic())
            break


async def read_until(stop: asyncio.Event, api_: GraphQL, answers: Answers) -> None:
    """Search one after another until `stop`."""
    while not stop.is_set():
        try:
            await api_(SEARCH)
        except Exception as e:
            answers.refused.append(f"search: {type(e).__name__}: {e}")
            await asyncio.sleep(0.1)
            continue
        answers.times.append(time.monotonic())


def longest_gap(times: list[float], since: float, until: float) -> float:
    """The longest time between two answers (or from `since` to the first) up to `until`,
    counting the first answer after `until` as the end of a pause that spans it."""
    marks = [since] + sorted(t for t in times if since < t < until)
    following = [t for t in sorted(times) if t >= until]
    marks.append(following[0] if following else until)
    return max(b - a for a, b in zip(marks, marks[1:]))


async def stream_state(url: str) -> tuple[int, str]:
    """(messages in the DIRECTORY stream, the server leading it)."""
    nc = await nats.connect(servers=url.split(","))
    try:
        info = await nc.jetstream().stream_info(subjects.stream_name(api.SERVICE))
        assert info.cluster is not None and info.config.num_replicas == 3, info
        return info.state.messages, info.cluster.leader or ""
    finally:
        await nc.close()


def node_named(cluster: LocalCluster, name: str) -> LocalNats:
    return next(node for node in cluster.nodes if node.cluster and node.cluster.name == name)


async def new_leader_after(url: str, old: str, timeout: float = 30.0) -> float:
    """Poll (every 50 ms) until the DIRECTORY stream has a leader other than `old`: when
    (time.monotonic()) NATS itself had failed over."""
    nc = await nats.connect(servers=url.split(","), reconnect_time_wait=0.05)
    try:
        js = nc.jetstream(timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                info = await js.stream_info(subjects.stream_name(api.SERVICE))
                if info.cluster is not None and info.cluster.leader and info.cluster.leader != old:
                    return time.monotonic()
            except Exception:
                pass  # no leader yet
            await asyncio.sleep(0.05)
        raise TimeoutError("the DIRECTORY stream elected no new leader")
    finally:
        await nc.close()
