"""Query cost through the whole platform: the probe's query is refused before it reaches the
directory, an ordinary page passes, and one client's stream of near-limit queries is
throttled while others are still served."""

from __future__ import annotations

import json

import pytest
from gql.transport.exceptions import TransportQueryError

from gateway.limits import MAX_QUERY_COST, QUERY_BUDGET
from services.kernel.connection import connect
from tests.e2e.flows import confirmed_member, sign_in
from tests.support.graphql import GraphQL

NESTED = "id name regions { ags name } offerings { id name } contactPersons { name email }"
PROBE = "{ " + " ".join(
    f"a{i}: actors(first: 100) {{ totalCount edges {{ node {{ {NESTED} }} }} }}" for i in range(15)) + " }"
# Three pages of 100 with their lists: just under the per-request limit.
NEAR_LIMIT = "{ " + " ".join(
    f"p{i}: actors(first: 100) {{ edges {{ node {{ {NESTED} }} }} }}" for i in range(3)) + " }"
PAGE = f"""query($filter: ActorFilter) {{ actors(first: 20, filter: $filter) {{
  totalCount edges {{ cursor node {{ {NESTED} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
CREATE = """mutation($input: CreateActorInput!) { createActor(input: $input) { actor { id } userErrors { code } } }"""


async def searches(running) -> int:
    """How often the directory has been asked to search, by its own count (micro stats)."""
    nc = await connect(running.settings.nats_url, "cost-test")
    try:
        reply = await nc.request("$SRV.STATS.directory", b"", timeout=5)
    finally:
        await nc.close()
    stats = json.loads(reply.data)
    return sum(e["num_requests"] for e in stats["endpoints"] if e["name"] == "search_actors")


async def test_the_probes_query_is_refused_and_costs_the_directory_nothing(running, api):
    before = await searches(running)
    with pytest.raises(TransportQueryError) as refused:
        await api(PROBE)
    [error] = refused.value.errors
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert f"per-request cost limit of {MAX_QUERY_COST}" in error["message"]
    assert "estimated cost is" in error["message"]
    assert await searches(running) == before


async def test_a_page_of_twenty_actors_with_their_lists_passes(running, api, smtp):
    username, _ = await confirmed_member(api, smtp, "cost")
    member = api.as_((await sign_in(api, username))["accessToken"])
    created = (await member(CREATE, input={"kind": "municipality", "name": "Kosten-Test",
                                           "regions": ["10041100"]}))["createActor"]
    assert created["userErrors"] == []
    before = await searches(running)
    page = (await member(PAGE, filter={"status": ["PENDING"]}))["actors"]
    assert created["actor"]["id"] in {edge["node"]["id"] for edge in page["edges"]}
    assert await searches(running) == before + 1


async def test_near_limit_queries_from_one_client_are_throttled_while_another_gets_through(running, api):
    before = await searches(running)
    answered = 0
    throttled = None
    # The budget holds about five of these; a few more may pass as it refills.
    for _ in range(QUERY_BUDGET // 15_000 + 10):
        try:
            await api(NEAR_LIMIT)
            answered += 1
        except TransportQueryError as e:
            throttled = e.errors[0]
            break
    assert throttled is not None, f"{answered} near-limit queries in a row were all answered"
    assert answered >= 1
    assert throttled["extensions"]["code"] == "RATE_LIMITED"
    assert throttled["extensions"]["retryAfter"] >= 1
    assert "query budget" in throttled["message"] and f"budget of {QUERY_BUDGET}" in throttled["message"]
    # Only the answered ones reached the directory (three searches each: three aliases).
    assert await searches(running) == before + 3 * answered

    # Someone else, from another address, is served at once.
    other = GraphQL(running.base_url, forwarded_for="203.0.113.99")
    assert "p0" in await other(NEAR_LIMIT)
