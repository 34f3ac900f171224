"""The gateway's hub: a delivery event reaches exactly the subscribers of the people it
names, each with their own id and reasons; an unreadable one reaches nobody."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.notifications_live import NotificationHub
from proto import notifications as api
from proto.envelope import Envelope
from services.notifications import domain

TARGET = api.FollowTarget(region="10041")


def delivery(people: list[str], **replace) -> Envelope:
    content = domain.item_content("article", "ITEM", "Neue Sprechzeiten", "", "/news/item", "ACTOR", "Büro", "de")
    event = api.NotificationsDelivered(source="SRC", content=content, recipients=[
        api.Recipient(account_id=p, notification_id=f"n-{p}", reasons=[api.Reason(target=TARGET, name="Saarbrücken")])
        for p in people])
    data = event.model_dump(mode="json")
    data.update(replace)
    return Envelope(type=event.TYPE, occurred_at=datetime(2026, 12, 3, tzinfo=UTC), by=None, data=data)


def drained(listener) -> list[api.Notification]:
    found = []
    while not listener.queue.empty():
        found.append(listener.queue.get_nowait())
    return found


def test_each_subscriber_gets_their_own_notification_and_nobody_else_does():
    hub = NotificationHub()
    anna, anna_phone, ben = hub.add("anna"), hub.add("anna"), hub.add("ben")
    hub._on_event(delivery(["anna", "carla", "dieter"]), 41)
    for listener in (anna, anna_phone):
        [got] = drained(listener)
        assert (got.id, got.position, got.title, got.read) == ("n-anna", 41, "Neue Sprechzeiten", False)
        assert [r.name for r in got.reasons] == ["Saarbrücken"]
    assert drained(ben) == []
    assert hub.delivered == 2


def test_an_unreadable_delivery_tells_nobody():
    hub = NotificationHub()
    anna, ben = hub.add("anna"), hub.add("ben")
    broken = delivery(["anna", "ben"])
    broken.data["recipients"][1]["reasons"] = "not a list"
    hub._on_event(broken, 7)
    assert (drained(anna), drained(ben), hub.delivered) == ([], [], 0)
    hub._on_event(delivery(["anna"], content={"kind": "item"}), 8)  # content without a title
    assert (drained(anna), hub.delivered) == ([], 0)
