"""DataLoaders, one set per GraphQL operation: by-id lookups batched into one service call.

A loader caches what it loaded, and it loads as one caller (the batch is sent with that
caller's token), so its life must be exactly one operation. The HTTP context lives for one
request, but a WebSocket context lives for the whole connection and may run several
operations at once; so the set lives in a context variable that `PerOperationLoaders`
sets when an operation starts. Every resolver of that operation runs in (a copy of) the
operation's context and finds the same set.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextvars import ContextVar
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension
from gateway.context import GatewayInfo

from proto import directory, identity, news
from proto.common import Caller
from proto.errors import LotseError
from services.kernel.logging import get_logger

log = get_logger("gateway.loaders")

_loaders: ContextVar[dict[str, DataLoader[Any, Any]] | None] = ContextVar("gateway_loaders", default=None)

ACTORS_PER_CALL = 200  # proto.directory.GetActors' limit
PROFILES_PER_CALL = 500  # proto.identity.LookupProfiles' limit
NEWS_ITEMS_PER_CALL = 10  # proto.news.GetNewsItems' limit: items with bodies must fit one NATS message


class PerOperationLoaders(SchemaExtension):
    def on_operation(self) -> Generator[None, None, None]:
        token = _loaders.set({})
        try:
            yield
        finally:
            _loaders.reset(token)


def _loader(info: GatewayInfo, name: str, build: Callable[[GatewayInfo], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
    loaders = _loaders.get()
    if loaders is None:  # outside an operation (no extension ran): correct, just not batched
        return build(info)
    if name not in loaders:
        loaders[name] = build(info)
    return loaders[name]


def _actors(info: GatewayInfo) -> DataLoader[str, directory.Actor | None]:
    caller: Caller = info.context.caller
    gateway = info.context.gateway

    async def load(ids: list[str]) -> Sequence[directory.Actor | None]:
        reply = await gateway.client.directory.get_actors(directory.GetActors(ids=ids), caller)
        found = {actor.id: actor for actor in reply.actors}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load, max_batch_size=ACTORS_PER_CALL)


def _profiles(info: GatewayInfo) -> DataLoader[str, identity.PublicProfile | None]:
    caller: Caller = info.context.caller
    gateway = info.context.gateway

    async def load(ids: list[str]) -> Sequence[identity.PublicProfile | None]:
        try:
            reply = await gateway.client.identity.lookup_profiles(identity.LookupProfiles(ids=ids), caller)
        except LotseError as e:
            # A profile is decoration (a name beside an id): the page still works without it.
            log.warning("gateway.profiles_unavailable", code=e.code.value, error=e.message)
            return [None] * len(ids)
        found = {profile.id: profile for profile in reply.profiles}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load, max_batch_size=PROFILES_PER_CALL)


def actor_loader(info: GatewayInfo) -> DataLoader[str, directory.Actor | None]:
    """Visible actors by id (`directory.get_actors`); None for an id the caller may not see."""
    return _loader(info, "actors", _actors)


def profile_loader(info: GatewayInfo) -> DataLoader[str, identity.PublicProfile | None]:
    """Public profiles by account id (`identity.lookup_profiles`)."""
    return _loader(info, "profiles", _profiles)


def _news_items(lang: tuple[str, ...], at_least: int | None
                ) -> Callable[[GatewayInfo], DataLoader[str, news.NewsItem | None]]:
    def build(info: GatewayInfo) -> DataLoader[str, news.NewsItem | None]:
        caller: Caller = info.context.caller
        gateway = info.context.gateway

        async def load(ids: list[str]) -> Sequence[news.NewsItem | None]:
            reply = await gateway.client.news.get_items(
                news.GetNewsItems(ids=ids, lang=list(lang), at_least=at_least), caller)
            found = {item.id: item for item in reply.items}
            return [found.get(i) for i in ids]

        return DataLoader(load_fn=load, max_batch_size=NEWS_ITEMS_PER_CALL)

    return build


def news_item_loader(info: GatewayInfo, lang: tuple[str, ...],
                     at_least: int | None = None) -> DataLoader[str, news.NewsItem | None]:
    """Visible items by id with their bodies (`news.get_items`), in the languages asked for;
    `at_least`: from a view that has applied the stream up to that sequence."""
    return _loader(info, f"news:{','.join(lang)}:{at_least or 0}", _news_items(lang, at_least))
