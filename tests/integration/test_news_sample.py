"""The `lotse dev` sample news: loaded through the service after the sample directory, of every
kind, German and English, with a repeating event and a programme closing soon; loaded once."""

from __future__ import annotations

import pytest

from proto import news as api
from services.directory import sample as directory_sample
from services.identity import sample as identity_sample
from services.kernel.clock import Clock
from services.news import sample as news_sample
from tests.support.platform import platform_settings, running_platform


@pytest.fixture(scope="module")
async def loaded(nats_url, tmp_path_factory):
    settings = platform_settings(nats_url, tmp_path_factory.mktemp("sample"), None)
    async with running_platform(settings, Clock(), services=["identity", "directory", "news"]) as (
            platform, client):
        account_ids = await identity_sample.load(platform.services["identity"])
        await directory_sample.load(platform.services["directory"], account_ids)
        written = await news_sample.load(platform.services["news"], account_ids)
        yield platform, client, account_ids, written


async def everything(client) -> list[api.NewsItem]:
    found, after = [], None
    while True:
        page = await client.news.news_feed(api.GetNewsFeed(first=100, after=after))
        found += [edge.node for edge in page.edges]
        if not page.page_info.has_next_page:
            return found
        after = page.page_info.end_cursor


async def test_the_samples_cover_every_kind_and_language_and_are_loaded_once(loaded):
    platform, client, account_ids, written = loaded
    samples = news_sample.sample_items()
    assert written == len(samples) >= 30
    items = await everything(client)
    # All published but one draft, one scheduled and one members-only item.
    assert len(items) == len(samples) - 3
    assert {i.kind for i in items} == set(api.ITEM_KINDS)
    assert {i.original_language for i in items} >= {"de", "en", "uk"}
    assert sum(len(i.available_languages) > 1 for i in items) >= 5
    assert all(i.actor.name for i in items)

    events = (await client.news.upcoming_events(api.GetUpcomingEvents(first=100))).edges
    repeating = [e for e in events if e.item.event and e.item.event.recurrence]
    assert len({e.item.id for e in repeating}) >= 2 and any(e.occurrence.cancelled for e in repeating)
    assert any(e.occurrence.moved for e in repeating)
    programmes = (await client.news.funding_programmes(api.GetFundingProgrammes())).edges
    assert programmes[0].node.funding.status == "closing-soon"

    assert await news_sample.load(platform.services["news"], account_ids) == 0
    assert len(await everything(client)) == len(items)
