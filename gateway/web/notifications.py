"""The inbox, follows and mail-settings pages, the live stream behind the unread badge, and the
page an unsubscribe link opens.

Thin like resolvers: every read and write goes to the notifications service with the person's
token (from the session cookie), so the service's rules hold here as in GraphQL. Every page
here is personal (no-store; the service worker never keeps them).

Live (`/notifications/live`): Server-Sent Events, authenticated by the session cookie (an
EventSource sends it; it cannot send a header). Each notification is an event whose `id` is
the notification's: a browser that reconnects sends it back as `Last-Event-ID`, and the
stream first replays what came since, as `notificationReceived(after:)` does, then goes on
live — nothing missed, nothing twice. `count` events carry the unread count (on connect,
after each notification, and when it changed elsewhere — read on another device). A comment
line every PING_SECONDS keeps proxies from closing the stream and shows a dead one. The
stream ends when the session's access token expires; the browser reconnects, the page
context refreshes the session, and the stream resumes from the last id. Where EventSource
is missing or keeps failing, the page asks `/notifications/since` every POLL_SECONDS.

Unsubscribe (`/unsubscribe/<token>`): a GET shows what the link turns off and a button — mail
scanners open links, and must change nothing; the POST turns it off. The POST needs no CSRF
token and no session: the token in the URL is the authority, and RFC 8058 has mail clients
POST `List-Unsubscribe=One-Click` to exactly this URL from outside any page of ours.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from urllib.parse import urlencode, urlsplit

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from gateway.web.forms import form_of
from gateway.web.headers import page_headers
from gateway.web.i18n import direction, when
from gateway.web.links import link_page
from gateway.web.page import Page, local_path, log, page_of
from gateway.web.regions import RegionChoice, region_choice
from proto import directory
from proto import notifications as api
from proto.common import Empty
from proto.errors import LotseError
from proto.news import ITEM_KINDS

router = APIRouter(include_in_schema=False)

PING_SECONDS = 20.0
COUNT_SECONDS = 30.0  # how often the stream looks whether the count changed elsewhere
PAGE_SIZE = 30


def _when(page: Page, moment: datetime) -> str:
    return when(moment, page.lang)


def _reason(page: Page, reason: api.Reason) -> str:
    return page.t(f"notifications.reason.{reason.target.type}", name=reason.name)


def _text(page: Page, n: api.Notification) -> api.ContentText:
    """The item's words in the page's language where it has them, as news pages read it."""
    return n.text_for([page.lang])


def opening(n: api.Notification) -> str:
    """A notification's link: through `/notifications/open`, which marks it read."""
    return "/notifications/open?" + urlencode({"id": n.id, "to": n.path})


def notification_json(page: Page, n: api.Notification) -> dict[str, object]:
    """What the page's script shows of one notification (it sets text, never markup)."""
    text = _text(page, n)
    return {"id": n.id, "title": text.title, "summary": text.summary, "language": text.language,
            "dir": direction(text.language), "url": opening(n), "actor": n.actor_name or "",
            "when": _when(page, n.created_at), "reasons": [_reason(page, r) for r in n.reasons], "read": n.read}


# ---- the inbox ---------------------------------------------------------------------------------

@router.get("/notifications")
async def inbox(page: Page = Depends(page_of), after: str | None = None, unread: bool = False) -> Response:
    page.require_signed_in()
    reply = await page.ask(page.gateway.client.notifications.notifications, lambda: api.GetNotifications(
        unread_only=unread, first=PAGE_SIZE, after=after or None, at_least=page.gateway.notifications_seen))
    newest = reply.edges[0].node.id if reply.edges and after is None else None
    return page.render("notifications.html", personal=True, title=page.t("notifications.title"), reply=reply,
                       items=[n.node for n in reply.edges], unread_only=unread, newest=newest, after=after,
                       reason=lambda r: _reason(page, r), text=lambda n: _text(page, n), opening=opening,
                       live=after is None and not unread)


@router.post("/notifications/read")
async def mark_read(page: Page = Depends(page_of)) -> Response:
    page.require_signed_in()
    form = form_of(await page.form(), "ids")
    ids = form.all("ids")
    if ids:
        await page.ask(page.gateway.client.notifications.mark_read, lambda: api.MarkNotificationsRead(ids=ids))
    return page.redirect(local_path(form.get("next"), "/notifications"))


@router.get("/notifications/open")
async def open_notification(page: Page = Depends(page_of), id: str = "", to: str = "") -> Response:  # noqa: A002
    """Where a notification's link leads: it is read now — on every device, as the button
    says — and the browser goes on to what it is about. A GET (a link, with or without script)
    that changes only the person's own read mark; a notification id nobody else can guess."""
    page.require_signed_in()
    if id:
        outcome = await page.attempt(page.gateway.client.notifications.mark_read,
                                     lambda: api.MarkNotificationsRead(ids=[id]))
        if isinstance(outcome, LotseError):
            log.info("web.notification_not_marked", code=outcome.code.value)  # the item opens all the same
    return page.redirect(local_path(to, "/notifications"))


@router.post("/notifications/read-all")
async def mark_all_read(page: Page = Depends(page_of)) -> Response:
    page.require_signed_in()
    await page.form()
    await page.ask(page.gateway.client.notifications.mark_all_read, lambda: Empty())
    return page.redirect("/notifications")


@router.get("/notifications/badge")
async def badge(page: Page = Depends(page_of)) -> Response:
    """The header's unread count, as a fragment (htmx asks on load and every minute)."""
    count = 0
    if page.signed_in:
        reply = await page.attempt(page.gateway.client.notifications.unread_count, lambda: Empty())
        count = reply.count if not isinstance(reply, LotseError) else 0
    return page.render("_unread_badge.html", personal=True, count=count)


@router.get("/notifications/since")
async def since(page: Page = Depends(page_of), after: str | None = None) -> Response:
    """The polling fallback: what came after `after` (oldest first) and the unread count."""
    page.require_signed_in()
    client = page.gateway.client.notifications
    found: list[api.Notification] = []
    if after:
        missed = await page.ask(client.missed_notifications, lambda: api.GetMissedNotifications(after=after))
        found = missed.notifications
    count = await page.ask(client.unread_count, lambda: Empty())
    body = {"notifications": [notification_json(page, n) for n in found], "unread": count.count}
    return JSONResponse(body, headers=page_headers(page.gateway.settings, personal=True))


def _expires(token: str | None) -> datetime | None:
    if not token:
        return None
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


def _event(kind: str, data: dict[str, object], event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/notifications/live")
async def live(request: Request, page: Page = Depends(page_of), after: str | None = None) -> Response:
    principal = page.require_signed_in()
    gateway = page.gateway
    hub = gateway.notification_hub
    client = gateway.client.notifications
    caller = page.caller
    last = request.headers.get("last-event-id") or after or None
    listener = hub.add(principal.account_id)
    try:
        replay: list[api.Notification] = []
        cursor = last
        while cursor:
            missed = await client.missed_notifications(api.GetMissedNotifications(
                after=cursor, first=100, at_least=hub.last_seq), caller)
            replay += missed.notifications
            cursor = missed.notifications[-1].id if missed.more and missed.notifications else None
        count = (await client.unread_count(Empty(), caller)).count
    except LotseError as e:
        hub.remove(listener)
        raise page.problem(e) from None
    except BaseException:
        hub.remove(listener)
        raise
    expires = _expires(caller.token)

    async def stream() -> AsyncIterator[str]:
        nonlocal count
        position = -1
        loop = asyncio.get_running_loop()
        looked = loop.time()
        try:
            yield "retry: 3000\n\n"
            for n in replay:
                position = n.position
                yield _event("notification", notification_json(page, n), n.id)
            yield _event("count", {"unread": count})
            while not listener.closed:
                if expires is not None and gateway.clock.now() >= expires:
                    return  # the browser reconnects with a refreshed session and the last id
                if listener.overflowed:
                    return  # too many at once: a reconnect replays them from the service
                try:
                    n = listener.queue.get_nowait()
                except asyncio.QueueEmpty:
                    listener.wake.clear()
                    try:
                        await asyncio.wait_for(listener.wake.wait(), PING_SECONDS)
                    except TimeoutError:
                        yield ": ping\n\n"
                    if loop.time() - looked >= COUNT_SECONDS:
                        looked = loop.time()
                        try:
                            fresh = (await client.unread_count(Empty(), caller)).count
                        except LotseError:
                            return
                        if fresh != count:
                            count = fresh
                            yield _event("count", {"unread": count})
                    continue
                if n.position <= position:
                    continue
                position = n.position
                count += 1
                yield _event("notification", notification_json(page, n), n.id)
                yield _event("count", {"unread": count})
        finally:
            hub.remove(listener)

    headers = page_headers(gateway.settings, personal=True)
    headers["X-Accel-Buffering"] = "no"  # a reverse proxy must not hold the events back
    return page.finish(StreamingResponse(stream(), media_type="text/event-stream", headers=headers))


# ---- follows ----------------------------------------------------------------------------------

CADENCES = ("immediate", "daily", "weekly", "off")


async def _follows(page: Page) -> list[api.Follow]:
    return (await page.ask(page.gateway.client.notifications.follows, lambda: Empty())).follows


async def _follows_page(page: Page, follows: list[api.Follow], *, status: int = 200, problem: str | None = None,
                        target: tuple[str, str, str] | None = None, choice: RegionChoice | None = None) -> Response:
    if choice is None:
        choice = await region_choice(page, None, None, None)
    return page.render("follows.html", status=status, personal=True, title=page.t("follows.title"),
                       follows=follows, cadences=CADENCES, topics=directory.TOPICS, kinds=ITEM_KINDS,
                       problem=problem, target=target, choice=choice, picked=choice.region)


@router.get("/follows")
async def follows_page(page: Page = Depends(page_of), actor: str | None = None, region: str | None = None,
                       state: str | None = None, district: str | None = None,
                       municipality: str | None = None) -> Response:
    """The person's follows; `actor`/`region`: the one they asked to follow (the follow
    button's link without script, or after signing in), with a form to follow it;
    `state`/`district`/`municipality`: the region picker's choice so far."""
    page.require_signed_in()
    choice = await region_choice(page, state, district, municipality)
    target = None
    if actor:
        found = await page.ask(page.gateway.client.directory.get_actor, lambda: directory.GetActor(id=actor))
        target = ("actor", found.id, found.name)
    elif region:
        place = await page.ask(page.gateway.client.directory.get_region, lambda: directory.GetRegion(ags=region))
        target = ("region", place.ags, place.name)
    return await _follows_page(page, await _follows(page), target=target, choice=choice)


@router.post("/follows")
async def follow(page: Page = Depends(page_of)) -> Response:
    page.require_signed_in()
    form = form_of(await page.form(), "type", "key", "email")
    kind, key = form.text("type"), form.text(form.text("type") or "key") or form.text("key")
    outcome = await page.attempt(page.gateway.client.notifications.follow, lambda: api.FollowRequest.model_validate(
        {"target": {kind: key} if kind in api.FOLLOW_TARGET_TYPES else {}, "email": form.text("email") or "daily"}))
    if isinstance(outcome, LotseError):
        return await _follows_page(page, await _follows(page), status=400, problem=outcome.message)
    return page.redirect(local_path(form.get("next"), "/follows?done=followed"))


@router.post("/follows/update")
async def update_follow(page: Page = Depends(page_of)) -> Response:
    page.require_signed_in()
    form = form_of(await page.form(), "followId", "email")
    outcome = await page.attempt(page.gateway.client.notifications.update_follow,
                                 lambda: api.UpdateFollow.model_validate(
                                     {"follow_id": form.text("followId"), "email": form.text("email")}))
    if isinstance(outcome, LotseError):
        return await _follows_page(page, await _follows(page), status=400, problem=outcome.message)
    return page.redirect(local_path(form.get("next"), "/follows"))


@router.post("/follows/remove")
async def unfollow(page: Page = Depends(page_of)) -> Response:
    page.require_signed_in()
    form = form_of(await page.form(), "followId")
    outcome = await page.attempt(page.gateway.client.notifications.unfollow,
                                 lambda: api.Unfollow(follow_id=form.text("followId")))
    if isinstance(outcome, LotseError):
        return await _follows_page(page, await _follows(page), status=400, problem=outcome.message)
    return page.redirect(local_path(form.get("next"), "/follows"))


@router.get("/follows/button")
async def follow_button(page: Page = Depends(page_of), actor: str = "", region: str = "") -> Response:
    """An actor's or a region's follow button, as a fragment: it knows whether the person follows."""
    target_type, key = ("actor", actor) if actor else ("region", region)
    mine = None
    if page.signed_in and key:
        found = await page.attempt(page.gateway.client.notifications.follows, lambda: Empty())
        if not isinstance(found, LotseError):
            mine = next((f for f in found.follows if f.target.type == target_type and f.target.key == key), None)
    # Back to the page the button is on (htmx names it), else to the follows page.
    back = urlsplit(page.request.headers.get("hx-current-url", "")).path
    return page.render("_follow_button.html", personal=True, target_type=target_type, target_key=key, follow=mine,
                       next=local_path(back, "/follows"))


# ---- mail settings ------------------------------------------------------------------------------

@router.get("/notifications/settings")
async def settings_page(page: Page = Depends(page_of), done: str | None = None) -> Response:
    page.require_signed_in()
    settings = await page.ask(page.gateway.client.notifications.mail_settings, lambda: Empty())
    return page.render("mail_settings.html", personal=True, title=page.t("mail_settings.title"), settings=settings,
                       hours=range(24), weekdays=api.WEEKDAYS, problem=None, done=done)


@router.post("/notifications/settings")
async def save_settings(page: Page = Depends(page_of)) -> Response:
    page.require_signed_in()
    form = form_of(await page.form(), "paused", "digestHour", "digestWeekday")
    outcome = await page.attempt(page.gateway.client.notifications.update_mail_settings,
                                 lambda: api.UpdateMailSettings.model_validate({
                                     "paused": form.get("paused") == "on", "digest_hour": form.text("digestHour"),
                                     "digest_weekday": form.text("digestWeekday")}))
    if isinstance(outcome, LotseError):
        settings = await page.ask(page.gateway.client.notifications.mail_settings, lambda: Empty())
        return page.render("mail_settings.html", status=400, personal=True, title=page.t("mail_settings.title"),
                           settings=settings, hours=range(24), weekdays=api.WEEKDAYS, problem=outcome.message,
                           done=None)
    return page.redirect("/notifications/settings?done=saved")


# ---- unsubscribe links ---------------------------------------------------------------------------

def _what(page: Page, info: api.UnsubscribeInfo) -> str:
    """What the link turns off, in the page's language."""
    if info.target is not None:
        return page.t(f"follows.type.{info.target.type}") + f": {info.target_name or info.target.key}"
    if info.digest is not None:
        return page.t(f"unsubscribe.digest.{info.digest}")
    return page.t("unsubscribe.ended")


@router.get("/unsubscribe/{token}")
async def unsubscribe_page(token: str, page: Page = Depends(page_of)) -> Response:
    info = await page.attempt(page.gateway.client.notifications.unsubscribe_info,
                              lambda: api.Unsubscribe(token=token))
    if isinstance(info, LotseError):
        return link_page(page, "unsubscribe.html", "unsubscribe.invalid.title", 400, token=token, info=None)
    return link_page(page, "unsubscribe.html", "unsubscribe.title", token=token, info=info, what=_what(page, info))


@router.post("/unsubscribe/{token}")
async def unsubscribe(token: str, page: Page = Depends(page_of)) -> Response:
    # No CSRF check (see the module's note): the token is the authority, and RFC 8058's
    # one-click POST comes from a mail client, not from a page of ours.
    lang = (await page.request.form()).get("lang")
    if lang in ("de", "en"):
        page.lang = str(lang)  # the confirm page's language
    info = await page.attempt(page.gateway.client.notifications.unsubscribe, lambda: api.Unsubscribe(token=token))
    if isinstance(info, LotseError):
        return link_page(page, "unsubscribe.html", "unsubscribe.invalid.title", 400, token=token, info=None)
    return link_page(page, "unsubscribe.html", "unsubscribe.done.title", token=token, info=info,
                     what=_what(page, info), done=True)

