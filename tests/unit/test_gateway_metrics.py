"""GraphQL errors are counted by what the client got: the platform's code, a validation
failure of the document, or INTERNAL for a resolver's bug (strawberry reports every error as
a pre-execution error too, which once counted them all as validation failures)."""

from __future__ import annotations

from prometheus_client import generate_latest

from tests.support.gateway import FakeIdentity, app_with, http

PROBE = "{ " + " ".join(f"a{i}: actors(first: 100) {{ edges {{ node {{ id offerings {{ regions {{ ags }} }} }} }} }}"
                        for i in range(15)) + " }"


def errors_counted(app) -> dict[str, float]:
    counted = {}
    for line in generate_latest(app.state.gateway.metrics.registry).decode().splitlines():
        if line.startswith("lotse_gateway_graphql_errors_total{"):
            code = line.split('code="', 1)[1].split('"', 1)[0]
            counted[code] = float(line.rsplit(" ", 1)[1])
    return counted


async def test_each_kind_of_error_is_counted_under_its_own_code():
    # The fake has no reply for `viewer`: the resolver fails like a bug would.
    app = app_with(FakeIdentity())
    async with http(app) as client:
        await client.post("/graphql", json={"query": PROBE})  # refused by cost: INVALID_INPUT
        await client.post("/graphql", json={"query": "{ noSuchField }"})
        await client.post("/graphql", json={"query": "{ viewer { id } }"}, headers={"authorization": "Bearer t"})
    assert errors_counted(app) == {"INVALID_INPUT": 1.0, "GRAPHQL_VALIDATION_FAILED": 1.0, "INTERNAL": 1.0}
