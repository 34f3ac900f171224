"""services/kernel/jetstream.py on a real 3-node cluster whose stream leader is killed (-9).

While the two remaining nodes elect a new leader (nats-server waits 4-9 s for that), a
publish waits and is stored once, a repeat of it with the same `Nats-Msg-Id` is answered as
the duplicate it is, and `stream_info` answers only from a leader — a leaderless replica's
copy may lag behind what was acknowledged, and a view catching up to it would decide on
a stale state.
"""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js import api

from proto import subjects
from services.kernel.connection import connect
from services.kernel.jetstream import PatientJetStream
from tests.support.nats_server import LocalCluster

STREAM = "FAILOVER"
PUBLISHED = 50


@pytest.fixture
def cluster(tmp_path):
    nodes = LocalCluster(tmp_path / "nats")
    nodes.start()
    yield nodes
    nodes.stop()


async def test_a_publish_and_stream_info_ride_out_the_loss_of_the_stream_leader(cluster):
    nc = await connect(cluster.url, "publisher")
    try:
        js = PatientJetStream(nc, patience=15)
        await js.add_stream(api.StreamConfig(name=STREAM, subjects=["failover.>"], num_replicas=3))
        for n in range(PUBLISHED):
            await js.publish(f"failover.{n}", b"x", stream=STREAM, headers={subjects.MSG_ID: f"event-{n}"})
        before = await js.stream_info(STREAM)
        assert before.cluster is not None and before.cluster.leader
        leader = next(node for node in cluster.nodes if node.cluster and node.cluster.name == before.cluster.leader)

        leader.kill()
        info = await js.stream_info(STREAM)  # asked at once: no leader for several seconds
        assert info.cluster is not None and info.cluster.leader not in (None, "", before.cluster.leader)
        assert info.state.last_seq == PUBLISHED  # what was acknowledged, not a lagging copy

        stored = await js.publish("failover.after", b"y", stream=STREAM, headers={subjects.MSG_ID: "event-after"})
        again = await js.publish("failover.after", b"y", stream=STREAM, headers={subjects.MSG_ID: "event-after"})
        assert (stored.seq, again.seq, again.duplicate) == (PUBLISHED + 1, PUBLISHED + 1, True)
        assert (await js.stream_info(STREAM)).state.messages == PUBLISHED + 1
    finally:
        await nc.close()


async def test_without_patience_the_same_publish_fails(cluster):
    # The other side of the test above: nats-py's own context gives up during the election.
    nc = await nats.connect(servers=cluster.url.split(","))
    try:
        js = nc.jetstream(timeout=1)
        await js.add_stream(api.StreamConfig(name=STREAM, subjects=["failover.>"], num_replicas=3))
        info = await js.stream_info(STREAM)
        assert info.cluster is not None
        leader = next(node for node in cluster.nodes if node.cluster and node.cluster.name == info.cluster.leader)
        # Asked through a node that stays up: the failure is the election's, not a lost connection.
        follower = await nats.connect(servers=[next(node for node in cluster.nodes if node is not leader).url])
        leader.kill()
        await asyncio.sleep(0.2)
        with pytest.raises((nats.errors.TimeoutError, nats.js.errors.NoStreamResponseError,
                            nats.js.errors.ServiceUnavailableError)):
            await follower.jetstream(timeout=1).publish("failover.lost", b"z", stream=STREAM)
        await follower.close()
    finally:
        await nc.close()
