"""A faster way through graphql-core for the schema's plain fields.

Most fields of an answer (about 320 of the billing page's 340) are attributes of a Strawberry
type: no resolver, no permission, no argument. graphql-core still builds a resolve info for each,
calls Strawberry's basic resolver, checks it for an awaitable and completes it through
`complete_value`. Here a field holding a scalar or an enum reads the attribute and coerces it
itself, and one holding an object (without `is_type_of`) goes straight to its sub-fields.
Anything unusual (a null for a non-null field, a value the scalar refuses, an attribute missing,
a schema extension that wraps resolvers) goes the ordinary way, so errors and their paths are
graphql-core's own."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from graphql.pyutils import is_awaitable as default_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.answered import Answered
from schema.plain_selections import Reader, plan_reader
from schema.selection_plans import PLANS

# parent type name -> field name -> (attribute, type without its non-null, nullable, type)
PlainField = tuple[str, Any, bool, GraphQLOutputType]
PlainFields = dict[str, dict[str, PlainField]]
# parent type name -> field name -> (attribute, item type, items nullable, list nullable)
PlainList = tuple[str, Any, bool, bool]
PlainLists = dict[str, dict[str, PlainList]]


def _attribute_fields(
    schema: GraphQLSchema,
) -> Iterator[tuple[str, str, StrawberryField, Any]]:
    """(type name, field name, definition, type) of every object type's field that Strawberry
    resolves by reading an attribute and that takes no arguments; a resolver, a permission or
    an extension goes the ordinary way."""
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(definition, StrawberryField) or field.args:
                continue
            if _reads_its_attribute(definition, field.resolve):
                yield name, field_name, definition, field.type


def plain_fields(schema: GraphQLSchema) -> tuple[PlainFields, PlainFields]:
    """The attribute fields (`_attribute_fields`) whose type is a scalar or an enum, and those
    whose type is an object type without `is_type_of` (no list, union or interface)."""
    leaves: PlainFields = {}
    objects: PlainFields = {}
    for name, field_name, definition, field_type in _attribute_fields(schema):
        nullable = not isinstance(field_type, GraphQLNonNull)
        inner = field_type if nullable else field_type.of_type
        plain = (definition.python_name, inner, nullable, field_type)
        if is_leaf_type(inner):
            leaves.setdefault(name, {})[field_name] = plain
        elif isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
            objects.setdefault(name, {})[field_name] = plain
    return leaves, objects


def plain_lists(schema: GraphQLSchema) -> PlainLists:
    """The attribute fields (`_attribute_fields`) whose type is a list of scalars or enums, or
    of object types without `is_type_of`."""
    lists: PlainLists = {}
    for name, field_name, definition, field_type in _attribute_fields(schema):
        nullable = not isinstance(field_type, GraphQLNonNull)
        list_type = field_type if nullable else field_type.of_type
        if not isinstance(list_type, GraphQLList):
            continue
        items_nullable = not isinstance(list_type.of_type, GraphQLNonNull)
        item = list_type.of_type if items_nullable else list_type.of_type.of_type
        if is_leaf_type(item) or (isinstance(item, GraphQLObjectType) and item.is_type_of is None):
            plain = (definition.python_name, item, items_nullable, nullable)
            lists.setdefault(name, {})[field_name] = plain
    return lists


class PlainFieldsExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain fields read directly."""

    leaves: PlainFields = {}
    objects: PlainFields = {}
    lists: PlainLists = {}

    @classmethod
    def tabulate(cls, schema: GraphQLSchema) -> None:
        """The tables of `schema`'s plain fields, for every execution of this class."""
        cls.leaves, cls.objects = plain_fields(schema)
        cls.lists = plain_lists(schema)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _weak_helpers(self)
        manager = self.middleware_manager
        # A schema extension with a `resolve` hook must see every field: then no shortcut.
        self.shortcut = manager is None or manager.get_field_resolver(_probe) is _probe
        # As graphql-core memoizes collected subfields: by the identity of the field list,
        # kept alive with the reader so that its id is not reused during the execution.
        self._readers: dict[tuple[GraphQLObjectType, int], tuple[Any, Reader | None]] = {}

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """An object whose whole selection is plain (schema/plain_selections.py) answered by its
        reader; any other, or one its reader leaves to the ordinary way, as there."""
        if self.shortcut and position_context is None:
            reader = self._known_reader(return_type, field_details_list)
            if reader is not None:
                answer = reader(result)
                if answer is not Undefined:
                    return answer
        return super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: Any,
        path: Path,
        items: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects whose selection is plain, each answered by its reader (the
        cards, the plan items, the meters); graphql-core completes each item otherwise (and
        the whole list again, when one item needs the ordinary way: a null, an awaitable, a
        value its reader leaves to it), with its errors and their paths."""
        if self.shortcut and position_context is None and type(items) is list:
            object_type = item_type.of_type if type(item_type) is GraphQLNonNull else item_type
            if type(object_type) is GraphQLObjectType and object_type.is_type_of is None:
                reader = self._known_reader(object_type, field_details_list)
                if reader is not None and self.get_stream_usage(field_details_list, path) is None:
                    answers = _read_all(reader, items, self.is_awaitable)
                    if answers is not None:
                        return answers
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _known_reader(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Reader | None:
        key = (return_type, id(field_details_list))
        known = self._readers.get(key)
        if known is not None:
            return known[1]
        reader = self._reader(return_type, field_details_list)
        self._readers[key] = (field_details_list, reader)
        return reader

    def _reader(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Reader | None:
        """The selection's reader, planned once per document (schema/selection_plans.py)."""
        shared = self._shared_key(return_type, field_details_list)
        if shared is not None and (kept := PLANS.readers.get(shared[0])) is not None:
            reader: Reader | None = kept[1]
            return reader
        reader = plan_reader(
            return_type,
            field_details_list,
            self.collect_subfields,
            self.is_awaitable,
            (self.leaves, self.objects, self.lists),
        )
        if shared is not None:
            PLANS.keep(PLANS.readers, shared[0], shared[1], reader)
        return reader

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        """graphql-core's, memoized per request as there, and per document
        (schema/selection_plans.py)."""
        key = (return_type, id(field_details_list))
        cached = self._relevant_sub_fields.get(key)
        if cached is not None:
            collected: CollectedFields = cached[1]
            return collected
        shared = self._shared_key(return_type, field_details_list)
        if shared is not None and (kept := PLANS.collected.get(shared[0])) is not None:
            collected = kept[1]
            self._relevant_sub_fields[key] = (field_details_list, collected)
            return collected
        collected = super().collect_subfields(return_type, field_details_list)
        if shared is not None and not collected.new_defer_usages:
            PLANS.keep(PLANS.collected, shared[0], shared[1], collected)
        return collected

    def _shared_key(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> tuple[Any, Any] | None:
        return PLANS.key(
            self.operation, self.fragments, self.variable_values, return_type, field_details_list
        )

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
            if not node.arguments:
                name = node.name.value
                leaf = self.leaves.get(parent_type.name, _NONE).get(name)
                if leaf is not None:
                    value = _coerced(source, *leaf)
                    if value is not Undefined:
                        return value
                else:
                    plain = self.objects.get(parent_type.name, _NONE).get(name)
                    if plain is not None:
                        value = _attribute(source, plain[0], plain[2])
                        if value is None:
                            return None
                        if value is not Undefined and not self.is_awaitable(value):
                            return self._complete_object(
                                plain, field_details_list, path, value, position_context
                            )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields`, with the plain leaves read in the loop: no path and
        no `execute_field` call for a leaf that completes (the billing page's 20 invoices hold
        over 200). Any other field, and a leaf that must go the ordinary way, as there."""
        leaves = self.leaves.get(parent_type.name)
        if not self.shortcut or leaves is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                leaf = None if node.arguments else leaves.get(node.name.value)
                if leaf is not None:
                    value = _coerced(source_value, *leaf)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A value its resolver already completed for the selection (schema/answered.py) as it
        is; any other as graphql-core completes it."""
        if type(result) is Answered:
            return result.value
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _complete_object(
        self,
        plain: PlainField,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """What `execute_field` and `complete_value` do for an object without `is_type_of`,
        errors handled the same way."""
        _, object_type, _, return_type = plain
        try:
            completed = self.collect_and_execute_subfields(
                object_type, field_details_list, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        return await_completed()


_NONE: dict[str, PlainField] = {}


def _reads_its_attribute(definition: StrawberryField, resolve: Any) -> bool:
    """Whether Strawberry's resolver for the field only reads the attribute. Its `_is_default`
    alone does not say so: Strawberry sets it on every field without a resolver function, one
    with `permission_classes` or field extensions included, whose resolver runs them."""
    return (
        getattr(resolve, "_is_default", False)
        and definition.is_basic_field
        and not definition.permission_classes
        and type(definition).get_result is StrawberryField.get_result
        and definition.default_resolver is getattr
    )


def _attribute(source: Any, attribute: str, nullable: bool) -> Any:
    """The attribute; None for a null the field may return; Undefined when the ordinary way
    must decide (and report): a null for a non-null field, an error, a missing attribute."""
    try:
        value = getattr(source, attribute)
    except Exception:
        return Undefined
    if value is None:
        return None if nullable else Undefined
    return Undefined if isinstance(value, Exception) else value


def _coerced(
    source: Any, attribute: str, leaf: GraphQLLeafType, nullable: bool, _: GraphQLOutputType
) -> Any:
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


def _read_all(reader: Reader, items: list[Any], is_awaitable: Any) -> list[Any] | None:
    """Each item's answer, or None when one of them must go the ordinary way."""
    answers = []
    for item in items:
        if item is None or is_awaitable(item):
            return None
        answer = reader(item)
        if answer is Undefined:
            return None
        answers.append(answer)
    return answers


def _weak_helpers(execution: PlainFieldsExecution) -> GraphQLResolveInfoHelpers:
    """graphql-core's helpers for resolvers (`info.async_helpers`), holding the execution
    weakly. Its own hold two of its bound methods: a reference cycle that kept the execution,
    the request's context and everything they reach (113 objects a billing page) for the cyclic
    collector, rather than freed when the request is answered. A resolver left running after
    its execution ended (a sibling's error abandoned it) still gets what graphql-core's would
    do: its values gathered, or settled in the background."""
    reference = weakref.ref(execution)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        alive = reference()
        return gather_with_cancel(*values) if alive is None else alive.gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        alive = reference()
        if alive is not None:
            alive.track_async_work(values)
            return
        for value in values:
            if default_is_awaitable(value):
                asyncio.ensure_future(value).add_done_callback(_settled)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


def _settled(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, as graphql-core's background settling does


def _probe(*_: Any, **__: Any) -> None:
    return None
