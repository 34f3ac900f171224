"""`notificationReceived` over WebSocket against the whole platform: live, then a reconnect with
the last id seen replays what came meanwhile in order, then live again — no gap, no repeat;
keepalive pings find a dead connection; forged and expired tokens are refused or closed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from gateway.graphql import GONE_CLOSE_CODE, TransportWS
from proto import directory as dapi
from proto import news as napi
from proto.common import Caller
from services.notifications.links import Scope
from tests.support.graphql import GraphQL, TransportWebSocket, transport_websocket
from tests.support.tokens import TestIssuer

SAARBRUECKEN = "10041100"
RECEIVED = "subscription ($after: ID) { notificationReceived(after: $after) { id title kind reasons { name } url } }"
FOLLOW = """mutation ($actor: ID!) { follow(input: {target: {actor: $actor}, email: OFF}) {
  follow { id email targetName } userErrors { field code message } } }"""


async def until(check, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def world(running):
    issuer = TestIssuer(running.clock)
    await issuer.publish(running.client.nc.jetstream())
    gateway = running.platform._server.config.app.state.gateway
    services = running.platform.services
    await until(lambda: issuer.kid in gateway.verifier.key_ids and all(
        issuer.kid in services[name].verifier.key_ids for name in ("directory", "news", "notifications")))
    owner = Caller(token=issuer.token("live-owner"))
    actor = await running.client.directory.create_actor(dapi.CreateActor(
        kind="counselling-service", name="Lotsenprojekt Live", regions=[SAARBRUECKEN]), owner)
    await running.client.directory.approve_actor(dapi.ApproveActor(actor_id=actor.id),
                                                 Caller(token=issuer.token("live-admin", "admin")))
    await until(lambda: gateway.notifications_hub.following)
    return issuer, actor, owner, gateway


async def publish(running, owner: Caller, actor_id: str, title: str) -> None:
    item = await running.client.news.create_item(napi.CreateNewsItem(
        actor_id=actor_id, kind="article", title=title, regions=[SAARBRUECKEN]), owner)
    await running.client.news.publish_item(napi.PublishNewsItem(item_id=item.id), owner)


async def pushed(ws: TransportWebSocket, operation: str = "1") -> dict:
    message = await ws.receive(timeout=15)
    assert message["type"] == "next" and message["id"] == operation, message
    return message["payload"]["data"]["notificationReceived"]


async def test_a_reconnect_with_the_last_id_replays_the_missed_in_order_then_live(running, world):
    issuer, actor, owner, gateway = world
    token = issuer.token("live-follower")
    api = GraphQL(running.base_url, token=token)
    followed = (await api(FOLLOW, actor=actor.id))["follow"]
    assert followed["userErrors"] == [] and followed["follow"]["targetName"] == "Lotsenprojekt Live"

    async with transport_websocket(running.base_url, token) as ws:
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": RECEIVED}})
        await until(lambda: gateway.notifications_hub.listener_count >= 1)
        await publish(running, owner, actor.id, "Erste Meldung")
        first = await pushed(ws)
        assert (first["title"], first["kind"], first["reasons"]) == ("Erste Meldung", "ITEM",
                                                                     [{"name": "Lotsenprojekt Live"}])
        assert "/news/" in first["url"]

    # Offline: three more come.
    for n in (2, 3, 4):
        await publish(running, owner, actor.id, f"Meldung {n}")
    async with transport_websocket(running.base_url, token) as ws:
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": RECEIVED,
                                                                   "variables": {"after": first["id"]}}})
        assert [(await pushed(ws))["title"] for _ in range(3)] == ["Meldung 2", "Meldung 3", "Meldung 4"]
        await publish(running, owner, actor.id, "Meldung 5")
        assert (await pushed(ws))["title"] == "Meldung 5"
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=1.0)  # nothing twice

    inbox = await api("{ notifications(first: 10) { edges { node { title } } unreadCount } unreadNotificationCount }")
    assert [e["node"]["title"] for e in inbox["notifications"]["edges"]] == [
        "Meldung 5", "Meldung 4", "Meldung 3", "Meldung 2", "Erste Meldung"]
    assert inbox["unreadNotificationCount"] == 5


async def test_forged_and_foreign_cursors_and_expired_tokens_are_refused(running, world):
    issuer, actor, owner, gateway = world
    async with transport_websocket(running.base_url, "not-a-token") as ws:
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": RECEIVED}})
        message = await ws.receive()
        assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    stranger = issuer.token("live-stranger")
    async with transport_websocket(running.base_url, stranger) as ws:
        await ws.send({"id": "1", "type": "subscribe", "payload": {
            "query": RECEIVED, "variables": {"after": "01JZZZZZZZZZZZZZZZZZZZZZZZ"}}})
        message = await ws.receive()
        assert message["type"] == "error" and message["payload"][0]["extensions"]["field"] == "after"
    short = issuer.token("live-follower", lifetime=timedelta(seconds=2))
    async with transport_websocket(running.base_url, short) as ws:
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": RECEIVED}})
        code, reason = await ws.closed(timeout=10)
        assert code == 4403 and "expired" in (reason or "")


async def test_keepalive_pings_close_a_connection_that_stopped_answering(running, world, monkeypatch):
    issuer, actor, owner, gateway = world
    monkeypatch.setattr(TransportWS, "ping_interval", 0.2)
    monkeypatch.setattr(TransportWS, "pong_timeout", 0.7)
    token = issuer.token("live-pinged")
    async with transport_websocket(running.base_url, token) as alive, \
            transport_websocket(running.base_url, token) as dead:
        dead.answer_pings = False
        for ws in (alive, dead):
            await ws.send({"id": "1", "type": "subscribe", "payload": {"query": RECEIVED}})
        with pytest.raises(TimeoutError):
            await alive.receive(timeout=1.5)  # pings come and are answered; nothing else
        assert alive.pings >= 3
        code, _ = await dead.closed(timeout=5)
        assert code == GONE_CLOSE_CODE
        assert await alive.alive()


async def test_an_unsubscribe_link_shows_on_get_and_acts_on_a_one_click_post(running, world):
    issuer, actor, owner, gateway = world
    token = issuer.token("live-unsubscriber")
    api = GraphQL(running.base_url, token=token)
    followed = (await api(FOLLOW.replace("email: OFF", "email: IMMEDIATE"), actor=actor.id))["follow"]["follow"]
    service = running.platform.services["notifications"]
    link = service.links.token(Scope("live-unsubscriber", follow_id=followed["id"]))

    async def email() -> str:
        return (await api("{ follows { id email } }"))["follows"][0]["email"]

    async with httpx.AsyncClient(base_url=running.base_url) as web:
        for _ in range(2):  # a mail scanner, then the person: looking changes nothing
            shown = await web.get(f"/unsubscribe/{link}")
            assert shown.status_code == 200 and f'action="/unsubscribe/{link}"' in shown.text
            assert shown.headers["cache-control"] == "no-store" and "script-src" not in shown.headers[
                "content-security-policy"]
        assert await email() == "IMMEDIATE"
        # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no cookie and no CSRF token.
        done = await web.post(f"/unsubscribe/{link}", data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200, done.text
        assert await email() == "OFF"
        forged = await web.post(f"/unsubscribe/{link[:-3]}abc", data={"List-Unsubscribe": "One-Click"})
        assert forged.status_code == 400
        inbox = await web.get("/notifications")
        assert inbox.status_code == 303 and inbox.headers["location"].startswith("/signin")


async def test_told_in_the_readers_language_live_and_in_the_inbox(running, world):
    issuer, actor, owner, gateway = world
    token = issuer.token("live-reader-en")
    api = GraphQL(running.base_url, token=token)
    assert (await api(FOLLOW, actor=actor.id))["follow"]["userErrors"] == []
    listening = gateway.notifications_hub.listener_count
    async with transport_websocket(running.base_url, token) as ws:
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": (
            'subscription { notificationReceived(lang: "en") { title summary language availableLanguages } }')}})
        await until(lambda: gateway.notifications_hub.listener_count > listening)
        item = await running.client.news.create_item(napi.CreateNewsItem(
            actor_id=actor.id, kind="article", title="Sprachcafé am Freitag", summary="Für alle offen.",
            regions=[SAARBRUECKEN], translations=[napi.Translation(
                language="en", title="Language café on Friday", summary="Open to everyone.")]), owner)
        await running.client.news.publish_item(napi.PublishNewsItem(item_id=item.id), owner)
        assert await pushed(ws) == {"title": "Language café on Friday", "summary": "Open to everyone.",
                                    "language": "en", "availableLanguages": ["de", "en"]}
    query = "query ($lang: String) { notifications(first: 1, lang: $lang) { edges { node { title language } } } }"
    assert (await api(query, lang="de"))["notifications"]["edges"][0]["node"] == {
        "title": "Sprachcafé am Freitag", "language": "de"}
    assert (await api(query, lang="fr"))["notifications"]["edges"][0]["node"]["language"] == "de"  # the original
