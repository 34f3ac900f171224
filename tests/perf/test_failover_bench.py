"""How long a client waits when a NATS node dies: the figures README's "Past one machine" quotes.

A 3-node cluster (R3 streams), every service as its own process with two directory
replicas, two gateways. Writers create actors through both gateways (a `clientMutationId`
each, sent again with the same one until acknowledged) and readers search through both,
while the node leading the directory's stream is killed (-9) — LOTSE_BENCH_FAILOVERS
times (3), the node restarted and caught up in between.

The peer here is NATS itself: how long the two remaining nodes take to elect a new leader
for the stream (nats-server waits 4-9 s of missed heartbeats before it calls an election,
a constant of its Raft code), polled every 50 ms from a client of its own. Lotse's longest
pause between acknowledged writes is printed beside it as a ratio: 1.0 means a client
waits for nothing but the election. Asserts only that every acknowledged write is there
once, never anything about time.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

import pytest

from tests.e2e.flows import confirmed_member, sign_in
from tests.support.deployment import Deployment
from tests.support.failover import (
    Answers, longest_gap, new_leader_after, node_named, read_until, stream_state, write_until,
)
from tests.support.graphql import GraphQL
from tests.support.nats_server import LocalCluster, wait_for_healthy

FAILOVERS = int(os.environ.get("LOTSE_BENCH_FAILOVERS", "3"))
DOWN = 12.0  # seconds each killed node stays down


@pytest.fixture
def cluster(tmp_path):
    nodes = LocalCluster(tmp_path / "nats")
    nodes.start()
    yield nodes
    nodes.stop()


@pytest.fixture
def deployment(tmp_path, cluster, smtp):
    deployed = Deployment(tmp_path, [node.url for node in cluster.nodes], smtp.port,
                          LOTSE_NATS_STREAM_REPLICAS="3", LOTSE_LOG_LEVEL="info")
    try:
        for service in ("identity", "directory", "news", "notifications"):
            deployed.start(service)
        deployed.start("directory", 2)
        deployed.start("gateway", 1)
        deployed.start("gateway", 2)
        deployed.wait_until_ready()
        yield deployed
    finally:
        deployed.stop()


def p50_max(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} / {max(values):6.2f}"


async def test_a_client_waits_about_as_long_as_nats_takes_to_elect_a_leader(deployment, cluster, smtp):
    first, second = deployment.gateways.values()
    username, _ = await confirmed_member(GraphQL(first), smtp, "failover")
    token = (await sign_in(GraphQL(first), username))["accessToken"]
    rounds: list[dict[str, float]] = []
    acknowledged: dict[str, str] = {}
    for n in range(FAILOVERS):
        stop = asyncio.Event()
        writes = {f"r{n}{g}": Answers() for g in ("a", "b")}
        reads = [Answers(), Answers()]
        tasks = [asyncio.create_task(write_until(stop, GraphQL(base, token), prefix, writes[prefix]))
                 for base, prefix in zip((first, second), writes)]
        tasks += [asyncio.create_task(read_until(stop, GraphQL(base, token), answers))
                  for base, answers in zip((first, second), reads)]
        await asyncio.sleep(3)
        _, leader = await stream_state(cluster.url)
        victim = node_named(cluster, leader)
        killed = time.monotonic()
        victim.kill()
        elected = await new_leader_after(cluster.url, leader)
        await asyncio.sleep(max(0.0, DOWN - (time.monotonic() - killed)))
        restarted = time.monotonic()
        victim.start()
        await asyncio.to_thread(wait_for_healthy, victim, 60)
        stop.set()
        await asyncio.gather(*tasks)
        write_times = [t for w in writes.values() for t in w.times]
        rounds.append({
            "election": elected - killed,
            "write": max(longest_gap(w.times, killed, restarted) for w in writes.values()),
            "any write": longest_gap(write_times, killed, restarted),
            "read": max(longest_gap(r.times, killed, restarted) for r in reads),
            "refused": sum(len(a.refused) for a in (*writes.values(), *reads)),
            "writes/s": sum(killed < t < restarted for t in write_times) / (restarted - killed),
            "writes/s before": sum(killed - 3 < t < killed for t in write_times) / 3,
        })
        for w in writes.values():
            acknowledged |= w.acknowledged

    print(f"\nfail-over of the DIRECTORY stream's leader node, {FAILOVERS} times (3 nodes, R3, "
          f"2 directory replicas, 2 gateways; {os.cpu_count()} cores, loopback)")
    rows = [("NATS elects a new stream leader (the peer)", "election"),
            ("longest pause of one gateway's writes", "write"),
            ("longest pause of all writes", "any write"),
            ("longest pause of searches", "read")]
    print(f"{'seconds':44} {'p50':>6} / {'max':>6}")
    for label, key in rows:
        print(f"{label:44} {p50_max([r[key] for r in rounds])}")
    ratio = statistics.median(r["write"] / r["election"] for r in rounds)
    down, before = (statistics.median(r[key] for r in rounds) for key in ("writes/s", "writes/s before"))
    print(f"ratio write pause / NATS election (p50): {ratio:.2f}; answers that were not an acknowledgement: "
          f"{sum(int(r['refused']) for r in rounds)}; writes/s with the node down {down:.1f} vs {before:.1f} before")

    # Every acknowledged write is there (tests/e2e/test_cluster_failover.py checks "once" too).
    owner = GraphQL(second, token)
    deadline = time.monotonic() + 60
    while not set(acknowledged.values()) <= (found := await own_ids(owner)) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    assert set(acknowledged.values()) <= found


async def own_ids(owner: GraphQL) -> set[str]:
    found: set[str] = set()
    after = None
    while True:
        page = (await owner("""query($after: String) { actors(query: "Clusterakteur", filter: {status: [PENDING]},
            first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }""",
                            after=after))["actors"]
        found |= {edge["node"]["id"] for edge in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]
