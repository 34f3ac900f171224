"""Generated news for the benchmark: plausible German items of every kind across the shipped
regions; deterministic for a given seed. Events: exactly `target_events` of them concern one
region (its own, its district's and the state's), the rest concern other districts only."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from proto import directory as dapi
from proto import news as api
from tests.perf.generated import Places

TOPICS = list(dapi.TOPIC_SLUGS)
WHAT = ["Sprachcafé", "Informationsabend", "Beratungstag", "Integrationskurs", "Wohnungsbörse",
        "Nachbarschaftsfest", "Fachtag Anerkennung", "Workshop Ehrenamt", "Sprechstunde Aufenthaltsrecht",
        "Elterncafé", "Bewerbungstraining", "Frauenfrühstück", "Patenschaftstreffen", "Hausaufgabenhilfe"]
NEWS = ["startet", "erweitert Angebot", "sucht Ehrenamtliche", "zieht Bilanz", "lädt ein", "erhält Förderung",
        "eröffnet neue Räume", "informiert über Änderungen"]
PHRASES = ["Die Teilnahme ist kostenlos.", "Dolmetschende sind vor Ort.", "Eine Anmeldung ist erwünscht.",
           "Kinderbetreuung wird angeboten.", "Die Beratung ist vertraulich.", "Alle Interessierten sind willkommen.",
           "Die Wohnungsbaugenossenschaft stellt sich vor.", "Unterlagen bitte mitbringen.",
           "Fragen zur Anerkennung ausländischer Abschlüsse werden beantwortet."]


@dataclass(frozen=True)
class Generated:
    item_id: str
    actor_id: str
    created: api.ItemCreated


def _regions(rnd: random.Random, places: Places, *, target: str | None, avoid: str | None) -> list[str]:
    """80 % a municipality, 15 % a district, 5 % the state — within `target`'s reach, or outside `avoid`'s."""
    municipalities = places.municipalities
    districts = places.districts
    if target is not None:
        town = next(m for m in municipalities if m.ags == target)
        roll = rnd.random()
        return [town.ags] if roll < 0.6 else [town.parent_ags or places.state] if roll < 0.9 else [places.state]
    if avoid is not None:
        district = next(m.parent_ags for m in municipalities if m.ags == avoid)
        municipalities = [m for m in municipalities if m.parent_ags != district]
        districts = [d for d in districts if d.ags != district]
        roll = rnd.random()
        return [rnd.choice(municipalities).ags] if roll < 0.85 else [rnd.choice(districts).ags]
    roll = rnd.random()
    if roll < 0.80:
        return [rnd.choice(municipalities).ags]
    return [rnd.choice(districts).ags] if roll < 0.95 else [places.state]


def content(rnd: random.Random, places: Places, kind: str, regions: list[str], today: datetime, n: int
            ) -> api.ItemContent:
    names = {r.ags: r.name for r in [*places.municipalities, *places.districts]}
    where = names.get(regions[0], "Saarland")
    what = rnd.choice(WHAT)
    title = f"{what} in {where}" if kind == "event" else f"{what} {where} {rnd.choice(NEWS)}"
    body = " ".join(rnd.sample(PHRASES, 3)) + f"\n\nMehr unter **Nummer {n}**."
    topics = rnd.sample(TOPICS, rnd.randint(1, 2))
    values: dict = {"title": title, "summary": rnd.choice(PHRASES), "body": body, "topics": topics,
                    "regions": regions, "language": "de" if rnd.random() < 0.9 else "en"}
    if kind == "event":
        day = today.date() + timedelta(days=rnd.randint(-20, 380))
        start = datetime.combine(day, time(rnd.choice([9, 10, 14, 16, 18, 19])))
        values["event"] = api.EventDetails(starts_at=start, ends_at=start + timedelta(hours=2),
                                           place_name=f"Bürgerhaus {where}")
    elif kind == "funding-programme":
        values["funding"] = api.FundingDetails(funder="Land", amount_max=rnd.choice([2500, 10000, 50000]),
                                               deadline=today.date() + timedelta(days=rnd.randint(1, 300)))
    return api.ItemContent.model_validate(values)


def items(rnd: random.Random, places: Places, actors: list[str], authors: dict[str, str], count: int,
          *, target: str, target_events: int, today: datetime) -> list[Generated]:
    from proto.envelope import new_id

    events = count // 4
    kinds = (["event"] * events + ["funding-programme"] * (count // 20)
             + ["press-release"] * (count * 3 // 20))
    kinds += ["article"] * (count - len(kinds))
    rnd.shuffle(kinds)
    found: list[Generated] = []
    seen_events = 0
    for n, kind in enumerate(kinds):
        if kind == "event":
            reach = seen_events < target_events
            seen_events += 1
            regions = _regions(rnd, places, target=target if reach else None, avoid=None if reach else target)
        else:
            regions = _regions(rnd, places, target=None, avoid=None)
        actor_id = rnd.choice(actors)
        item_id = new_id()
        created = api.ItemCreated(item_id=item_id, actor_id=actor_id, kind=kind, author_id=authors[actor_id],  # type: ignore[arg-type]
                                  content=content(rnd, places, kind, regions, today, n))
        found.append(Generated(item_id, actor_id, created))
    return found
