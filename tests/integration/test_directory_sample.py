"""The `lotse dev` sample directory: loaded through the services, complete, and loaded once."""

from __future__ import annotations

import pytest

from proto import directory as api
from services.directory import sample as directory_sample
from services.directory import views
from services.directory.sample import sample_actors
from services.identity import sample as identity_sample
from services.kernel.clock import Clock
from tests.support.platform import platform_settings, running_platform

ACTORS = sample_actors()
ST_WENDEL = "10046117"


@pytest.fixture(scope="module")
async def loaded(nats_url, tmp_path_factory):
    settings = platform_settings(nats_url, tmp_path_factory.mktemp("sample"), None)
    async with running_platform(settings, Clock(), services=["identity", "directory"]) as (platform, client):
        account_ids = await identity_sample.load(platform.services["identity"])
        await directory_sample.load(platform.services["directory"], account_ids)
        yield platform, client, account_ids


async def every_actor(client) -> list[api.Actor]:
    found, after = [], None
    while True:
        page = await client.directory.search_actors(api.SearchActors(first=100, after=after))
        found += [edge.node for edge in page.edges]
        if not page.page_info.has_next_page:
            return found
        after = page.page_info.end_cursor


async def test_every_sample_actor_is_approved_and_every_kind_is_there(loaded):
    _, client, _ = loaded
    actors = await every_actor(client)
    assert len(actors) == len(ACTORS) >= 36
    assert {a.kind for a in actors} == set(api.ACTOR_KIND_SLUGS)
    assert all(a.status == "approved" for a in actors)
    assert sum(len(a.offerings) for a in actors) == sum(len(s["offerings"]) for s in ACTORS) > 20
    people = [p for a in actors for p in a.contact_persons]
    assert len(people) == sum(len(s["contacts"]) for s in ACTORS)
    # Anonymous callers see the public people by name, the others redacted.
    assert any(p.public and p.name for p in people) and any(p.redacted and p.name is None for p in people)


async def test_the_sample_members_own_the_actors(loaded):
    platform, _, account_ids = loaded
    directory = platform.services["directory"]
    owned = {account: len(await views.actor_ids_of_member(directory.db, account))
             for account in account_ids}
    assert owned[account_ids[0]] == 0  # the admin approves, owns nothing
    assert sum(owned.values()) == len(ACTORS) and all(owned[a] > 0 for a in account_ids[1:])


async def test_search_responsibility_and_a_coverage_gap_show_real_answers(loaded):
    _, client, _ = loaded
    found = await client.directory.search_actors(api.SearchActors(query="Anerkennung Pflege"))
    assert found.edges[0].node.slug == "servicestelle-berufsanerkennung-saar"
    responsible = await client.directory.responsible_actors(
        api.ResponsibleActors(topic="housing", region="10041100"))
    vias = [edge.node.served_via.level for edge in responsible.edges]
    assert vias[0] == "municipality" and "district" in vias and vias == sorted(
        vias, key=["municipality", "district", "state"].index)
    coverage = await client.directory.region_coverage(api.GetRegionCoverage(region=ST_WENDEL))
    assert {"childcare", "psychosocial-support"} <= set(coverage.uncovered)
    assert "interpreting" not in coverage.uncovered  # the statewide pool serves it


async def test_a_second_load_adds_nothing(loaded):
    platform, client, account_ids = loaded
    directory = platform.services["directory"]
    before = (await directory.js.stream_info("DIRECTORY")).state.messages
    await directory_sample.load(directory, account_ids)
    assert (await directory.js.stream_info("DIRECTORY")).state.messages == before
    assert len(await every_actor(client)) == len(ACTORS)
