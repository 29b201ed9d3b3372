"""Strawberry's resolver for a field with a resolver function, written out once per field.

For such a field Strawberry's resolver builds the `Info`, converts the arguments (each one's
GraphQL name worked out on every call), chains the field extensions with `functools.partial`
and reaches the resolver through coroutines of its own (`_async_resolver`, `await_maybe`, and
for a permission `PermissionExtension.resolve_async` and one more `await_maybe` per permission
class). Here the same steps run from tables made when the schema is built, for the fields
whose extensions are none or one `PermissionExtension` and that have no exception handler: the
same `Info`, the same converted arguments and reserved parameters, the permissions asked in the
same order with the same arguments, the same refusals (`on_unauthorized`, `fail_silently`) and
the same errors, in one coroutine. Any other field keeps Strawberry's."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, cast

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from strawberry import Schema
from strawberry.exceptions import PermissionReturnedNonBooleanError
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.relay import GlobalID
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryOptional, StrawberryType
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

_STRAWBERRY = "GraphQLCoreConverter.from_resolver.<locals>."
# (GraphQL name, Python name, Strawberry type or None when the value is passed as it is,
# whether a null is passed as it is)
ArgumentPlan = tuple[str, str, Any, bool]


def lean_resolvers(schema: Schema) -> list[tuple[GraphQLField, Callable[..., Any]]]:
    """Replaces Strawberry's resolver of each field it can take (`_takes`) by `_lean`; returns
    the fields with Strawberry's resolvers it replaced (the tests compare both). Run it before
    anything wraps the fields' resolvers."""
    replaced: list[tuple[GraphQLField, Callable[..., Any]]] = []
    for name, type_ in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field in type_.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if isinstance(definition, StrawberryField) and _takes(definition, field.resolve):
                replaced.append((field, field.resolve))
                field.resolve = _lean(schema, definition, field.resolve)
    return replaced


def _takes(definition: StrawberryField, resolve: Any) -> bool:
    resolver = definition.base_resolver
    if resolver is None or type(definition).get_result is not StrawberryField.get_result:
        return False
    if type(resolver).__call__ is not StrawberryResolver.__call__:
        return False
    if not callable(resolver.wrapped_func):
        return False
    qualname = getattr(resolve, "__qualname__", "")
    if qualname not in (_STRAWBERRY + "_async_resolver", _STRAWBERRY + "_resolver"):
        return False
    closure = inspect.getclosurevars(resolve).nonlocals
    if closure.get("field_exception_handlers", True):  # missing or not empty
        return False
    extensions = definition.extensions
    if not extensions:
        return True
    if len(extensions) > 1 or type(extensions[0]) is not PermissionExtension:
        return False
    # A synchronous field keeps Strawberry's own checks of what a permission returns.
    return definition.is_async


def _arguments(schema: Schema, definition: StrawberryField) -> list[ArgumentPlan]:
    """As `strawberry.types.arguments.convert_arguments` finds them, names converted once."""
    registry = schema.schema_converter.scalar_registry
    plans = []
    for argument in definition.arguments:
        assert argument.python_name
        type_ = argument.type
        optional = type(type_) is StrawberryOptional  # not a Maybe, its subclass
        inner = cast(StrawberryOptional, type_).of_type if optional else type_
        # convert_argument returns a scalar's value as it is, and null for an optional
        # argument of any type but another optional or a Maybe.
        as_is = not isinstance(inner, StrawberryType) and _registered(inner, registry)
        plans.append(
            (
                schema.config.name_converter.from_argument(argument),
                argument.python_name,
                None if as_is else type_,
                optional and not isinstance(inner, StrawberryOptional),
            )
        )
    return plans


def _registered(type_: Any, registry: Mapping[object, Any]) -> bool:
    try:
        return type_ in registry and type_ is not GlobalID
    except TypeError:  # not hashable
        return False


def _lean(schema: Schema, field: StrawberryField, strawberry_resolve: Any) -> Callable[..., Any]:
    config = schema.config
    registry = schema.schema_converter.scalar_registry
    info_class = config.info_class
    resolver = field.base_resolver
    assert resolver is not None
    call = cast(Callable[..., Any], resolver.wrapped_func)  # callable: `_takes`
    arguments = _arguments(schema, field)
    passes_self = resolver.self_parameter is not None
    source_names = [
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    ]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    # Strawberry hands the permissions every argument but one named exactly "info".
    info_to_permissions = info_name is not None and info_name != "info"
    extension = field.extensions[0] if field.extensions else None
    permissions: list[BasePermission] = (
        extension.permissions if isinstance(extension, PermissionExtension) else []
    )

    def prepare(source: Any, info: Any, kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        converted: dict[str, Any] = {}
        for name, python_name, type_, null_as_is in arguments:
            if name in kwargs:
                value = kwargs[name]
                converted[python_name] = (
                    value
                    if type_ is None or (value is None and null_as_is)
                    else convert_argument(value, type_, registry, config, info, path=(name,))
                )
        for name in source_names:
            converted[name] = source
        if info_to_permissions:
            converted[info_name] = info  # type: ignore[index]
        return ([source] if passes_self else []), converted

    if not field.is_async:
        return _lean_sync(field, info_class, prepare, call, info_name, strawberry_resolve)

    async def lean_async(_source: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=field)
        args, converted = prepare(_source, strawberry_info, kwargs)
        for permission in permissions:
            allowed = permission.has_permission(_source, strawberry_info, **converted)
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not isinstance(allowed, bool):
                if inspect.iscoroutine(allowed):
                    allowed.close()
                raise PermissionReturnedNonBooleanError(permission, allowed)
            if not allowed:
                return _refused(extension, permission)
        if info_name == "info":
            converted["info"] = strawberry_info
        result = call(*args, **converted)
        if extension is not None:
            if inspect.isasyncgen(result):
                return result
            return await result
        if inspect.isawaitable(result):
            return await result
        return result

    lean_async._is_default = strawberry_resolve._is_default  # type: ignore[attr-defined]
    return lean_async


def _refused(extension: object, permission: BasePermission) -> Any:
    assert isinstance(extension, PermissionExtension)
    if extension.fail_silently:
        return [] if extension.return_empty_list else None
    return permission.on_unauthorized()


def _lean_sync(
    field: StrawberryField,
    info_class: Any,
    prepare: Callable[[Any, Any, dict[str, Any]], tuple[list[Any], dict[str, Any]]],
    call: Callable[..., Any],
    info_name: str | None,
    strawberry_resolve: Any,
) -> Callable[..., Any]:
    """`_lean`'s resolver for a synchronous field (no extension: `_takes`)."""

    def lean_sync(_source: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=field)
        args, converted = prepare(_source, strawberry_info, kwargs)
        if info_name == "info":
            converted["info"] = strawberry_info
        return call(*args, **converted)

    lean_sync._is_default = strawberry_resolve._is_default  # type: ignore[attr-defined]
    return lean_sync
