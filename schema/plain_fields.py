"""A faster way through graphql-core for the schema's plain leaf fields.

Most fields of an answer (about 250 of the billing page's 340) are attributes of a Strawberry
type holding a scalar or an enum: no resolver, no permission, no argument. graphql-core still
builds a resolve info for each, calls Strawberry's basic resolver, checks it for an awaitable and
completes it through `complete_value`. Here such a field reads the attribute and coerces it
itself. Anything unusual (a null for a non-null field, a value the scalar refuses, an attribute
missing, a schema extension that wraps resolvers) goes the ordinary way, so errors and their
paths are graphql-core's own."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# parent type name -> field name -> (attribute, leaf type, nullable)
PlainLeaves = dict[str, dict[str, tuple[str, GraphQLLeafType, bool]]]


def plain_leaves(schema: GraphQLSchema) -> PlainLeaves:
    """The fields Strawberry resolves by reading an attribute, whose type is a scalar or an
    enum, and that take no arguments."""
    found: PlainLeaves = {}
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(definition, StrawberryField) or field.args:
                continue
            if not getattr(field.resolve, "_is_default", False):
                continue  # a resolver, a permission or an extension: the ordinary way
            nullable = not isinstance(field.type, GraphQLNonNull)
            leaf = field.type if nullable else field.type.of_type
            if is_leaf_type(leaf):
                found.setdefault(name, {})[field_name] = (definition.python_name, leaf, nullable)
    return found


class PlainLeavesExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain leaf fields read directly."""

    leaves: PlainLeaves = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # A schema extension with a `resolve` hook must see every field: then no shortcut.
        self.shortcut = manager is None or manager.get_field_resolver(_probe) is _probe

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self.shortcut:
            node = field_details_list[0].node
            plain = self.leaves.get(parent_type.name, _NONE).get(node.name.value)
            if plain is not None and not node.arguments:
                value = _coerced(source, *plain)
                if value is not Undefined:
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


_NONE: dict[str, tuple[str, GraphQLLeafType, bool]] = {}


def _coerced(source: Any, attribute: str, leaf: GraphQLLeafType, nullable: bool) -> Any:
    """The completed value, or Undefined when the ordinary way must decide (and report)."""
    try:
        value = getattr(source, attribute)
        if value is None:
            return None if nullable else Undefined
        if isinstance(value, Exception):  # graphql-core raises it as the field's error
            return Undefined
        coerced = leaf.coerce_output_value(value)
    except Exception:
        return Undefined
    return Undefined if coerced is None else coerced


def _probe(*_: Any, **__: Any) -> None:
    return None
