"""News: the feed, items, upcoming events and funding programmes; writing and publishing; live
publications.

Resolvers turn GraphQL input into `proto.news` requests and call the news service as the
caller; the service decides everything (who may, what is valid). Partial updates work as
the directory's: a field left out stays, an explicit `null` empties it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types.unset import UNSET

from gateway.context import GatewayContext, GatewayInfo
from gateway.languages import of_request
from gateway.news_live import PublicationFilter, PublicationHub
from gateway.schema.directory import PostalAddressInput, given, patch
from gateway.schema.directory_types import query_request
from gateway.schema.errors import UserError, ask, attempt, graphql_error
from gateway.schema.news_types import (
    EventOccurrenceConnection, NewsItem, NewsItemConnection, NewsKind, NewsPublication, NewsStatus, NewsVisibility,
)
from proto import directory, news as contract
from proto.directory import Directory
from proto.errors import ErrorCode, Invalid, LotseError
from proto.news import News


def languages(info: GatewayInfo, lang: str | None) -> tuple[str, ...]:
    return of_request(lang, info.context.request)


# ---- inputs ----------------------------------------------------------------------------------


@strawberry.input(description="Which items: within one field any value matches, across fields all must.")
class NewsFilter:
    kinds: list[NewsKind] | None = None
    topics: list[str] | None = strawberry.field(default=None, description="Topic slugs (see `topics`).")
    regions: list[str] | None = strawberry.field(
        default=None, description="Region keys (AGS): items for them, for a region around them (state- and "
                                  "district-wide items) or inside them.")
    actors: list[strawberry.ID] | None = None
    languages: list[str] | None = strawberry.field(default=None, description="Items available in any of them.")
    from_: datetime | None = strawberry.field(default=None, name="from", description="Published at or after.")
    to: datetime | None = strawberry.field(default=None, description="Published before.")
    status: list[NewsStatus] | None = strawberry.field(
        default=None, description="Default PUBLISHED. The actor's editors also see its drafts, scheduled and "
                                  "withdrawn items; admins everything.")


@strawberry.input
class NewsImageInput:
    url: str = strawberry.field(description="An https:// address.")
    alt: str = strawberry.field(description="What the picture shows, for people who cannot see it.")


@strawberry.input(description="The item's words in another language.")
class NewsTranslationInput:
    language: str
    title: str
    summary: str | None = None
    body: str | None = strawberry.field(default=None, description="Markdown.")


@strawberry.input(description="One occurrence of a repeating event, cancelled or moved.")
class OccurrenceChangeInput:
    occurrence: datetime = strawberry.field(description="Its start as the rule gives it (local time).")
    cancelled: bool | None = None
    starts_at: datetime | None = strawberry.field(default=None, description="Moved: the new start.")
    ends_at: datetime | None = None


@strawberry.input(description="When and where. Local times in `timeZone` (an offset given is converted).")
class NewsEventInput:
    starts_at: datetime
    ends_at: datetime = strawberry.field(description="All-day events: the last day.")
    all_day: bool | None = None
    time_zone: str | None = strawberry.field(default=None, description="Default Europe/Berlin.")
    recurrence: str | None = strawberry.field(
        default=None, description="An RRULE with UNTIL or COUNT (at most 500 occurrences within two years), "
                                  "e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20260630.")
    changed_occurrences: list[OccurrenceChangeInput] | None = None
    place_name: str | None = None
    address: PostalAddressInput | None = None
    online_url: str | None = None
    organiser: str | None = None
    registration_url: str | None = None
    registration_on_lotse: bool | None = None
    cancelled: bool | None = None


@strawberry.input(description="Who funds what, how much, until when, for whom. Amounts in whole euros.")
class NewsFundingInput:
    funder: str
    amount_min: int | None = None
    amount_max: int | None = None
    budget: int | None = None
    deadline: str | None = strawberry.field(default=None, description="The last day to apply (YYYY-MM-DD).")
    rolling: bool | None = strawberry.field(default=None, description="Applications any time (no deadline).")
    eligible_applicants: list[str] | None = strawberry.field(default=None, description="Actor-kind slugs.")


@strawberry.input(description="A draft for an actor the caller is an owner or editor of.")
class CreateNewsItemInput:
    actor_id: strawberry.ID
    kind: NewsKind
    title: str
    summary: str | None = None
    body: str | None = strawberry.field(default=None, description="Markdown, at most 20,000 characters.")
    language: str | None = strawberry.field(default=None, description="ISO 639-1; default de.")
    topics: list[str] | None = None
    regions: list[str] = strawberry.field(description="Region keys (AGS); at least one.")
    link: str | None = None
    tags: list[str] | None = None
    image: NewsImageInput | None = None
    visibility: NewsVisibility | None = None
    translations: list[NewsTranslationInput] | None = None
    event: NewsEventInput | None = strawberry.field(default=None, description="Events only, and required there.")
    funding: NewsFundingInput | None = strawberry.field(
        default=None, description="Funding programmes only, and required there.")


@strawberry.input(description="Change an item. Omitted fields stay; `null` empties a field.")
class UpdateNewsItemInput:
    item_id: strawberry.ID
    expected_version: int = strawberry.field(description="The `version` you loaded; CONFLICT when it changed since.")
    title: str | None = UNSET
    summary: str | None = UNSET
    body: str | None = UNSET
    language: str | None = UNSET
    topics: list[str] | None = UNSET
    regions: list[str] | None = UNSET
    link: str | None = UNSET
    tags: list[str] | None = UNSET
    image: NewsImageInput | None = UNSET
    visibility: NewsVisibility | None = UNSET
    translations: list[NewsTranslationInput] | None = UNSET
    event: NewsEventInput | None = UNSET
    funding: NewsFundingInput | None = UNSET


@strawberry.input
class PublishNewsItemInput:
    item_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class ScheduleNewsItemInput:
    item_id: strawberry.ID
    publish_at: datetime | None = strawberry.field(
        description="When to publish, with its offset; null takes the schedule back.")
    expected_version: int | None = None


@strawberry.input
class WithdrawNewsItemInput:
    item_id: strawberry.ID
    reason: str | None = strawberry.field(
        default=None, description="Required from administrators; mailed to the actor's owners.")


@strawberry.type
class NewsItemPayload:
    item: NewsItem | None = strawberry.field(description="The item after the change; null with userErrors.")
    user_errors: list[UserError]


@strawberry.type
class CreateNewsItemPayload(NewsItemPayload):
    pass


@strawberry.type
class UpdateNewsItemPayload(NewsItemPayload):
    pass


@strawberry.type
class PublishNewsItemPayload(NewsItemPayload):
    pass


@strawberry.type
class ScheduleNewsItemPayload(NewsItemPayload):
    pass


@strawberry.type
class WithdrawNewsItemPayload(NewsItemPayload):
    pass


ITEM_CLEARABLE = ("link", "image", "event", "funding")
KEYS = ("item_id", "expected_version")


def _filter(f: NewsFilter | None) -> dict[str, Any]:
    return given(f) if f is not None else {}


def item_of(reply: contract.NewsItem | None) -> NewsItem | None:
    return NewsItem.of(reply) if reply is not None else None


# ---- queries ---------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(description="Items, newest first. `query`: German-aware full text (umlauts and ß folded, "
                                  "parts of compounds) in every language version. `lang`: the language to read "
                                  "in (default: Accept-Language), falling back to each item's original.")
    async def news_feed(self, info: GatewayInfo, filter: NewsFilter | None = None, query: str | None = None,
                        first: int = 20, after: str | None = None, lang: str | None = None) -> NewsItemConnection:
        codes = languages(info, lang)
        request = query_request(lambda: contract.GetNewsFeed.model_validate(
            {"filter": _filter(filter), "query": query, "first": first, "after": after, "lang": list(codes)}))
        return NewsItemConnection.of(await ask(info, request, News.news_feed), codes)

    @strawberry.field(description="One item; null when there is none the caller may see.")
    async def news_item(self, info: GatewayInfo, id: strawberry.ID, lang: str | None = None) -> NewsItem | None:
        codes = languages(info, lang)
        query_request(lambda: contract.GetNewsItem(id=str(id), lang=list(codes)))
        found = await ask_or_none(info, contract.GetNewsItem(id=str(id), lang=list(codes)))
        return NewsItem.of(found, codes) if found is not None else None

    @strawberry.field(description="Event occurrences by start (repeating events expanded, cancelled ones marked) "
                                  "that end after `from` (default now) and start before `to`; `region` includes "
                                  "the state- and district-wide events that cover it.")
    async def upcoming_events(self, info: GatewayInfo, region: str | None = None,
                              from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
                              to: datetime | None = None, first: int = 20, after: str | None = None,
                              topics: list[str] | None = None, lang: str | None = None) -> EventOccurrenceConnection:
        codes = languages(info, lang)
        request = query_request(lambda: contract.GetUpcomingEvents(
            region=region, from_=from_, to=to, first=first, after=after, topics=topics or [], lang=list(codes)))
        return EventOccurrenceConnection.of(await ask(info, request, News.upcoming_events), codes)

    @strawberry.field(description="Funding programmes: open ones first by deadline (rolling ones after them), "
                                  "then closed ones.")
    async def funding_programmes(self, info: GatewayInfo, filter: NewsFilter | None = None, first: int = 20,
                                 after: str | None = None, lang: str | None = None) -> NewsItemConnection:
        codes = languages(info, lang)
        request = query_request(lambda: contract.GetFundingProgrammes.model_validate(
            {"filter": _filter(filter), "first": first, "after": after, "lang": list(codes)}))
        return NewsItemConnection.of(await ask(info, request, News.funding_programmes), codes)


async def ask_or_none(info: GatewayInfo, request: contract.GetNewsItem) -> contract.NewsItem | None:
    try:
        return await info.context.gateway.client.news.get_item(request, info.context.caller)
    except LotseError as e:
        if e.code == ErrorCode.NOT_FOUND:
            return None
        raise graphql_error(e) from None


# ---- mutations -------------------------------------------------------------------------------


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Owners and editors: write a draft for the actor.")
    async def create_news_item(self, info: GatewayInfo, input: CreateNewsItemInput) -> CreateNewsItemPayload:
        outcome = await attempt(info, lambda: contract.CreateNewsItem.model_validate(given(input)), News.create_item)
        return CreateNewsItemPayload(item=item_of(outcome.reply), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors: change an item; published items keep their history.")
    async def update_news_item(self, info: GatewayInfo, input: UpdateNewsItemInput) -> UpdateNewsItemPayload:
        outcome = await attempt(info, lambda: contract.UpdateNewsItem.model_validate(patch(
            input, clearable=ITEM_CLEARABLE,
            empty={"summary": "", "body": "", "topics": [], "regions": [], "tags": [], "translations": []},
            keys=KEYS)), News.update_item)
        return UpdateNewsItemPayload(item=item_of(outcome.reply), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors of an approved actor: publish now.")
    async def publish_news_item(self, info: GatewayInfo, input: PublishNewsItemInput) -> PublishNewsItemPayload:
        outcome = await attempt(info, lambda: contract.PublishNewsItem.model_validate(given(input)),
                                News.publish_item)
        return PublishNewsItemPayload(item=item_of(outcome.reply), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Owners and editors of an approved actor: publish at a later time "
                                     "(the platform publishes it then, once); `publishAt: null` takes it back.")
    async def schedule_news_item(self, info: GatewayInfo, input: ScheduleNewsItemInput) -> ScheduleNewsItemPayload:
        outcome = await attempt(info, lambda: contract.ScheduleNewsItem(
            item_id=str(input.item_id), publish_at=input.publish_at, expected_version=input.expected_version),
            News.schedule_item)
        return ScheduleNewsItemPayload(item=item_of(outcome.reply), user_errors=outcome.user_errors)

    @strawberry.mutation(description="Withdraw an item: the actor's editors, or an administrator with a reason "
                                     "(mailed to the actor's owners). Gone from feeds, search and calendars at once.")
    async def withdraw_news_item(self, info: GatewayInfo, input: WithdrawNewsItemInput) -> WithdrawNewsItemPayload:
        outcome = await attempt(info, lambda: contract.WithdrawNewsItem.model_validate(given(input)),
                                News.withdraw_item)
        return WithdrawNewsItemPayload(item=item_of(outcome.reply), user_errors=outcome.user_errors)


# ---- subscriptions ---------------------------------------------------------------------------


async def _publication_filter(info: GatewayInfo, f: NewsFilter | None) -> PublicationFilter:
    checked = query_request(lambda: contract.GetNewsFeed.model_validate({"filter": _filter(f)})).filter
    for topic in checked.topics:
        if topic not in directory.TOPIC_SLUGS:
            raise graphql_error(Invalid(f"“{topic}” is not a topic of the vocabulary (see `topics`)",
                                        "filter.topics"))
    for ags in checked.regions:
        try:
            await ask(info, query_request(lambda: directory.GetRegion(ags=ags)), Directory.get_region)
        except GraphQLError as e:
            if (e.extensions or {}).get("code") != ErrorCode.NOT_FOUND.value:
                raise
            raise graphql_error(Invalid(f"“{ags}” is not a known region key (AGS)", "filter.regions")) from None
    return PublicationFilter(kinds=frozenset(checked.kinds), topics=frozenset(checked.topics),
                             regions=frozenset(checked.regions), actors=frozenset(checked.actors),
                             languages=frozenset(checked.languages), signed_in=info.context.token is not None)


async def publications(context: GatewayContext, hub: PublicationHub, publication_filter: PublicationFilter,
                       lang: tuple[str, ...]) -> AsyncGenerator[NewsPublication, None]:
    async with hub.listen(publication_filter) as listener:
        async for publication in listener:
            if publication_filter.signed_in:
                # As `viewerUpdated`: a signed-in subscription lives as long as its token.
                try:
                    context.principal()
                except LotseError as e:
                    raise graphql_error(e) from None
            yield NewsPublication.of(publication, lang)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each item published from now on that matches `filter` (scheduled items at their time), once. "
                    "Anonymous subscribers hear of public items; signed-in ones also of members-only items.")
    async def news_published(self, info: GatewayInfo, filter: NewsFilter | None = None,
                             lang: str | None = None) -> AsyncGenerator[NewsPublication, None]:
        context = info.context
        try:
            if context.token is not None:
                context.principal()
            hub = context.gateway.publications
        except LotseError as e:
            raise graphql_error(e) from None
        publication_filter = await _publication_filter(info, filter)
        return publications(context, hub, publication_filter, languages(info, lang))
