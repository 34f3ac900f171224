"""Sample news for `lotse dev` (never loaded in production: only the dev runner calls this).

Written through the service's own command path: the pure domain decides (every rule and
check of `create_item`, `publish_item`, `schedule_item` applies, the author must be an
owner or editor of the actor in news' copy of the directory), events are appended with the
expected sequence and the view has applied them when `load` returns. Principals are built
in process for the sample accounts, as the directory's samples do.

Idempotent: each item's id is derived from its title, so a second run (or one after an
interrupted first) adds only what is missing.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proto import news as api
from proto.envelope import stable_id
from services.kernel.auth import Principal
from services.kernel.commands import Decision
from services.kernel.logging import get_logger
from services.news import domain, views

if TYPE_CHECKING:
    from services.news.service import NewsService

log = get_logger("news.sample")

SAMPLE_FILE = Path(__file__).with_name("data") / "sample-news.json"
ACCOUNT_NAMES = ("admin", "anna.schmidt", "mehmet.yilmaz", "julia.weber")  # services/identity/sample.py


def sample_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(SAMPLE_FILE.read_text(encoding="utf-8"))["items"]
    return items


def _event(spec: dict[str, Any], today: datetime) -> dict[str, Any]:
    """Relative times (see the file's `about`) as the event details an editor would send."""
    values = {k: v for k, v in spec.items() if k not in (
        "starts_in_days", "start_time", "duration_hours", "duration_days", "weekly_until_days", "cancel_occurrence",
        "move_occurrence")}
    day = today.date() + timedelta(days=spec["starts_in_days"])
    if spec.get("all_day"):
        values["starts_at"] = datetime.combine(day, time())
        values["ends_at"] = datetime.combine(day + timedelta(days=spec.get("duration_days", 1) - 1), time())
    else:
        start = datetime.combine(day, time.fromisoformat(spec["start_time"]))
        values["starts_at"] = start
        values["ends_at"] = start + timedelta(hours=spec["duration_hours"])
    if "weekly_until_days" in spec:
        until = today.date() + timedelta(days=spec["weekly_until_days"])
        values["recurrence"] = f"FREQ=WEEKLY;UNTIL={until:%Y%m%d}"
        changes = []
        if "cancel_occurrence" in spec:
            changes.append({"occurrence": values["starts_at"] + timedelta(weeks=spec["cancel_occurrence"]),
                            "cancelled": True})
        if "move_occurrence" in spec:
            original = values["starts_at"] + timedelta(weeks=spec["move_occurrence"])
            changes.append({"occurrence": original, "starts_at": original + timedelta(days=1),
                            "ends_at": values["ends_at"] + timedelta(weeks=spec["move_occurrence"], days=1)})
        values["changed_occurrences"] = changes
    return values


def command(sample: dict[str, Any], actor_id: str, now: datetime) -> api.CreateNewsItem:
    fields = {k: v for k, v in sample.items() if k not in ("actor", "author", "published", "scheduled_in_hours")}
    today = now.astimezone(domain.LOCAL_ZONE).replace(tzinfo=None)
    if "event" in fields:
        fields["event"] = _event(fields["event"], today)
    if "funding" in fields and "deadline_in_days" in fields["funding"]:
        funding = dict(fields["funding"])
        funding["deadline"] = today.date() + timedelta(days=funding.pop("deadline_in_days"))
        fields["funding"] = funding
    return api.CreateNewsItem.model_validate({**fields, "actor_id": actor_id})


async def load(service: NewsService, account_ids: list[str]) -> int:
    """Write the sample items that aren't there yet; how many were written now."""
    if len(account_ids) != len(ACCOUNT_NAMES):
        raise ValueError(f"expected the ids of {', '.join(ACCOUNT_NAMES)}, got {len(account_ids)} ids")
    ids = dict(zip(ACCOUNT_NAMES, account_ids, strict=True))
    assert service.directory is not None and service.commands is not None
    await service.directory.projector.catch_up()
    names = await views.actor_ids_by_name(service.db)
    written = 0
    for sample in sample_items():
        author = Principal(account_id=ids[sample["author"]], role="member", session_id=None)
        item_id = stable_id("sample-news", sample["title"])
        if await views.load_item(service.db, item_id) is None:
            actor = await views.actor(service.db, names[sample["actor"]])
            event = domain.decide_create(command(sample, names[sample["actor"]], service.clock.now()),
                                         item_id=item_id, principal=author, actor=actor,
                                         known_regions=await views.known_regions(service.db, sample["regions"]),
                                         now=service.clock.now())

            async def decision(event: api.ItemCreated = event, item_id: str = item_id) -> Decision:
                return Decision(api.AGGREGATE_ITEM, item_id, event, 0)

            await service.commands.run(decision, by=author.account_id)
            written += 1
        if sample.get("published", True) and "scheduled_in_hours" not in sample:
            await service.publish_item(api.PublishNewsItem(item_id=item_id), _as(author))
        elif "scheduled_in_hours" in sample:
            state = await views.load_item(service.db, item_id)
            if state is not None and state.status == "draft":
                await service.schedule_item(api.ScheduleNewsItem(
                    item_id=item_id, publish_at=service.clock.now() + timedelta(hours=sample["scheduled_in_hours"])),
                    _as(author))
    log.info("news.sample_loaded", items=len(sample_items()), written=written)
    return written


class _Context:
    """The request context of a sample author: the principal is known in process."""

    def __init__(self, principal: Principal):
        self._principal = principal

    def principal(self) -> Principal:
        return self._principal

    def optional_principal(self) -> Principal:
        return self._principal


def _as(principal: Principal) -> Any:
    return _Context(principal)
