"""The query-cost estimate (gateway/cost.py) on the real schema, and the per-client budget."""

from __future__ import annotations

from graphql import get_introspection_query, parse, validate

from gateway.budget import QueryBudget
from gateway.cost import MAX_PAGE, UNPAGED_LIST_SIZE, estimate
from gateway.cost import expanded_fields
from gateway.limits import MAX_EXPANDED_FIELDS, MAX_QUERY_COST
from gateway.schema import schema

SCHEMA = schema._schema


def cost(document: str, **variables) -> int:
    parsed = parse(document)
    assert validate(SCHEMA, parsed) == [], "the test documents must be valid"
    return estimate(SCHEMA, parsed, None, variables)


def test_every_field_costs_one():
    assert cost("{ viewer { id username } }") == 3
    assert cost("{ topics { slug } }") == 1 + UNPAGED_LIST_SIZE * 1
    assert cost("{ __typename }") == 1


def test_aliases_count_as_fields_of_their_own():
    assert cost("{ a: viewer { id } b: viewer { id } c: viewer { id } }") == 3 * 2


def test_a_page_multiplies_the_list_it_pages():
    # actors(first: 5) → edges is the list of 5; totalCount is one field beside it.
    node = 1 + 1 + (1 + UNPAGED_LIST_SIZE * 1)  # node, id, regions { ags }
    edge = 1 + node  # cursor + node
    assert cost("{ actors(first: 5) { totalCount edges { cursor node { id regions { ags } } } } }") == (
        1 + 1 + (1 + 5 * edge)
    )


def test_without_first_the_fields_default_page_counts():
    assert cost("{ actors { edges { node { id } } } }") == 1 + (1 + 20 * 2)  # actors' default: 20
    assert cost('{ actor(id: "x") { history { entries { version } } } }') == 1 + 1 + (1 + 50 * 1)  # history: 50


def test_first_from_a_variable_or_its_default():
    document = "query($n: Int!) { actors(first: $n) { edges { node { id } } } }"
    assert cost(document, n=7) == 1 + (1 + 7 * 2)
    defaulted = "query($n: Int = 3) { actors(first: $n) { edges { node { id } } } }"
    assert cost(defaulted) == 1 + (1 + 3 * 2)
    # A variable of the wrong type is refused by execution; the estimate falls back to the default.
    assert cost(document, n="many") == 1 + (1 + 20 * 2)


def test_a_page_larger_than_any_field_accepts_counts_as_the_largest():
    # first: 1000 is refused on `first` before any service is asked; it costs no more than 100.
    assert cost("{ actors(first: 1000) { edges { node { id } } } }") == 1 + (1 + MAX_PAGE * 2)


def test_nested_lists_multiply():
    regions = 1 + UNPAGED_LIST_SIZE * 1
    offerings = 1 + UNPAGED_LIST_SIZE * regions
    node = 1 + offerings
    assert cost("{ actors(first: 10) { edges { node { offerings { regions { ags } } } } } }") == (
        1 + (1 + 10 * node)
    )


def test_fragments_are_expanded_where_they_are_spread():
    spread = """fragment Names on Actor { id name shortName }
      { actors(first: 4) { edges { node { ...Names } } } }"""
    inline = "{ actors(first: 4) { edges { node { ... on Actor { id name shortName } } } } }"
    written_out = "{ actors(first: 4) { edges { node { id name shortName } } } }"
    assert cost(spread) == cost(inline) == cost(written_out) == 1 + (1 + 4 * (1 + 3))
    # Spread twice (under two aliases): counted twice.
    twice = """fragment Names on Actor { id name }
      { a: actors(first: 4) { edges { node { ...Names } } } b: actors(first: 4) { edges { node { ...Names } } } }"""
    assert cost(twice) == 2 * (1 + (1 + 4 * (1 + 2)))


def test_a_fragment_inside_a_page_keeps_the_page():
    document = """fragment Page on ActorConnection { totalCount edges { node { id } } }
      { actors(first: 6) { ...Page } }"""
    assert cost(document) == 1 + 1 + (1 + 6 * 2)


def test_fragments_that_double_at_every_level_are_priced_without_walking_them_out():
    # 40 levels, each spreading the one below twice: 2^40 fields, if written out.
    levels = 40
    fragments = ["fragment F0 on Query { viewer { id } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    document = parse("\n".join(fragments) + f"\n{{ ...F{levels} }}")
    assert estimate(SCHEMA, document) == 2 * 2 ** levels


async def test_such_a_document_is_refused_before_validation_walks_it_out():
    levels = 40
    fragments = ["fragment F0 on Query { viewer { id } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    document = "\n".join(fragments) + f"\n{{ ...F{levels} }}"
    assert expanded_fields(parse(document)) == 2 * 2 ** levels
    result = await schema.execute(document)  # the depth limiter alone would run for days
    [error] = result.errors
    assert error.extensions == {"code": "INVALID_INPUT"}
    assert f"over the limit of {MAX_EXPANDED_FIELDS}" in error.message


def test_introspection_counts_each_field_once():
    assert cost("{ __schema { types { name fields { name } } } }") == 5
    graphiql = cost(get_introspection_query(descriptions=True, specified_by_url=True,
                                            directive_is_repeatable=True, schema_description=True,
                                            input_value_deprecation=True))
    assert graphiql < MAX_QUERY_COST // 10


def test_the_probe_query_is_over_the_limit_and_a_normal_page_is_well_under():
    nested = "id name regions { ags name } offerings { id name } contactPersons { name email }"
    probe = "{ " + " ".join(
        f"a{i}: actors(first: 100) {{ totalCount edges {{ node {{ {nested} }} }} }}" for i in range(15)) + " }"
    page = f"{{ actors(first: 20) {{ totalCount edges {{ node {{ {nested} }} }} }} }}"
    assert cost(probe) > MAX_QUERY_COST
    assert cost(page) < MAX_QUERY_COST // 10


async def test_the_refusal_happens_before_execution():
    nested = "offerings { regions { ags name level } } contactPersons { name email phone }"
    probe = "{ " + " ".join(f"a{i}: actors(first: 100) {{ edges {{ node {{ {nested} }} }} }}" for i in range(3)) + " }"
    result = await schema.execute(probe)  # no gateway in the context: a resolver would fail
    [error] = result.errors
    assert result.data is None
    assert error.extensions == {"code": "INVALID_INPUT"}
    assert f"per-request cost limit of {MAX_QUERY_COST}" in error.message
    assert str(cost(probe)) in error.message


# ---- the budget -----------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_spends_its_budget_and_waits_for_the_refill():
    clock = Clock()
    budget = QueryBudget(capacity=100, refill_per_second=10, now=clock)
    assert budget.spend("a", 60) is None
    assert budget.spend("a", 30) is None
    assert budget.spend("a", 30) == 2  # 10 left, 20 more needed at 10 a second
    assert budget.left("a") == 10  # a refusal takes nothing
    clock.now += 2
    assert budget.spend("a", 30) is None
    assert budget.left("a") == 0


def test_clients_have_budgets_of_their_own():
    clock = Clock()
    budget = QueryBudget(capacity=100, refill_per_second=10, now=clock)
    assert budget.spend("a", 100) is None
    assert budget.spend("a", 1) == 1
    assert budget.spend("b", 100) is None


def test_the_refill_stops_at_the_capacity():
    clock = Clock()
    budget = QueryBudget(capacity=100, refill_per_second=10, now=clock)
    budget.spend("a", 100)
    clock.now += 3600
    assert budget.left("a") == 100
    assert budget.spend("a", 101) is not None


def test_the_least_recently_seen_client_is_forgotten_first():
    clock = Clock()
    budget = QueryBudget(capacity=100, refill_per_second=1, now=clock, max_clients=2)
    budget.spend("a", 100)
    budget.spend("b", 100)
    budget.spend("a", 0)  # a was seen again
    budget.spend("c", 100)  # b goes
    assert budget.left("a") == 0 and budget.left("b") == 100 and budget.left("c") == 0
