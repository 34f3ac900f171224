"""`newsPublished` with two news replicas and two gateways, across a restart of news: every
publication is stored once and pushed once to each subscriber, scheduled ones at their time
(or, when no replica ran then, when the first one is back)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import nats.errors
import pytest

from lotse.platform import Platform
from proto import directory as dapi
from proto import news as api
from proto import subjects
from proto.common import Caller
from proto.envelope import Envelope
from services.kernel.clock import Clock
from services.kernel.connection import connect
from services.news.service import NewsService
from tests.support.graphql import TransportWebSocket, transport_websocket
from tests.support.platform import platform_settings, running_platform
from tests.support.tokens import TestIssuer

SAARBRUECKEN = "10041100"
MERZIG = "10042113"
SUBSCRIPTION = f"""subscription {{ newsPublished(filter: {{regions: ["{SAARBRUECKEN}"]}}, lang: "en") {{
  itemId title language scheduled regionKeys actorName url item {{ id status title }} }} }}"""


def hub_of(platform: Platform):
    assert platform._server is not None
    return platform._server.config.app.state.gateway.news_hub


async def until(check, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def pushed(ws: TransportWebSocket) -> dict:
    message = await ws.receive(timeout=15)
    assert message["type"] == "next", message
    return message["payload"]["data"]["newsPublished"]


async def published_events(nc, item_id: str) -> int:
    js = nc.jetstream()
    sub = await js.subscribe(subjects.aggregate_subject(api.SERVICE, api.AGGREGATE_ITEM, item_id), stream="NEWS",
                             ordered_consumer=True)
    count = 0
    try:
        while True:
            msg = await sub.next_msg(timeout=0.5)
            count += Envelope.model_validate_json(msg.data).type == api.ItemPublished.TYPE
    except nats.errors.TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return count


@pytest.mark.slow
async def test_each_publication_is_pushed_once_per_subscriber_across_replicas_and_a_restart(
        nats_url, smtp, tmp_path):
    clock = Clock()
    settings = platform_settings(nats_url, tmp_path / "first", smtp.port)
    async with running_platform(settings, clock, services=["identity", "directory", "news"], gateway=True) as (
            first, client):
        second_gateway = Platform(platform_settings(nats_url, tmp_path / "second", smtp.port), clock, [],
                                  gateway=True)
        await second_gateway.start()
        replica_nc = await connect(nats_url, "news")
        replica = NewsService(platform_settings(nats_url, tmp_path / "replica", smtp.port), clock)
        await replica.start(replica_nc)
        try:
            issuer = TestIssuer(clock)
            await issuer.publish(client.nc.jetstream())
            await until(lambda: all(issuer.kid in s.verifier.key_ids
                                    for s in (first.services["directory"], first.services["news"], replica)))

            def caller(account_id: str, role: str = "member") -> Caller:
                return Caller(token=issuer.token(account_id, role))

            actor = await client.directory.create_actor(dapi.CreateActor(
                kind="counselling-service", name="Migrationsberatung Saarbrücken", regions=[SAARBRUECKEN]),
                caller("owner-1"))
            await client.directory.approve_actor(dapi.ApproveActor(actor_id=actor.id), caller("admin-1", "admin"))
            news = [first.services["news"], replica]
            for service in news:
                service.schedule_interval = 0.05  # both replicas race for every due item
                await service.directory.projector.catch_up()

            async def draft(title: str, region: str = SAARBRUECKEN) -> api.NewsItem:
                return await client.news.create_item(api.CreateNewsItem(
                    actor_id=actor.id, kind="press-release", title=title, regions=[region],
                    translations=[api.Translation(language="en", title=f"{title} (en)")]), caller("owner-1"))

            async def schedule(item: api.NewsItem, after: timedelta) -> None:
                await client.news.schedule_item(api.ScheduleNewsItem(item_id=item.id,
                                                                     publish_at=clock.now() + after), caller("owner-1"))

            bases = [f"http://127.0.0.1:{settings.http_port}",
                     f"http://127.0.0.1:{second_gateway.settings.http_port}"]
            async with transport_websocket(bases[0], None) as one, transport_websocket(bases[1], None) as two:
                for n, ws in enumerate((one, two)):
                    await ws.subscribe(f"s{n}", SUBSCRIPTION)
                hubs = [hub_of(first), hub_of(second_gateway)]
                await until(lambda: all(h.listener_count == 1 and h.following for h in hubs))

                # 1. Scheduled, both replicas running: it goes out once, at its time.
                morning = await draft("Ministerin zu Gast")
                await schedule(morning, timedelta(hours=1))
                clock.advance(timedelta(hours=1, seconds=1))
                for ws in (one, two):
                    got = await pushed(ws)
                    assert (got["itemId"], got["title"], got["language"], got["scheduled"]) == (
                        morning.id, "Ministerin zu Gast (en)", "en", True)
                    assert got["item"]["status"] == "PUBLISHED" and got["url"].endswith(f"/news/{morning.id}")

                # 2. Falls due while no news replica runs: published once when they are back.
                night = await draft("Förderaufruf veröffentlicht")
                await schedule(night, timedelta(hours=3))
                await asyncio.gather(*(service.stop() for service in news))
                clock.advance(timedelta(hours=3, seconds=1))
                restarted = [NewsService(first.services["news"].settings, clock),
                             NewsService(replica.settings, clock)]
                first.services["news"], replica = restarted
                await asyncio.gather(restarted[0].start(first._connections[-1]), restarted[1].start(replica_nc))
                await until(lambda: all(issuer.kid in s.verifier.key_ids for s in restarted))
                for ws in (one, two):
                    got = await pushed(ws)
                    assert (got["itemId"], got["scheduled"]) == (night.id, True)

                # 3. Published now; one elsewhere that the filter does not match is not pushed.
                elsewhere = await draft("In Merzig", region=MERZIG)
                await client.news.publish_item(api.PublishNewsItem(item_id=elsewhere.id), caller("owner-1"))
                now = await draft("Integrationskonferenz gibt neue Impulse")
                await client.news.publish_item(api.PublishNewsItem(item_id=now.id), caller("owner-1"))
                for ws in (one, two):
                    got = await pushed(ws)
                    assert (got["itemId"], got["scheduled"]) == (now.id, False)

                # Nothing else follows: no second push of anything.
                for ws in (one, two):
                    with pytest.raises(TimeoutError):
                        await ws.receive(timeout=1.5)
            for item in (morning, night, elsewhere, now):
                assert await published_events(client.nc, item.id) == 1, item.title
            assert [h.delivered for h in hubs] == [3, 3]
        finally:
            await replica.stop()
            await replica_nc.close()
            await second_gateway.stop()
