"""Events as iCalendar (RFC 5545): recurrence rules checked, occurrences expanded, components written.

Done with icalendar and recurring-ical-events; python-dateutil checks a rule before anything
is stored. What calendar programs get wrong when peers get it wrong, and how it is done here:

- UID: `<item id>@lotse`, never changing, for the item and every occurrence of it; a moved or
  cancelled occurrence is an override with the same UID and its RECURRENCE-ID (the start
  the rule gave it), a cancelled one keeps STATUS:CANCELLED instead of vanishing.
- SEQUENCE rises with every edit of the item, so a calendar replaces its copy.
- Times carry TZID (Europe/Berlin unless the editor chose another zone) and the calendar
  carries that zone's VTIMEZONE; all-day events are DATE values (DTEND the day after).
- A rule must end: UNTIL or COUNT, at most 500 occurrences within two years. UNTIL is
  stored in UTC for timed events, as RFC 5545 requires beside a DTSTART with TZID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr

from proto import news as api
from proto.errors import Invalid

MAX_OCCURRENCES = 500
MAX_SPAN = timedelta(days=2 * 366)  # two years, leap day included
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PRODID = "-//Lotse//News//DE"
DOMAIN = "lotse"

FIELD = "event.recurrence"


def uid(item_id: str) -> str:
    return f"{item_id}@{DOMAIN}"


# ---- times ------------------------------------------------------------------------------

def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def wall_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """The local wall-clock time (naive) of a time given with or without an offset."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(tz).replace(tzinfo=None)


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def _local(value: datetime | date, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
    return datetime.combine(value, time())


# ---- rules ------------------------------------------------------------------------------

def normalised_rule(details: api.EventDetails) -> str:
    """The rule as stored: no `RRULE:` prefix, UNTIL in UTC (timed) or as a date (all-day).

    Raises Invalid on `event.recurrence` for anything that is not a bounded rule."""
    assert details.recurrence is not None
    text = details.recurrence.strip().removeprefix("RRULE:").strip()
    try:
        recur = icalendar.vRecur.from_ical(text)
    except (ValueError, TypeError):
        raise Invalid("this is not a repetition rule (RRULE), e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10", FIELD) from None
    freq = [str(f).upper() for f in recur.get("FREQ", [])]
    if not freq:
        raise Invalid("say how often the event repeats: FREQ=DAILY, WEEKLY, MONTHLY or YEARLY", FIELD)
    if freq[0] not in FREQUENCIES:
        raise Invalid("an event repeats daily, weekly, monthly or yearly at most", FIELD)
    if "UNTIL" not in recur and "COUNT" not in recur:
        raise Invalid("a repeating event needs an end: add UNTIL=<last day> or COUNT=<number>", FIELD)
    if "UNTIL" in recur and "COUNT" in recur:
        raise Invalid("give UNTIL or COUNT, not both", FIELD)
    tz = zone(details.time_zone)
    if "UNTIL" in recur:
        until = recur["UNTIL"][0]
        if details.all_day:
            recur["UNTIL"] = [until.date() if isinstance(until, datetime) else until]
        else:
            if isinstance(until, datetime):
                last = until.astimezone(UTC) if until.tzinfo else to_utc(until, tz)
            else:  # a date: the whole of that day, where the event takes place
                last = to_utc(datetime.combine(until, time(23, 59, 59)), tz)
            recur["UNTIL"] = [last.replace(tzinfo=UTC)]
    return recur.to_ical().decode()


def rule_starts(details: api.EventDetails, rule: str) -> list[datetime]:
    """The local starts the rule gives (at most MAX_OCCURRENCES + 1); Invalid if it cannot be read."""
    tz = zone(details.time_zone)
    start = details.starts_at
    try:
        if details.all_day:
            rule_set = rrulestr(rule, dtstart=datetime.combine(start.date(), time()))
            starts = list(islice(iter(rule_set), MAX_OCCURRENCES + 1))
            return starts
        rule_set = rrulestr(rule, dtstart=start.replace(tzinfo=tz))
        return [s.astimezone(tz).replace(tzinfo=None)
                for s in islice(iter(rule_set), MAX_OCCURRENCES + 1)]
    except (ValueError, TypeError, OverflowError) as e:
        raise Invalid(f"this repetition rule cannot be read: {e}", FIELD) from None


def check_rule(details: api.EventDetails) -> tuple[str, list[datetime]]:
    """The stored rule and its local starts, or Invalid naming `event.recurrence`."""
    rule = normalised_rule(details)
    starts = rule_starts(details, rule)
    if not starts:
        raise Invalid("this rule gives no occurrence at all; check UNTIL and the start", FIELD)
    if len(starts) > MAX_OCCURRENCES:
        raise Invalid(f"a repeating event may have at most {MAX_OCCURRENCES} occurrences", FIELD)
    if starts[-1] - starts[0] > MAX_SPAN:
        raise Invalid("a repeating event may run for at most two years; end it earlier (UNTIL or COUNT)", FIELD)
    return rule, starts


# ---- components -------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """What a calendar entry of an event says, in one language."""

    item_id: str
    title: str
    description: str
    url: str
    sequence: int
    stamp: datetime  # the item's last change, UTC: DTSTAMP, and LAST-MODIFIED
    created: datetime
    organiser: str | None
    location: str | None
    categories: list[str]
    withdrawn: bool = False


def _value(moment: datetime, details: api.EventDetails) -> datetime | date:
    if details.all_day:
        return moment.date()
    return moment.replace(tzinfo=zone(details.time_zone))


def _end_value(start: datetime, end: datetime, details: api.EventDetails) -> datetime | date:
    if details.all_day:
        return end.date() + timedelta(days=1)  # DTEND of an all-day event is exclusive
    return end.replace(tzinfo=zone(details.time_zone))


def _base(entry: Entry, details: api.EventDetails) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid(entry.item_id))
    event.add("dtstamp", entry.stamp.astimezone(UTC))
    event.add("created", entry.created.astimezone(UTC))
    event.add("last-modified", entry.stamp.astimezone(UTC))
    event.add("sequence", entry.sequence)
    event.add("summary", entry.title)
    if entry.description:
        event.add("description", entry.description)
    event.add("url", entry.url)
    if entry.location:
        event.add("location", entry.location)
    if entry.organiser:
        event.add("organizer", f"mailto:noreply@{DOMAIN}.invalid", parameters={"CN": entry.organiser})
    if entry.categories:
        event.add("categories", entry.categories)
    event.add("status", "CANCELLED" if details.cancelled or entry.withdrawn else "CONFIRMED")
    return event


def components(entry: Entry, details: api.EventDetails) -> list[icalendar.Event]:
    """The item's VEVENTs: the series (or single event), then one override per changed occurrence."""
    master = _base(entry, details)
    master.add("dtstart", _value(details.starts_at, details))
    master.add("dtend", _end_value(details.starts_at, details.ends_at, details))
    if details.all_day:
        master["DTSTART"].params["VALUE"] = "DATE"
        master["DTEND"].params["VALUE"] = "DATE"
    if details.recurrence:
        master.add("rrule", icalendar.vRecur.from_ical(details.recurrence))
    found = [master]
    length = details.ends_at - details.starts_at
    for change in details.changed_occurrences:
        override = _base(entry, details)
        override.add("recurrence-id", _value(change.occurrence, details))
        start = change.starts_at or change.occurrence
        end = change.ends_at or (start + length)
        override.add("dtstart", _value(start, details))
        override.add("dtend", _end_value(start, end, details))
        if details.all_day:
            for name in ("RECURRENCE-ID", "DTSTART", "DTEND"):
                override[name].params["VALUE"] = "DATE"
        if change.cancelled:
            override["STATUS"] = icalendar.vText("CANCELLED")
        found.append(override)
    return found


def component_text(entry: Entry, details: api.EventDetails) -> str:
    return "".join(c.to_ical().decode() for c in components(entry, details))


def deadline_component(entry: Entry, deadline: date) -> str:
    """A funding programme's application deadline as an all-day event on that day."""
    event = icalendar.Event()
    event.add("uid", uid(entry.item_id))
    event.add("dtstamp", entry.stamp.astimezone(UTC))
    event.add("last-modified", entry.stamp.astimezone(UTC))
    event.add("sequence", entry.sequence)
    event.add("summary", entry.title)
    if entry.description:
        event.add("description", entry.description)
    event.add("url", entry.url)
    event.add("dtstart", deadline)
    event.add("dtend", deadline + timedelta(days=1))
    event["DTSTART"].params["VALUE"] = "DATE"
    event["DTEND"].params["VALUE"] = "DATE"
    event.add("transp", "TRANSPARENT")  # a deadline blocks no time
    if entry.categories:
        event.add("categories", entry.categories)
    return event.to_ical().decode()


@lru_cache(maxsize=16)
def timezone_text(tzid: str) -> str:
    """The VTIMEZONE of a zone, from 1970 to 2038 (what icalendar derives from the tz database)."""
    return icalendar.Timezone.from_tzid(tzid).to_ical().decode()


def calendar_head(name: str, tzids: list[str]) -> str:
    """BEGIN:VCALENDAR, its properties and the VTIMEZONEs; the caller adds the events and the end."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    text = cal.to_ical().decode()
    head = text[: text.rindex("END:VCALENDAR")]
    return head + "".join(timezone_text(t) for t in sorted(set(tzids)))


CALENDAR_END = "END:VCALENDAR\r\n"


# ---- occurrences ------------------------------------------------------------------------

@dataclass(frozen=True)
class Expanded:
    starts_at: datetime  # UTC
    ends_at: datetime
    local_start: datetime  # naive, in the event's zone
    local_end: datetime
    cancelled: bool
    moved: bool
    recurrence_id: datetime | None  # naive local


def occurrences(details: api.EventDetails, item_id: str) -> list[Expanded]:
    """Every occurrence (a single event has one), expanded by recurring-ical-events from the
    same components the feeds carry."""
    tz = zone(details.time_zone)
    entry = Entry(item_id=item_id, title="", description="", url="", sequence=0, stamp=datetime.now(UTC),
                  created=datetime.now(UTC), organiser=None, location=None, categories=[])
    cal = icalendar.Calendar()
    for component in components(entry, details):
        cal.add_component(component)
    moved = {c.occurrence: c for c in details.changed_occurrences if not c.cancelled and c.starts_at}
    found = []
    for event in recurring_ical_events.of(cal).all():
        start = _local(event["DTSTART"].dt, tz)
        end = _local(event["DTEND"].dt, tz)
        rid = event.get("RECURRENCE-ID")
        recurrence_id = _local(rid.dt, tz) if rid is not None else (start if details.recurrence else None)
        status = str(event.get("STATUS", ""))
        found.append(Expanded(
            starts_at=to_utc(start, tz), ends_at=to_utc(end, tz), local_start=start, local_end=end,
            cancelled=status == "CANCELLED", moved=recurrence_id in moved if recurrence_id else False,
            recurrence_id=recurrence_id if details.recurrence else None,
        ))
    return sorted(found, key=lambda o: o.starts_at)
