"""A selection set made only of plain fields, read in one call (issue 16).

`schema/plain_fields.py` reads a plain field without graphql-core's per-field machinery, but each
object still goes through `complete_value`, `collect_subfields` and `execute_fields`, and each
list item through `complete_list_item_value`. Most of the billing page is objects whose whole
selection is plain: an invoice connection, its 20 edges, their invoices and their amounts. For
such a selection a reader is planned once per request (per selection, like graphql-core's own
memo of collected subfields) and then answers each object by reading attributes and coercing
scalars, nested objects and lists included.

A reader answers `Undefined` as soon as anything is unusual (a null for a non-null field, a
value a scalar refuses, a missing attribute, an awaitable, an Exception as a value, something
other than a list or tuple for a list): the caller then completes that object the ordinary way,
so every error, with its path and message, is graphql-core's own."""

from __future__ import annotations

from collections.abc import Callable
from keyword import iskeyword
from typing import Any, cast

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList
from strawberry.schema.schema_converter import CustomGraphQLEnumType

Reader = Callable[[Any], Any]
Coerce = Callable[[Any], Any]
Collect = Callable[[GraphQLObjectType, FieldDetailsList], CollectedFields]
IsAwaitable = Callable[[Any], bool]

_LEAF, _OBJECT, _LIST, _TYPENAME = range(4)

# parent type name -> field name -> (attribute, type or item type, nullable or items nullable,
# type or list nullable), as schema/plain_fields.py tabulates them
Tables = tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]


def plan_reader(
    object_type: GraphQLObjectType,
    field_details_list: FieldDetailsList,
    collect: Collect,
    is_awaitable: IsAwaitable,
    tables: Tables,
) -> Reader | None:
    """The reader of `object_type` for this selection, or None when a field of it (or of an
    object or list under it) is not plain: a resolver, an argument, a deferred fragment."""
    leaves, objects, lists = tables
    collected = collect(object_type, field_details_list)
    if collected.new_defer_usages or collected.forbidden_directive_instances:
        return None
    type_name = object_type.name
    leaves_here = leaves.get(type_name, {})
    objects_here = objects.get(type_name, {})
    lists_here = lists.get(type_name, {})
    steps: list[tuple[int, str, str, Any, bool]] = []
    for response_name, sub_fields in collected.grouped_field_set.items():
        first = sub_fields[0]
        node = first.node
        if node.arguments or first.fragment_variable_values is not None:
            return None
        name = node.name.value
        if name == "__typename":
            steps.append((_TYPENAME, response_name, "", type_name, False))
        elif (leaf := leaves_here.get(name)) is not None:
            attribute, leaf_type, nullable, _ = leaf
            steps.append((_LEAF, response_name, attribute, output_coercer(leaf_type), nullable))
        elif (plain := objects_here.get(name)) is not None:
            attribute, inner, nullable, _ = plain
            reader = plan_reader(inner, sub_fields, collect, is_awaitable, tables)
            if reader is None:
                return None
            steps.append((_OBJECT, response_name, attribute, (reader, is_awaitable), nullable))
        elif (plain_list := lists_here.get(name)) is not None:
            attribute, item_type, items_nullable, nullable = plain_list
            if isinstance(item_type, GraphQLObjectType):
                reader = plan_reader(item_type, sub_fields, collect, is_awaitable, tables)
                if reader is None:
                    return None
                how: Any = (_object_answer(reader, is_awaitable), items_nullable)
                steps.append((_LIST, response_name, attribute, how, nullable))
            else:
                how = (_leaf_answer(output_coercer(item_type)), items_nullable)
                steps.append((_LIST, response_name, attribute, how, nullable))
        else:
            return None
    return _reader(steps)


def _reader(steps: list[tuple[int, str, str, Any, bool]]) -> Reader:
    """`read(source)` for `steps`, written out as Python source compiled once per plan: one
    attribute read and one check per field, and a string, an integer or a boolean that its
    scalar would answer unchanged taken as it is, without the call."""
    lines = ["def read(source):", "    result = {}"]
    namespace: dict[str, Any] = {"Undefined": Undefined, "_leaf": _leaf, "_list": _list}
    for number, (kind, response_name, attribute, how, nullable) in enumerate(steps):
        key = repr(response_name)
        if kind == _TYPENAME:
            lines.append(f"    result[{key}] = {how!r}")
            continue
        plain_name = attribute.isidentifier() and not iskeyword(attribute)
        read = f"source.{attribute}" if plain_name else f"getattr(source, {attribute!r})"
        lines += [
            "    try:",
            f"        value = {read}",
            "    except Exception:",
            "        return Undefined",
            "    if value is None:",
            f"        result[{key}] = None" if nullable else "        return Undefined",
        ]
        if kind == _LEAF and (unchanged := _UNCHANGED.get(how)) is not None:
            lines.append(f"    elif {unchanged}:")
            lines.append(f"        result[{key}] = value")
        lines += [
            "    else:",
            "        if isinstance(value, Exception):",  # graphql-core raises it as the error
            "            return Undefined",
        ]
        if kind == _LEAF:
            namespace[f"coerce_{number}"] = how
            lines.append(f"        value = _leaf(coerce_{number}, value)")
        elif kind == _OBJECT:
            read, awaitable = f"read_{number}", f"is_awaitable_{number}"
            namespace[read], namespace[awaitable] = how
            lines.append(f"        value = Undefined if {awaitable}(value) else {read}(value)")
        else:
            namespace[f"answer_{number}"] = how[0]
            lines.append(f"        value = _list(answer_{number}, {how[1]!r}, value)")
        lines += [
            "        if value is Undefined:",
            "            return Undefined",
            f"        result[{key}] = value",
        ]
    lines.append("    return result")
    exec("\n".join(lines), namespace)  # source made above from the schema's own names
    return cast(Reader, namespace["read"])


def unchanged_test(coerce: Coerce, variable: str) -> str | None:
    """The test, written out on `variable`, under which `coerce` answers a value unchanged;
    None when it is not known."""
    test = _UNCHANGED.get(coerce)
    return None if test is None else test.replace("value", variable)


# What graphql-core's scalars answer unchanged (their `serialize`), tested on `value`.
_UNCHANGED: dict[Any, str] = {
    GraphQLString.coerce_output_value: "type(value) is str",
    GraphQLID.coerce_output_value: "type(value) is str",
    GraphQLBoolean.coerce_output_value: "type(value) is bool",
    GraphQLInt.coerce_output_value: "type(value) is int and -2147483648 <= value <= 2147483647",
}


def output_coercer(leaf_type: GraphQLLeafType) -> Coerce:
    """`leaf_type.coerce_output_value`; for a Strawberry enum, its member's name found in a
    table rather than by Strawberry's search through the values (the same first match; a value
    not in the table is left to Strawberry, which refuses it)."""
    if type(leaf_type) is not CustomGraphQLEnumType:
        return leaf_type.coerce_output_value
    names: dict[Any, str] = {}
    for name, enum_value in leaf_type.values.items():
        try:
            names.setdefault(enum_value.value, name)
        except TypeError:  # an unhashable value: only Strawberry's search can find it
            return leaf_type.coerce_output_value
    members = leaf_type.wrapped_cls
    search = leaf_type.coerce_output_value

    def coerce(value: Any) -> Any:
        if isinstance(value, members):
            try:
                return names[value.value]
            except (KeyError, TypeError):
                pass
        return search(value)

    return coerce


def _leaf(coerce: Coerce, value: Any) -> Any:
    try:
        coerced = coerce(value)
    except Exception:
        return Undefined
    return Undefined if coerced is None else coerced


def _object_answer(reader: Reader, is_awaitable: IsAwaitable) -> Reader:
    def answer(item: Any) -> Any:
        return Undefined if is_awaitable(item) else reader(item)

    return answer


def _leaf_answer(coerce: Coerce) -> Reader:
    def answer(item: Any) -> Any:
        return _leaf(coerce, item)

    return answer


def _list(answer: Reader, items_nullable: bool, value: Any) -> Any:
    """Each item's answer; Undefined as soon as one must go the ordinary way."""
    if type(value) is not list and type(value) is not tuple:
        return Undefined
    completed: list[Any] = []
    for item in value:
        if item is None:
            if not items_nullable:
                return Undefined
            completed.append(None)
            continue
        if isinstance(item, Exception):
            return Undefined
        answered = answer(item)
        if answered is Undefined:
            return Undefined
        completed.append(answered)
    return completed
