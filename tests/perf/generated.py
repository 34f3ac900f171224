"""Generated actors for the benchmark: plausible German names, descriptions, topics,
languages and regions from the shipped regions file; deterministic for a given seed.

Each name ends in the actor's number ("Sprachcafé Völklingen Nord 4711"), so names and
the slugs made from them are unique, as the import wants, and "a place and a number" is
a narrow question that finds one or a few."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from proto import directory as api
from services.directory import regions

# kind → (weight, name stems, the topics such an actor usually works on)
KINDS: dict[str, tuple[int, list[str], list[str]]] = {
    "counselling-service": (18, ["Migrationsberatung", "Beratungsstelle für Zugewanderte", "Flüchtlingsberatung",
                                 "Frauenberatung", "Sozialberatung International"],
                            ["social-counselling", "asylum-procedure-counselling", "residence-law", "legal-advice"]),
    "migrant-organisation": (14, ["Deutsch-Syrischer Verein", "Ukrainische Gemeinde", "Afrikanisches Kulturforum",
                                  "Türkischer Elternverein", "Eritreischer Verein", "Afghanischer Kulturverein"],
                             ["interpreting", "family", "education", "women-and-girls"]),
    "volunteer-initiative": (14, ["Integrationslotsen", "Willkommensnetz", "Patenschaftsprojekt", "Sprachcafé",
                                  "Helferkreis Asyl"], ["mentoring", "volunteering", "language-courses"]),
    "language-course-provider": (10, ["Sprachschule", "Sprachinstitut", "Deutschkurse", "Lernstudio Deutsch"],
                                 ["language-courses", "integration-courses"]),
    "welfare-association": (9, ["Sozialwerk", "Nachbarschaftshilfe", "Familienzentrum", "Jugendhilfe"],
                            ["social-counselling", "family", "youth", "childcare"]),
    "education-provider": (7, ["Bildungswerk", "Ausbildungsverbund", "Qualifizierungszentrum"],
                           ["vocational-training", "education", "employment"]),
    "municipality": (6, ["Integrationsbüro", "Bürgerbüro Integration", "Fachbereich Soziales"],
                     ["social-benefits", "housing", "childcare", "volunteering"]),
    "housing-company": (4, ["Wohnbaugesellschaft", "Wohnen und Leben GmbH", "Städtische Wohnungsgesellschaft"],
                        ["housing"]),
    "housing-cooperative": (4, ["Wohnungsbaugenossenschaft", "Baugenossenschaft", "Wohnungsgenossenschaft"],
                            ["housing"]),
    "job-centre": (3, ["Jobcenter", "Arbeitsagentur Team Migration"], ["employment", "social-benefits"]),
    "recognition-advice": (2, ["Anerkennungsberatung", "Servicestelle Berufsanerkennung"],
                           ["recognition-of-qualifications", "employment"]),
    "business-association": (2, ["Unternehmensnetzwerk Integration", "Handwerksinitiative"],
                             ["employment", "vocational-training"]),
    "district": (2, ["Kreisintegrationsbüro", "Fachdienst Migration"], ["residence-law", "housing"]),
    "state-authority": (1, ["Landesstelle", "Landesamt"], ["naturalisation", "residence-law"]),
    "other": (4, ["Interkultureller Garten", "Stadtteiltreff", "Dolmetscherdienst"], ["interpreting", "family"]),
}
SUFFIXES = ["", "", "e.V.", "gGmbH", "Nord", "Süd", "Mitte", "West", "Ost", "am Markt", "im Quartier"]
OFFERS = ["Beratung zu Aufenthalt und Behörden", "Begleitung bei der Wohnungssuche", "Deutschkurse am Abend",
          "Hilfe bei der Anerkennung von Berufsabschlüssen", "Hausaufgabenhilfe für Kinder",
          "Sprechstunde für Geflüchtete", "Vermittlung von Ausbildungsplätzen", "Frauencafé mit Kinderbetreuung",
          "Sprachmittlung bei Arztbesuchen", "Patenschaften für Familien", "Unterstützung beim Jobcenter",
          "Begegnungsabende für Nachbarschaft und Ehrenamt"]
AUDIENCES = ["Neuzugewanderte", "geflüchtete Familien", "junge Erwachsene", "Frauen mit Fluchtgeschichte",
             "Fachkräfte aus dem Ausland", "Ehrenamtliche", "Eltern schulpflichtiger Kinder"]
LANGUAGES = ["en", "ar", "uk", "ru", "tr", "fa", "ti", "so", "ro", "fr", "ku", "ps", "bg", "pl", "sq"]
STREETS = ["Bahnhofstraße", "Hauptstraße", "Kaiserstraße", "Saarbrücker Straße", "Kirchstraße", "Am Markt",
           "Schulstraße", "Friedhofstraße", "Poststraße", "Lindenallee"]


@dataclass(frozen=True)
class Places:
    state: str
    districts: list[api.RegionData]
    municipalities: list[api.RegionData]

    @classmethod
    def shipped(cls) -> "Places":
        rows = regions.parse(regions.SHIPPED.read_text("utf-8"))
        return cls(
            state=next(r.ags for r in rows if r.level == "state"),
            districts=[r for r in rows if r.level == "district"],
            municipalities=[r for r in rows if r.level == "municipality"],
        )


def profile(rnd: random.Random, places: Places, number: int) -> api.ActorProfile:
    kind = rnd.choices(list(KINDS), weights=[w for w, _, _ in KINDS.values()])[0]
    _, stems, usual = KINDS[kind]
    town = rnd.choice(places.municipalities)
    name = " ".join(part for part in (rnd.choice(stems), town.name, rnd.choice(SUFFIXES), str(number)) if part)
    scope = rnd.random()
    # Most actors work in one town, some in a district, very few statewide (as in life).
    served = [town.ags] if scope < 0.80 else [town.parent_ags or places.state] if scope < 0.99 else [places.state]
    offers = rnd.sample(OFFERS, 2)
    description = (f"{offers[0]} und {offers[1].lower()} in {town.name} und Umgebung. "
                   f"Unser Angebot richtet sich an {rnd.choice(AUDIENCES)}; die Beratung ist kostenlos "
                   f"und vertraulich, Termine nach Vereinbarung.")
    topics = list(dict.fromkeys(rnd.sample(usual, min(len(usual), rnd.randint(1, 2)))
                                + rnd.sample(api.TOPIC_SLUGS, rnd.randint(0, 2))))
    return api.ActorProfile(
        kind=kind, name=name, slug=f"bench-{number}", description=description,
        website=f"https://www.akteur-{number}.example", email=f"info@akteur-{number}.example",
        address=api.PostalAddress(street=f"{rnd.choice(STREETS)} {rnd.randint(1, 120)}",
                                  postal_code=f"66{rnd.randint(100, 999)}", locality=town.name),
        regions=served, topics=topics, languages=["de", *rnd.sample(LANGUAGES, rnd.randint(0, 4))],
    )


CSV_COLUMNS = ["name", "kind", "description", "website", "email", "street", "postal_code", "city", "regions",
               "topics", "languages"]


def write_csv(path: Path, count: int, seed: int = 2026) -> list[api.ActorProfile]:
    """`count` actors as an import file for `lotse admin import-actors` (lotse/actor_csv.py)."""
    rnd = random.Random(seed)
    places = Places.shipped()
    profiles = [profile(rnd, places, number) for number in range(1, count + 1)]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(CSV_COLUMNS)
        for p in profiles:
            assert p.address is not None
            out.writerow([p.name, p.kind, p.description, p.website, p.email, p.address.street,
                          p.address.postal_code, p.address.locality, "|".join(p.regions), "|".join(p.topics),
                          "|".join(p.languages)])
    return profiles
