"""Contribute news: write, publish, schedule, edit and withdraw an actor's items — articles,
press releases, events (repeating too) and funding programmes.

Every change goes to the news service as the signed-in person; news decides who may (the
actor's owners and editors write; an approved actor publishes). Editing sends back the
`version` the form was loaded with: when someone else saved in between, news answers
CONFLICT and the page shows what is saved now beside what this person typed, their typing
kept, so they save it deliberately over the other version or reload — as for an actor.

Form fields are named as the API names them (`title`, `event.startsAt`, `funding.deadline`),
so a refusal that names a field lands next to its input. Times are typed as the event's local
wall-clock time (Europe/Berlin); a time to publish at is read in that zone too.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gateway.web import i18n
from gateway.web.contribute import editable
from gateway.web.forms import Form, form_of
from gateway.web.page import Page, PageProblem, page_of
from proto import directory, news
from proto.errors import ErrorCode, LotseError

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = ("title", "summary", "body", "language", "visibility", "link")
EVENT_FIELDS = ("event.startsAt", "event.endsAt", "event.allDay", "event.repeat", "event.until",
                "event.recurrence", "event.placeName", "event.onlineUrl", "event.registrationUrl", "event.cancelled")
FUNDING_FIELDS = ("funding.funder", "funding.deadline", "funding.rolling", "funding.amountMax")
TRANSLATION_FIELDS = ("translation.language", "translation.title", "translation.summary", "translation.body")
FIELDS = (*TEXT_FIELDS, "topics", "regions", *EVENT_FIELDS, *FUNDING_FIELDS, *TRANSLATION_FIELDS, "publishAt",
          "reason", "translations", "event", "funding", "form")
# What a conflict compares, in the form's order.
COMPARED = ("title", "summary", "body", "language", "topics", "regions", "visibility", "link", "event.startsAt",
            "event.endsAt", "event.repeat", "event.until", "event.placeName", "event.cancelled", "funding.funder",
            "funding.deadline", "funding.rolling", "translation.language", "translation.title", "translation.summary")
DONE = ("created", "saved", "published", "scheduled", "unscheduled", "withdrawn", "date_cancelled", "date_restored")
DATES_SHOWN = 12  # the next dates of a repeating event, each with its own "cancel" button
REPEATS = {"WEEKLY": "FREQ=WEEKLY", "BIWEEKLY": "FREQ=WEEKLY;INTERVAL=2", "MONTHLY": "FREQ=MONTHLY"}
STATUSES: list[news.ItemStatus] = ["draft", "scheduled", "published", "withdrawn"]


# ---- the form's values ----------------------------------------------------------------

def local_input(value: datetime | None) -> str:
    """A time as an `<input type="datetime-local">` shows it."""
    return value.strftime("%Y-%m-%dT%H:%M") if value else ""


def repeat_of(rule: str | None, time_zone: str = news.DEFAULT_TIME_ZONE) -> tuple[str, str, str]:
    """An RRULE as the form's choice: (repeat, until, the rule as written when it is none of the
    form's). News stores UNTIL in UTC: it reads back as the last day where the event is."""
    if not rule:
        return "", "", ""
    try:
        recur = icalendar.vRecur.from_ical(rule.removeprefix("RRULE:"))
    except (ValueError, TypeError):
        return "custom", "", rule
    freq = [str(f).upper() for f in recur.get("FREQ", [])]
    interval = int(recur.get("INTERVAL", [1])[0])
    spelled = {"WEEKLY": {1: "WEEKLY", 2: "BIWEEKLY"}, "MONTHLY": {1: "MONTHLY"}}.get(freq[0] if freq else "", {})
    if set(recur) - {"FREQ", "INTERVAL", "UNTIL"} or "UNTIL" not in recur or interval not in spelled:
        return "custom", "", rule
    until = recur["UNTIL"][0]
    if isinstance(until, datetime):
        until = (until.astimezone(ZoneInfo(time_zone)) if until.tzinfo else until).date()
    return spelled[interval], until.isoformat(), ""


def wall(value: datetime | str) -> datetime | str:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def item_values(item: news.NewsItem, translation: news.NewsItem | None) -> dict[str, Any]:
    """A saved item as the form spells it (in its original language; one translation)."""
    event, funding = item.event, item.funding
    repeat, until, rule = repeat_of(event.recurrence, event.time_zone) if event else ("", "", "")
    values: dict[str, Any] = {
        "title": item.title, "summary": item.summary, "body": item.body or "", "language": item.language,
        "visibility": item.visibility, "link": item.link or "", "topics": list(item.topics),
        "regions": [r.ags for r in item.regions],
        "event.startsAt": local_input(event.starts_at) if event else "",
        "event.endsAt": local_input(event.ends_at) if event else "",
        "event.allDay": bool(event and event.all_day), "event.cancelled": bool(event and event.cancelled),
        "event.repeat": repeat, "event.until": until,
        "event.recurrence": rule, "event.placeName": (event.place_name or "") if event else "",
        "event.onlineUrl": (event.online_url or "") if event else "",
        "event.registrationUrl": (event.registration_url or "") if event else "",
        "funding.funder": funding.funder if funding else "",
        "funding.deadline": funding.deadline.isoformat() if funding and funding.deadline else "",
        "funding.rolling": bool(funding and funding.rolling),
        "funding.amountMax": str(funding.amount_max) if funding and funding.amount_max is not None else "",
        "translation.language": translation.language if translation else "",
        "translation.title": translation.title if translation else "",
        "translation.summary": translation.summary if translation else "",
        "translation.body": (translation.body or "") if translation else "",
        "publishAt": local_input(item.scheduled_for.astimezone(i18n.TIMEZONE))
        if item.scheduled_for and item.status == "scheduled" else "",
    }
    return values


def form_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.text(name) for name in (*TEXT_FIELDS, *EVENT_FIELDS, *FUNDING_FIELDS,
                                                                 *TRANSLATION_FIELDS, "publishAt")}
    for name in ("body", "summary", "translation.body", "translation.summary"):
        values[name] = form.get(name).strip()
    values["topics"] = form.all("topics")
    values["regions"] = form.all("regions")
    values["event.allDay"] = form.get("event.allDay") == "on"
    values["event.cancelled"] = form.get("event.cancelled") == "on"
    values["funding.rolling"] = form.get("funding.rolling") == "on"
    values["language"] = values["language"] or "de"
    values["visibility"] = values["visibility"] or "public"
    return values


def _when(text: str, all_day: bool) -> datetime | str:
    """A typed time, or the text itself for the service to refuse by name."""
    try:
        return datetime.fromisoformat(text[:10] if all_day else text)
    except ValueError:
        return text


def event_of(values: dict[str, Any], before: news.EventInfo | None) -> dict[str, Any]:
    """The event block from the form, over what the saved event holds beyond the form (its
    address, organiser, moved or cancelled occurrences while the times stay)."""
    kept = before.model_dump(include=set(news.EventDetails.model_fields)) if before else {}
    all_day = values["event.allDay"]
    repeat = values["event.repeat"]
    if repeat == "custom":
        rule = values["event.recurrence"] or None
    elif repeat in REPEATS:
        until = values["event.until"].replace("-", "")
        rule = f"{REPEATS[repeat]};UNTIL={until}" if until else REPEATS[repeat]
    else:
        rule = None
    block = {**kept, "starts_at": _when(values["event.startsAt"], all_day),
             "ends_at": _when(values["event.endsAt"] or values["event.startsAt"], all_day), "all_day": all_day,
             "recurrence": rule, "cancelled": values["event.cancelled"],
             "place_name": values["event.placeName"] or None,
             "online_url": values["event.onlineUrl"] or None,
             "registration_url": values["event.registrationUrl"] or None}
    if before is not None:
        was = repeat_of(before.recurrence, before.time_zone)
        same_rule = (repeat, values["event.until"]) == was[:2] if repeat != "custom" else rule == before.recurrence
        if same_rule and repeat != "custom":
            block["recurrence"] = before.recurrence  # as news stored it: the same rule
        if wall(block["starts_at"]) != wall(before.starts_at) or not same_rule:
            block["changed_occurrences"] = []  # they named occurrences of the times that were
    return block


def funding_of(values: dict[str, Any], before: news.FundingInfo | None) -> dict[str, Any]:
    kept = before.model_dump(include=set(news.FundingDetails.model_fields)) if before else {}
    amount = values["funding.amountMax"].replace(".", "").replace(" ", "").removesuffix("€")
    deadline: date | str | None = None
    if values["funding.deadline"]:
        try:
            deadline = date.fromisoformat(values["funding.deadline"])
        except ValueError:
            deadline = values["funding.deadline"]
    return {**kept, "funder": values["funding.funder"], "deadline": deadline, "rolling": values["funding.rolling"],
            "amount_max": amount or None}


def translations_of(values: dict[str, Any], others: list[news.Translation]) -> list[dict[str, Any]]:
    """The form's translation (when it has a language or a title) and the item's others, unchanged."""
    mine = []
    if values["translation.language"] or values["translation.title"]:
        mine = [{"language": values["translation.language"].lower(), "title": values["translation.title"],
                 "summary": values["translation.summary"], "body": values["translation.body"]}]
    return mine + [t.model_dump() for t in others if t.language != values["translation.language"].lower()]


def content_of(values: dict[str, Any], kind: str, item: news.NewsItem | None,
               others: list[news.Translation]) -> dict[str, Any]:
    content: dict[str, Any] = {
        "title": values["title"], "summary": values["summary"], "body": values["body"],
        "language": values["language"].lower(), "topics": values["topics"], "regions": values["regions"],
        "visibility": values["visibility"], "translations": translations_of(values, others),
    }
    if values["link"]:
        content["link"] = values["link"]
    if kind == "event":
        content["event"] = event_of(values, item.event if item else None)
    if kind == "funding-programme":
        content["funding"] = funding_of(values, item.funding if item else None)
    return content


def publish_time(text: str) -> datetime | str:
    """`publishAt` typed in Lotse's zone, with its offset, as the service wants it."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=i18n.TIMEZONE)
    except ValueError:
        return text


@dataclass(frozen=True)
class Difference:
    field: str
    saved: str
    yours: str


def differences(saved: dict[str, Any], yours: dict[str, Any]) -> list[Difference]:
    def shown(value: Any) -> str:
        if isinstance(value, bool):
            return "✓" if value else "–"
        return ", ".join(value) if isinstance(value, list) else str(value)

    def same(a: Any, b: Any) -> bool:
        return (sorted(a) == sorted(b)) if isinstance(a, list) and isinstance(b, list) else a == b

    return [Difference(name, shown(saved.get(name, "")), shown(yours.get(name, "")))
            for name in COMPARED if not same(saved.get(name, ""), yours.get(name, ""))]


# ---- loading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Loaded:
    item: news.NewsItem  # in its original language, with its body
    translation: news.NewsItem | None  # the first translation, as the form edits it
    others: list[news.Translation]  # the rest, sent back as they are


def version_request(item_id: str, code: str) -> Callable[[], news.GetNewsItem]:
    return lambda: news.GetNewsItem(id=item_id, lang=[code])


async def load_item(page: Page, item_id: str) -> Loaded:
    """The item as its editors see it; a person who may not edit it is refused."""
    page.require_signed_in()
    client = page.gateway.client.news
    first = await page.ask(client.get_item, lambda: news.GetNewsItem(id=item_id))
    if not first.may_edit:
        raise PageProblem(403, "problem.forbidden")
    original = first if first.language == first.original_language else await page.ask(
        client.get_item, lambda: news.GetNewsItem(id=item_id, lang=[first.original_language]))
    versions = [await page.ask(client.get_item, version_request(item_id, code))
                for code in original.available_languages if code != original.original_language]
    others = [news.Translation(language=v.language, title=v.title, summary=v.summary, body=v.body or "")
              for v in versions[1:]]
    return Loaded(original, versions[0] if versions else None, others)


async def actor_items(page: Page, actor: directory.Actor) -> list[news.NewsItem]:
    found = await page.ask(page.gateway.client.news.news_feed, lambda: news.GetNewsFeed(
        filter=news.NewsFilter(actors=[actor.id], status=STATUSES), first=100, lang=[page.lang]))
    return [edge.node for edge in found.edges]


# ---- pages ------------------------------------------------------------------------------

def item_form(page: Page, *, actor: directory.Actor | None, actor_id: str, kind: str, values: dict[str, Any],
              form: Form, action: str, status: int = 200, item: news.NewsItem | None = None,
              version: int | None = None, conflict: list[Difference] | None = None, done: str | None = None,
              region_options: list[directory.RegionRef] | None = None,
              dates: list[news.Occurrence] | None = None) -> Response:
    title = item.title if item else page.t(f"publish.new.{kind}")
    chosen = set(values["regions"])
    options = list(region_options or [])
    known = {r.ags for r in options}
    options += [r for r in (item.regions if item else []) if r.ags not in known]
    return page.render("news_form.html", status=status, personal=True, title=title, values=values, form=form,
                       kind=kind, action=action, item=item, version=version, conflict=conflict,
                       done=done if done in DONE else None, actor_id=actor_id, actor=actor,
                       region_options=options, chosen_regions=chosen, topics=directory.TOPICS,
                       repeats=("", *REPEATS), dates=dates or [])


def empty_values(actor: directory.Actor, kind: str, lang: str) -> dict[str, Any]:
    values = form_values(form_of({}))
    values.update(language=lang, regions=[r.ags for r in actor.regions], topics=list(actor.topics[:3]))
    return values


@router.get("/contribute/actors/{actor_id}/news")
async def actor_news(actor_id: str, done: str = "", page: Page = Depends(page_of)) -> Response:
    actor = await editable(page, actor_id)
    items = await actor_items(page, actor)
    return page.render("actor_news.html", personal=True, title=page.t("publish.title", name=actor.name),
                       actor=actor, items=items, kinds=news.ITEM_KINDS, done=done if done in DONE else None)


@router.get("/contribute/actors/{actor_id}/news/new")
async def new_item_page(actor_id: str, kind: str = "article", page: Page = Depends(page_of)) -> Response:
    actor = await editable(page, actor_id)
    kind = kind if kind in news.ITEM_KINDS else "article"
    form = form_of({"key": [secrets.token_urlsafe(16)]}, *FIELDS)
    return item_form(page, actor=actor, actor_id=actor.id, kind=kind, values=empty_values(actor, kind, page.lang),
                     form=form, action=f"/contribute/actors/{actor.id}/news/new?kind={kind}",
                     region_options=actor.regions)


@router.post("/contribute/actors/{actor_id}/news/new")
async def create_item(actor_id: str, kind: str = "article", page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *FIELDS)
    actor = await editable(page, actor_id)
    kind = kind if kind in news.ITEM_KINDS else "article"
    values = form_values(form)
    created = await page.attempt(page.gateway.client.news.create_item, lambda: news.CreateNewsItem.model_validate(
        {**content_of(values, kind, None, []), "actor_id": actor.id, "kind": kind}))
    if isinstance(created, news.NewsItem):
        after = await then(page, form, created, values)
        if isinstance(after, str):
            return page.redirect(f"/contribute/news/{created.id}?done={after}")
        return await not_published(page, created.id, form, values, after)
    if created.code != ErrorCode.INVALID_INPUT:
        raise page.problem(created)
    form.fail_with(created, "form")
    return item_form(page, actor=actor, actor_id=actor.id, kind=kind, values=values, form=form, status=400,
                     action=f"/contribute/actors/{actor.id}/news/new?kind={kind}", region_options=actor.regions)


async def then(page: Page, form: Form, item: news.NewsItem, values: dict[str, Any]) -> str | LotseError:
    """After a save: publish now or at a time, when the button pressed says so."""
    action = form.get("action") or "save"
    client = page.gateway.client.news
    if action == "publish" and item.status in ("draft", "scheduled"):
        published = await page.attempt(client.publish_item, lambda: news.PublishNewsItem(
            item_id=item.id, expected_version=item.version))
        return published if isinstance(published, LotseError) else "published"
    if action == "schedule" and item.status in ("draft", "scheduled"):
        scheduled = await page.attempt(client.schedule_item, lambda: news.ScheduleNewsItem.model_validate({
            "item_id": item.id, "publish_at": publish_time(values["publishAt"]), "expected_version": item.version}))
        return scheduled if isinstance(scheduled, LotseError) else "scheduled"
    return "saved"


async def next_dates(page: Page, item: news.NewsItem) -> list[news.Occurrence]:
    """A repeating event's next dates (cancelled ones too), as news expands its rule: the
    actor's upcoming occurrences, this item's among them."""
    if item.event is None or not item.event.recurrence or item.status == "withdrawn":
        return []
    found = await page.attempt(page.gateway.client.news.upcoming_events, lambda: news.GetUpcomingEvents(
        actors=[item.actor.id], first=100))
    if isinstance(found, LotseError):
        return []
    return [e.occurrence for e in found.edges if e.item.id == item.id][:DATES_SHOWN]


async def edit_page(page: Page, loaded: Loaded, *, form: Form | None = None, values: dict[str, Any] | None = None,
                    status: int = 200, conflict: list[Difference] | None = None, done: str | None = None
                    ) -> Response:
    item = loaded.item
    actor = await page.attempt(page.gateway.client.directory.get_actor, lambda: directory.GetActor(id=item.actor.id))
    return item_form(page, actor=actor if isinstance(actor, directory.Actor) else None, actor_id=item.actor.id,
                     kind=item.kind, values=values or item_values(item, loaded.translation),
                     form=form or form_of({}, *FIELDS), action=f"/contribute/news/{item.id}", status=status,
                     item=item, version=item.version, conflict=conflict, done=done,
                     region_options=actor.regions if isinstance(actor, directory.Actor) else [],
                     dates=await next_dates(page, item))


async def not_published(page: Page, item_id: str, form: Form, values: dict[str, Any], error: LotseError
                        ) -> Response:
    """Saved, but the publication asked for did not go through: the saved item, with what was
    typed and why — next to the time, or at the top (the actor is not approved yet, …)."""
    if error.code not in (ErrorCode.INVALID_INPUT, ErrorCode.CONFLICT, ErrorCode.FORBIDDEN):
        raise page.problem(error)
    form.fail("form", page.t("publish.not_published"))
    form.fail_with(error, "form") if error.code == ErrorCode.INVALID_INPUT else form.fail("publishAt", error.message)
    return await edit_page(page, await load_item(page, item_id), form=form, values=values, status=400)


@router.get("/contribute/news/{item_id}")
async def edit_item_page(item_id: str, done: str = "", page: Page = Depends(page_of)) -> Response:
    return await edit_page(page, await load_item(page, item_id), done=done)


@router.post("/contribute/news/{item_id}")
async def update_item(item_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *FIELDS)
    loaded = await load_item(page, item_id)
    item = loaded.item
    values = form_values(form)
    try:
        expected = int(form.get("expectedVersion"))
    except ValueError:
        expected = item.version
    content = content_of(values, item.kind, item, loaded.others)
    clear = [] if values["link"] else ["link"]
    result = await page.attempt(page.gateway.client.news.update_item, lambda: news.UpdateNewsItem.model_validate(
        {**{k: v for k, v in content.items() if k != "link"}, "link": content.get("link"),
         "item_id": item.id, "expected_version": expected, "clear": clear}))
    if isinstance(result, news.NewsItem):
        after = await then(page, form, result, values)
        if isinstance(after, str):
            return page.redirect(f"/contribute/news/{item.id}?done={after}")
        return await not_published(page, item.id, form, values, after)
    if result.code == ErrorCode.CONFLICT and item.status != "withdrawn":
        # Someone saved first. Show both; keep what this person typed; their next save is
        # against the version saved now, so it overwrites only when they choose to.
        return await edit_page(page, loaded, form=form, values=values, status=409,
                               conflict=differences(item_values(item, loaded.translation), values))
    if result.code not in (ErrorCode.INVALID_INPUT, ErrorCode.CONFLICT):
        raise page.problem(result)
    form.fail_with(result, "form")
    return await edit_page(page, loaded, form=form, values=values, status=400 if result.code == ErrorCode.INVALID_INPUT
                           else 409)


@router.post("/contribute/news/{item_id}/publish")
async def publish_item(item_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *FIELDS)
    loaded = await load_item(page, item_id)
    result = await page.attempt(page.gateway.client.news.publish_item,
                                lambda: news.PublishNewsItem(item_id=loaded.item.id))
    return await after_action(page, loaded, form, result, "published")


@router.post("/contribute/news/{item_id}/schedule")
async def schedule_item(item_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *FIELDS)
    loaded = await load_item(page, item_id)
    when = form.text("publishAt")
    result = await page.attempt(page.gateway.client.news.schedule_item, lambda: news.ScheduleNewsItem.model_validate(
        {"item_id": loaded.item.id, "publish_at": publish_time(when) if when else None}))
    return await after_action(page, loaded, form, result, "scheduled" if when else "unscheduled")


@router.post("/contribute/news/{item_id}/withdraw")
async def withdraw_item(item_id: str, page: Page = Depends(page_of)) -> Response:
    form = form_of(await page.form(), *FIELDS)
    loaded = await load_item(page, item_id)
    result = await page.attempt(page.gateway.client.news.withdraw_item, lambda: news.WithdrawNewsItem(
        item_id=loaded.item.id, reason=form.optional("reason")))
    return await after_action(page, loaded, form, result, "withdrawn")


async def after_action(page: Page, loaded: Loaded, form: Form, result: news.NewsItem | LotseError,
                       done: str) -> Response:
    if isinstance(result, news.NewsItem):
        return page.redirect(f"/contribute/news/{result.id}?done={done}")
    if result.code not in (ErrorCode.INVALID_INPUT, ErrorCode.CONFLICT, ErrorCode.FORBIDDEN):
        raise page.problem(result)
    form.fail_with(result, "form") if result.code == ErrorCode.INVALID_INPUT else form.fail("form", result.message)
    return await edit_page(page, loaded, form=form, status=403 if result.code == ErrorCode.FORBIDDEN else 400)


def with_date(event: news.EventInfo, occurrence: datetime, cancelled: bool) -> dict[str, Any]:
    """The event block with one date cancelled, or its cancellation taken back (a moved date
    stays moved)."""
    details = event.model_dump(include=set(news.EventDetails.model_fields))
    original = occurrence.replace(tzinfo=None)
    changes = [c for c in event.changed_occurrences if c.occurrence.replace(tzinfo=None) != original]
    before = next((c for c in event.changed_occurrences if c.occurrence.replace(tzinfo=None) == original), None)
    if cancelled:
        changes.append(news.OccurrenceChange(occurrence=original, cancelled=True))
    elif before is not None and before.starts_at is not None:
        changes.append(before.model_copy(update={"cancelled": False}))
    details["changed_occurrences"] = [c.model_dump() for c in changes]
    return details


@router.post("/contribute/news/{item_id}/dates")
async def change_date(item_id: str, page: Page = Depends(page_of)) -> Response:
    """Cancel one date of a repeating event, or take its cancellation back."""
    form = form_of(await page.form(), "occurrence", "cancel", "expectedVersion", "form")
    loaded = await load_item(page, item_id)
    item = loaded.item
    try:
        occurrence = datetime.fromisoformat(form.get("occurrence"))
        expected = int(form.get("expectedVersion"))
    except ValueError:
        raise PageProblem(400, "problem.invalid", detail="occurrence, expectedVersion") from None
    event = item.event
    if event is None:
        raise PageProblem(400, "problem.invalid", detail="event")
    cancel = form.get("cancel") == "1"
    result = await page.attempt(page.gateway.client.news.update_item, lambda: news.UpdateNewsItem.model_validate(
        {"item_id": item.id, "expected_version": expected, "event": with_date(event, occurrence, cancel)}))
    if isinstance(result, news.NewsItem):
        return page.redirect(f"/contribute/news/{item.id}?done={'date_cancelled' if cancel else 'date_restored'}#dates")
    if result.code not in (ErrorCode.INVALID_INPUT, ErrorCode.CONFLICT):
        raise page.problem(result)
    form.fail("form", page.t("publish.dates.conflict") if result.code == ErrorCode.CONFLICT else result.message)
    return await edit_page(page, loaded, form=form, status=409 if result.code == ErrorCode.CONFLICT else 400)
