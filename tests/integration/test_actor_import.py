"""`lotse admin import-actors` and `import-regions` against a real nats-server and directory.

The CLI functions run as the operator would run them (no token), beside the service.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lotse import imports
from proto import directory as api
from proto.common import Caller
from services.directory.regions import SHIPPED
from services.kernel.clock import Clock
from tests.support.platform import platform_settings, running_platform
from tests.support.tokens import TestIssuer

EXAMPLE = SHIPPED.with_name("actors-example.csv")


@pytest.fixture(scope="module")
async def platform(nats_url, tmp_path_factory):
    clock = Clock()
    settings = platform_settings(nats_url, tmp_path_factory.mktemp("import"), None)
    async with running_platform(settings, clock, services=["directory"]) as (running, client):
        issuer = TestIssuer(clock)
        await issuer.publish(client.nc.jetstream())
        yield settings, running.services["directory"], client, issuer


async def run(settings, path: Path, *, commit: bool) -> tuple[bool, list[str]]:
    lines: list[str] = []
    ok = await imports.import_actors(settings, path, commit=commit, out=lines.append)
    return ok, lines


async def events(service) -> int:
    return (await service.js.stream_info("DIRECTORY")).state.messages


async def approved(client) -> dict[str, api.Actor]:
    page = await client.directory.search_actors(api.SearchActors(first=100))
    return {edge.node.slug: edge.node for edge in page.edges}


async def test_a_file_with_one_bad_row_writes_nothing_even_with_commit(platform, tmp_path):
    settings, service, client, _ = platform
    lines = EXAMPLE.read_text("utf-8").splitlines()
    bad = lines[:4] + [lines[4].replace("10045114", "10099999")] + lines[5:]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    before = await events(service)
    for commit in (False, True):
        ok, report = await run(settings, path, commit=commit)
        assert not ok
        assert "line 5: NOT OK" in report
        assert "    regions: “10099999” is not a known region key (AGS)" in report
        assert report[-1] == "5 rows, 1 with problems: nothing was written."
    assert await events(service) == before


async def test_a_clean_file_is_checked_then_written_once_approved_and_unowned(platform):
    settings, service, client, _ = platform
    before = await events(service)
    ok, report = await run(settings, EXAMPLE, commit=False)
    assert ok and report[0] == "line 4: ok, migrationsberatung-dillingen would be created"
    assert await events(service) == before

    ok, report = await run(settings, EXAMPLE, commit=True)
    assert ok and report[-1] == "5 rows: 5 actors created, 0 already there."
    assert await events(service) == before + 5  # one event per actor: created and approved at once
    found = await approved(client)
    dillingen = found["migrationsberatung-dillingen"]
    assert dillingen.status == "approved" and dillingen.members == []
    assert [r.ags for r in dillingen.regions] == ["10044111", "10044"]
    assert {"sprachtreff-homburg", "wohnungsbaugenossenschaft-bliestal-eg"} <= set(found)

    ok, report = await run(settings, EXAMPLE, commit=True)
    assert ok and report[-1] == "5 rows: 0 actors created, 5 already there."
    assert await events(service) == before + 5
    assert len(await approved(client)) == len(found)


async def test_two_runs_of_one_import_at_the_same_time_write_each_row_once(platform, tmp_path):
    """Both runs claim the same slugs (each row's actor id is made from the row) and append
    side by side; wherever both append the same actor, the later loses on its expected
    sequence and finds the first one's event instead."""
    settings, service, client, _ = platform
    lines = EXAMPLE.read_text("utf-8").splitlines()
    rows = ["Zwilling " + line for line in lines[3:]]  # new names: none of these is in the directory yet
    path = tmp_path / "twins.csv"
    path.write_text("\n".join(lines[:3] + rows) + "\n", encoding="utf-8")
    before = await events(service)
    (ok_a, report_a), (ok_b, report_b) = await asyncio.gather(run(settings, path, commit=True),
                                                              run(settings, path, commit=True))
    assert ok_a and ok_b, (report_a, report_b)
    assert await events(service) == before + len(rows)  # one event per row, whoever wrote it
    found = await approved(client)
    assert "zwilling-migrationsberatung-dillingen" in found
    ok, report = await run(settings, path, commit=True)
    assert ok and report[-1] == f"{len(rows)} rows: 0 actors created, {len(rows)} already there."


async def test_a_name_held_by_another_actor_is_a_problem(platform, tmp_path):
    settings, _, client, _ = platform
    path = tmp_path / "taken.csv"
    path.write_text("name,kind,regions\nSprachtreff Homburg,other,10\n", encoding="utf-8")
    ok, report = await run(settings, path, commit=True)
    assert not ok
    assert report[1].startswith(
        "    name: “Sprachtreff Homburg” is in the directory already (/actors/sprachtreff-homburg)"
    )


async def test_an_admin_invites_the_first_owner_of_an_imported_actor(platform):
    settings, _, client, issuer = platform
    await run(settings, EXAMPLE, commit=True)
    actor = (await approved(client))["sprachtreff-homburg"]
    admin = Caller(token=issuer.token("admin-1", "admin"))
    invitation = await client.directory.invite_member(
        api.InviteMember(actor_id=actor.id, email="leitung@sprachtreff-homburg.example", role="owner"), admin)
    assert (invitation.role, invitation.invited_by) == ("owner", "admin-1")


async def test_regions_are_imported_one_state_at_a_time_and_only_once(platform, tmp_path):
    settings, _, client, _ = platform
    path = tmp_path / "regions.csv"
    path.write_text(
        "# two states in one file\nags,name,level,parent_ags\n"
        "07,Rheinland-Pfalz,state,\n07335,Landkreis Kaiserslautern,district,07\n"
        "10046,Landkreis St. Wendel,district,10\n", encoding="utf-8")
    lines: list[str] = []
    await imports.import_regions(settings, path, out=lines.append)
    assert lines == ["state 07: 2 created, 0 renamed, 0 unchanged", "state 10: 0 created, 0 renamed, 1 unchanged"]
    lines.clear()
    await imports.import_regions(settings, path, out=lines.append)
    assert lines[0] == "state 07: 0 created, 0 renamed, 2 unchanged"
    district = await client.directory.get_region(api.GetRegion(ags="07335"))
    assert [r.ags for r in district.path] == ["07"]
