"""Find: the directory search, "who is responsible", an actor's page, a region's page.

Thin like resolvers: each handler turns the query string into a `proto.directory` request
and calls the directory as the person (or anonymously); the directory decides what the
caller may see — a contact person's personal data only for signed-in people unless public.
A page that shows such data (an actor's page with a member-only contact person, its
members or invitations) is personal: never stored (Cache-Control: no-store), so the
service worker does not keep it for offline reading either. The lists (search, who is
responsible, a region) show only what anyone may see, whoever asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from gateway.exports import tel_uri
from gateway.web.chart import coverage_chart
from gateway.web.page import Page, environment, page_of
from gateway.web.reading import region_news
from gateway.web.regions import region_choice
from proto import directory
from proto.errors import ErrorCode, LotseError

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
RESPONSIBLE_PER_TOPIC = 3  # on a region's page; the full list is one tap away
RESPONSIBLE_PAGE = 100  # on the page of who is responsible


def shows_personal_data(actor: directory.Actor) -> bool:
    """What an anonymous visitor would not see: a member-only contact person, members, invitations."""
    return bool(actor.members or actor.invitations
                or any(not p.public and not p.redacted for p in actor.contact_persons))


def clean(values: list[str]) -> list[str]:
    return [v.strip() for v in values if v.strip()]


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int
    checked: bool


@dataclass(frozen=True)
class FacetGroup:
    key: str  # topics, kinds, languages
    field: str  # the query parameter: topic, kind, language
    options: list[FacetOption]

    @property
    def chosen(self) -> int:
        return sum(o.checked for o in self.options)


def facet_groups(page: Page, filters: dict[str, list[str]], facets: directory.Facets | None) -> list[FacetGroup]:
    """Each filter's choices with their counts over every match: the vocabulary's order for
    topics and kinds, the most common first for languages; a choice with no match is left
    out unless it is ticked (so it can be unticked)."""
    env_filters = environment(page.lang).filters
    groups = []
    for key, field, counts, vocabulary, label in (
        ("topics", "topic", facets.topics if facets else [], directory.TOPIC_SLUGS, env_filters["topic"]),
        ("kinds", "kind", facets.kinds if facets else [], directory.ACTOR_KIND_SLUGS, env_filters["kind"]),
        ("languages", "language", facets.languages if facets else [], None, env_filters["language_name"]),
    ):
        counted = {c.value: c.count for c in counts}
        chosen = filters[key]
        order = list(vocabulary) if vocabulary else sorted(counted, key=lambda v: (-counted[v], v))
        order += [v for v in chosen if v not in order]
        groups.append(FacetGroup(key, field, [FacetOption(v, label(v), counted.get(v, 0), v in chosen)
                                              for v in order if counted.get(v) or v in chosen]))
    return groups


@router.get("/")
async def home(page: Page = Depends(page_of)) -> Response:
    choice = await region_choice(page, None, None, None, deepest="district")
    return page.render("home.html", title=page.t("home.title"), choice=choice, topics=directory.TOPICS)


@router.get("/search")
async def search(
    page: Page = Depends(page_of), q: str = "", topic: list[str] = Query([]), kind: list[str] = Query([]),
    language: list[str] = Query([]), state: str | None = None, district: str | None = None,
    municipality: str | None = None, region: str | None = None, after: str | None = None,
) -> Response:
    choice = await region_choice(page, state, district, municipality, region)
    filters = {"topics": clean(topic), "kinds": clean(kind), "languages": clean(language)}
    found = await page.attempt(page.gateway.client.directory.search_actors, lambda: directory.SearchActors(
        query=q.strip() or None, first=PAGE_SIZE, after=after or None,
        filter=directory.ActorFilter.model_validate({"region": choice.ags, **filters})))
    problem: LotseError | None = None
    result: directory.ActorConnection | None = None
    if isinstance(found, LotseError):
        if found.code != ErrorCode.INVALID_INPUT:
            raise page.problem(found)
        problem = found
    else:
        result = found
    params = [("q", q), *choice.params().items(), *[(name, v) for name, values in
              (("topic", filters["topics"]), ("kind", filters["kinds"]), ("language", filters["languages"]))
              for v in values]]
    more = None
    if result is not None and result.page_info.has_next_page and result.page_info.end_cursor:
        more = "/search?" + urlencode([*params, ("after", result.page_info.end_cursor)])
    return page.render("search.html", fragment="_search_results.html", status=400 if problem else 200,
                       title=page.t("search.title"), q=q, choice=choice, filters=filters, result=result,
                       problem=problem, more=more,
                       facet_groups=facet_groups(page, filters, result.facets if result else None))


@router.get("/responsible")
async def responsible(
    page: Page = Depends(page_of), topic: str = "", language: str = "", state: str | None = None,
    district: str | None = None, municipality: str | None = None, region: str | None = None,
) -> Response:
    choice = await region_choice(page, state, district, municipality, region)
    answer, problem = None, None
    if topic and choice.ags:
        # The first hundred, most specific first, and how many there are in all.
        asked = {"topic": topic, "region": choice.ags, "languages": [language.strip()] if language.strip() else [],
                 "first": RESPONSIBLE_PAGE}
        found = await page.attempt(page.gateway.client.directory.responsible_actors,
                                   lambda: directory.ResponsibleActors.model_validate(asked))
        if isinstance(found, LotseError):
            if found.code != ErrorCode.INVALID_INPUT:
                raise page.problem(found)
            problem = found
        else:
            answer = found
    return page.render("responsible.html", fragment="_responsible_results.html", status=400 if problem else 200,
                       title=page.t("responsible.title"), topic=topic, language=language, choice=choice,
                       answer=answer, problem=problem, topics=directory.TOPICS, tel=tel_uri)


@router.get("/actors/{slug}")
async def actor_page(slug: str, page: Page = Depends(page_of)) -> Response:
    actor = await page.ask(page.gateway.client.directory.get_actor, lambda: directory.GetActor(slug=slug))
    return page.render("actor.html", title=actor.name, actor=actor, tel=tel_uri,
                       personal=shows_personal_data(actor))


@router.get("/regions")
async def states(page: Page = Depends(page_of)) -> Response:
    reply = await page.ask(page.gateway.client.directory.list_regions, lambda: directory.ListRegions())
    if len(reply.regions) == 1:
        return page.redirect(f"/regions/{reply.regions[0].ags}")
    return page.render("regions.html", title=page.t("regions.title"), regions=reply.regions)


@router.get("/regions/{ags}")
async def region_page(ags: str, page: Page = Depends(page_of)) -> Response:
    client = page.gateway.client.directory
    region, coverage, inside, (latest, upcoming) = await asyncio.gather(
        page.ask(client.get_region, lambda: directory.GetRegion(ags=ags)),
        page.ask(client.region_coverage, lambda: directory.GetRegionCoverage(region=ags)),
        page.ask(client.list_regions, lambda: directory.ListRegions(parent=ags)),
        region_news(page, ags),
    )
    covered = [t.topic for t in coverage.topics if t.actors]
    def responsible_for(topic: str) -> Callable[[], directory.ResponsibleActors]:
        return lambda: directory.ResponsibleActors.model_validate(
            {"topic": topic, "region": ags, "first": RESPONSIBLE_PER_TOPIC})

    answers = await asyncio.gather(*[page.ask(client.responsible_actors, responsible_for(t)) for t in covered])
    responsible = {topic: [edge.node for edge in answer.edges] for topic, answer in zip(covered, answers)}
    totals = {topic: answer.total_count or 0 for topic, answer in zip(covered, answers)}
    return page.render("region.html", title=region.name, region=region, coverage=coverage,
                       chart=coverage_chart(coverage), children=inside.regions, responsible=responsible,
                       totals=totals, latest=latest, upcoming=upcoming, members=page.signed_in)
