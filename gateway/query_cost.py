"""The estimated cost of a GraphQL operation, before it runs (README "Limits").

A field costs 1, a field that reads more rows or runs a quote costs its weight below, and what is
selected under a paginated list (a field with a `first` argument) counts `first` times, with the
schema's default page size when `first` is not sent. Fragments are costed once each, so a document
that spreads fragments into each other is priced at what it would run, not at its length. The rate
limits weigh each request by this number too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from schema import schema as _schema

# Fields that do I/O or compute beyond one row: a quote, a usage gate, an invoice forecast.
FIELD_WEIGHTS = {
    "previewPlanChange": 100,
    "usageGate": 25,
    "upcomingInvoice": 25,
    "invoices": 10,
    "usage": 10,
    "usageByWorkspace": 10,
    "usageHistory": 10,
    "invoice": 5,
}
MUTATION_FIELD_WEIGHT = 10  # every root mutation field writes
DEFAULT_PAGE = 20  # when the schema gives `first` no default
# Introspection lists (types, fields, arguments) have no `first`; nesting them multiplies work.
INTROSPECTION_LIST_SIZE = 5
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


def estimated_cost(
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The cost of the operation that would run; with no single such operation, of the dearest.
    Pure: the same document and variables always cost the same. May raise RecursionError for
    fragments nested past Python's recursion limit (callers refuse the document)."""
    operations = _operations(document, operation_name)
    costing = _Costing(_schema._schema, document, variables or {})
    return max((costing.operation(operation) for operation in operations), default=0)


def cost_variables(document: DocumentNode) -> frozenset[str]:
    """The variables the cost may read: those given to a `first` argument anywhere."""
    names: set[str] = set()
    for node in _walk(document):
        if isinstance(node, FieldNode):
            for argument in node.arguments or ():
                if argument.name.value == "first" and isinstance(argument.value, VariableNode):
                    names.add(argument.value.name.value)
    return frozenset(names)


def _walk(document: DocumentNode) -> list[Any]:
    found: list[Any] = []
    pending: list[Any] = list(document.definitions)
    while pending:
        node = pending.pop()
        found.append(node)
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            pending.extend(selection_set.selections)
    return found


def _operations(
    document: DocumentNode, operation_name: str | None
) -> list[OperationDefinitionNode]:
    chosen = get_operation_ast(document, operation_name)
    if chosen is not None:
        return [chosen]
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


class _Costing:
    def __init__(
        self, graphql_schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = graphql_schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragment_costs: dict[str, int] = {}
        self.defaults: dict[str, Any] = {}

    def operation(self, operation: OperationDefinitionNode) -> int:
        self.defaults = {
            v.variable.name.value: getattr(v.default_value, "value", None)
            for v in operation.variable_definitions or ()
        }
        self.fragment_costs = {}
        root = self.schema.get_root_type(operation.operation)
        weight = MUTATION_FIELD_WEIGHT if operation.operation is OperationType.MUTATION else 0
        return self.selections(operation.selection_set, root, weight)

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        extra: int = 0,
    ) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += extra + self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, inner, extra)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        self.fragment_costs[name] = 0  # a cycle costs nothing here; validation refuses it
        definition = self.fragments.get(name)
        cost = 0
        if definition is not None:
            condition = self.schema.get_type(definition.type_condition.name.value)
            cost = self.selections(definition.selection_set, condition)
        self.fragment_costs[name] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        name = node.name.value
        fields = (
            parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        )
        definition = _META_FIELDS.get(name) or fields.get(name)
        child = get_named_type(definition.type) if definition is not None else None
        inner = self.selections(node.selection_set, child)
        if definition is not None and "first" in definition.args:
            inner *= max(1, self._first(node, definition.args["first"].default_value))
        elif parent is not None and parent.name.startswith("__"):
            # Introspection reads the schema in memory: only its lists, multiplying, cost.
            if not _is_list(definition):
                return inner
            inner *= INTROSPECTION_LIST_SIZE
        return FIELD_WEIGHTS.get(name, 1) + inner

    def _first(self, node: FieldNode, default: Any) -> int:
        fallback = (
            default if isinstance(default, int) and default is not Undefined else DEFAULT_PAGE
        )
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value: Any = None
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                key = argument.value.name.value
                value = self.variables.get(key, self.defaults.get(key))
                if isinstance(value, str) and value.lstrip("-").isdigit():
                    value = int(value)
            return value if isinstance(value, int) and not isinstance(value, bool) else fallback
        return fallback


def _is_list(definition: Any) -> bool:
    return definition is not None and is_list_type(get_nullable_type(definition.type))
