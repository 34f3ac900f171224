"""What a GraphQL operation will cost, estimated from its document before anything runs.

The depth, alias and token limits bound the shape of a document but not its work: 15
aliases of `actors(first: 100)` with nested lists pass all three and make the gateway
resolve tens of thousands of fields. The estimate counts what a document can make the
gateway resolve:

- every field costs 1 (aliases are fields of their own; fragments are expanded where
  they are spread);
- a list field multiplies the cost of its selection by its size: the `first` argument of
  a paged field (given, from a variable, or the field's default), handed to the list it
  pages (`actors(first: 50) { edges … }`: 50 edges); a list without paging is assumed to
  hold UNPAGED_LIST_SIZE items;
- nesting multiplies: 20 actors × 10 offerings × their fields;
- introspection (`__schema`, `__type`) counts each field once: it is answered from the
  schema in this process, its size bounded by the schema and not by data.

It is an upper bound, not a prediction: `@skip`/`@include` are ignored, a fragment on a
type that will not match is counted, and lists are assumed full.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    value_from_ast,
)
from graphql.execution.values import VariableValues, get_variable_values

UNPAGED_LIST_SIZE = 10  # assumed length of a list without `first`: an actor's regions, offerings, members
MAX_PAGE = 100  # proto.directory.First: a larger `first` is refused (on `first`) before any service is asked
PAGE_ARGUMENT = "first"
INTROSPECTION = frozenset({"__schema", "__type"})


def estimate(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the operation `operation_name` names (or the only one) in a validated document."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    return _Walk(schema, document, operation, variables).selections(root, operation.selection_set, None)


class _Walk:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                 variables: Mapping[str, Any] | None) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        # The variables as execution will see them (defaults applied); on a mistake in them
        # execution refuses the operation, and every `first` falls back to its default here.
        coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
        self.variables: dict[str, Any] = coerced.coerced if isinstance(coerced, VariableValues) else {}
        # A fragment spread many times is walked once per (fragment, page): the walk stays
        # linear in the document even when fragments spread each other over and over.
        self.memo: dict[tuple[str, int | None], int] = {}
        self.flat_memo: dict[str, int] = {}

    def selections(self, parent: GraphQLNamedType, selection_set: SelectionSetNode, page: int | None,
                   spreading: frozenset[str] = frozenset()) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type(selection.type_condition.name.value) if selection.type_condition else parent
                total += self.selections(condition or parent, selection.selection_set, page, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, parent, page, spreading)
        return total

    def spread(self, name: str, parent: GraphQLNamedType, page: int | None, spreading: frozenset[str]) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in spreading:  # validation refuses both; never loop on them
            return 0
        key = (name, page)
        if key not in self.memo:
            condition = self._type(fragment.type_condition.name.value) or parent
            self.memo[key] = self.selections(condition, fragment.selection_set, page, spreading | {name})
        return self.memo[key]

    def field(self, parent: GraphQLNamedType, node: FieldNode, page: int | None) -> int:
        name = node.name.value
        if name in INTROSPECTION:
            return 1 + self.flat(node.selection_set) if node.selection_set else 1
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)) or name not in parent.fields:
            return 1  # __typename, or a field validation would have refused
        definition = parent.fields[name]
        if node.selection_set is None:
            return 1  # a scalar, or a list of them: values the parent already holds
        inner = get_named_type(definition.type)
        size = self.page_size(node, definition.args)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            items = size if size is not None else page if page is not None else UNPAGED_LIST_SIZE
            return 1 + items * self.selections(inner, node.selection_set, None)
        # Not a list itself (a connection): its page size belongs to the list inside it.
        return 1 + self.selections(inner, node.selection_set, size)

    def page_size(self, node: FieldNode, arguments: Mapping[str, Any]) -> int | None:
        argument = arguments.get(PAGE_ARGUMENT)
        if argument is None:
            return None
        given = next((a for a in node.arguments or () if a.name.value == PAGE_ARGUMENT), None)
        value = value_from_ast(given.value, argument.type, self.variables) if given is not None else Undefined
        if not isinstance(value, int) or isinstance(value, bool):
            value = argument.default_value if isinstance(argument.default_value, int) else UNPAGED_LIST_SIZE
        return max(0, min(value, MAX_PAGE))

    def flat(self, selection_set: SelectionSetNode, spreading: frozenset[str] = frozenset()) -> int:
        """Every field in a selection, fragments expanded, nothing multiplied (introspection)."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 1 + (self.flat(selection.selection_set, spreading) if selection.selection_set else 0)
            elif isinstance(selection, InlineFragmentNode):
                total += self.flat(selection.selection_set, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:
                    continue
                if name not in self.flat_memo:
                    self.flat_memo[name] = self.flat(fragment.selection_set, spreading | {name})
                total += self.flat_memo[name]
        return total

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name)


def expanded_fields(document: DocumentNode) -> int:
    """How many fields the document's operations hold with every fragment written out.

    Fragments that spread each other twice at every level keep a document small and its
    expansion huge (2^40 fields from 40 lines), and validation walks the expansion: the
    depth and alias limiters take seconds on a few hundred tokens. This count is memoized
    per fragment, so it is linear in the document, and it runs before validation."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo: dict[str, int] = {}

    def count(selection_set: SelectionSetNode, spreading: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 1 + (count(selection.selection_set, spreading) if selection.selection_set else 0)
            elif isinstance(selection, InlineFragmentNode):
                total += count(selection.selection_set, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in spreading:
                    if name not in memo:
                        memo[name] = count(fragments[name].selection_set, spreading | {name})
                    total += memo[name]
        return total

    return sum(count(d.selection_set, frozenset()) for d in document.definitions
               if isinstance(d, OperationDefinitionNode))
