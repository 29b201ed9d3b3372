# strawberry.field(...) with keyword arguments is typed as returning Any (as in pyproject.toml).
# mypy: disable-error-code="untyped-decorator"
"""schema/resolver_fields.py: a field's written-out resolver answers as Strawberry's does.

A toy schema is run twice, once as Strawberry builds it and once with `lean_resolvers` applied
(and the gateway's execution context), and the answers (data, and each error's message, path,
locations and extensions) must be the same, as must what the permissions were asked. The
gateway's own schema is compared the same way in tests/test_plain_fields_differential.py."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter

from schema import STRAWBERRY_RESOLVERS
from schema import schema as gateway_schema
from schema.plain_fields import PlainFieldsExecution
from schema.resolver_fields import lean_resolvers

ASKED: list[tuple[str, str, list[tuple[str, str]]]] = []


def _asked(permission: BasePermission, source: Any, kwargs: dict[str, Any]) -> None:
    seen = sorted((name, type(value).__name__) for name, value in kwargs.items())
    ASKED.append((type(permission).__name__, type(source).__name__, seen))


class Deny(BasePermission):
    message = "Not for you."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        _asked(self, source, kwargs)
        return False


class Allow(BasePermission):
    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        _asked(self, source, kwargs)
        return True


class AtMostTen(BasePermission):
    message = "At most ten."
    error_extensions = {"code": "BAD_USER_INPUT", "limit": 10}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        _asked(self, source, kwargs)
        return int(kwargs.get("first", 0)) <= 10


class AsyncDeny(BasePermission):
    message = "Not now."

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        _asked(self, source, kwargs)
        return False


class AsyncAllow(BasePermission):
    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return True


class NotABool(BasePermission):
    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return 1  # type: ignore[return-value]


class QuietRefusal(BasePermission):
    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False

    def on_unauthorized(self) -> None:
        return None


class Upper(FieldExtension):
    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return str(await next_(source, info, **kwargs)).upper()


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Window:
    first: int = 3
    colour: Colour | None = None


@strawberry.type
class Box:
    label: str

    @strawberry.field(permission_classes=[Deny])
    async def secret(self) -> str | None:
        return "s3cr3t"

    @strawberry.field(permission_classes=[Deny])
    async def must(self) -> str:
        return "m"

    @strawberry.field(permission_classes=[Allow])
    async def allowed(self, info: strawberry.Info) -> str:
        return f"{self.label}:{info.field_name}"

    @strawberry.field(permission_classes=[AtMostTen])
    async def items(
        self, first: int = 5, after: str | None = None, colour: Colour | None = None
    ) -> list[str] | None:
        return [f"{self.label}-{n}-{after}-{colour}" for n in range(first)]

    @strawberry.field(extensions=[PermissionExtension([Deny()], fail_silently=True)])
    async def silent_list(self) -> list[str] | None:
        return ["x"]

    @strawberry.field(extensions=[PermissionExtension([Deny()], fail_silently=True)])
    async def silent_value(self) -> str | None:
        return "x"

    @strawberry.field(permission_classes=[AsyncDeny])
    async def async_denied(self) -> str | None:
        return "x"

    @strawberry.field(permission_classes=[Allow, AsyncAllow, AtMostTen])
    async def several(self, first: int = 1) -> int:
        return first

    @strawberry.field(permission_classes=[NotABool])
    async def not_a_bool(self) -> str | None:
        return "x"

    @strawberry.field(permission_classes=[QuietRefusal])
    async def quietly_refused(self) -> str | None:
        return "x"

    @strawberry.field(extensions=[Upper()])
    async def shouted(self) -> str:
        return self.label

    @strawberry.field
    async def failing(self) -> str | None:
        raise ValueError("the resolver failed")

    @strawberry.field
    async def failing_required(self) -> str:
        raise ValueError("the required resolver failed")

    @strawberry.field(permission_classes=[Allow])
    async def by_parent(self, parent: strawberry.Parent[Box], inf: strawberry.Info) -> str:
        return f"{parent.label}/{inf.field_name}"

    @strawberry.field
    def plain_sync(self, info: strawberry.Info, times: int = 2) -> str:
        return f"{self.label * times}:{info.path.key}"

    @strawberry.field
    async def window(self, window: Window, ids: list[strawberry.ID] | None = None) -> str:
        return f"{window.first}:{window.colour}:{ids}"

    @strawberry.field
    async def optional_arguments(
        self,
        id: strawberry.ID | None = None,
        colour: Colour | None = None,
        maybe: strawberry.Maybe[int] = None,
        maybe_null: strawberry.Maybe[int | None] = None,
    ) -> str:
        return f"{id!r}:{colour!r}:{maybe!r}:{maybe_null!r}"

    @strawberry.field
    async def child(self) -> Box | None:
        return Box(label=self.label + "+")


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[Allow])
    async def box(self, label: str = "b") -> Box | None:
        return Box(label=label)

    @strawberry.field(permission_classes=[Deny])
    async def denied_box(self) -> Box | None:
        return Box(label="d")

    @strawberry.field
    def sync_box(self) -> Box:
        return Box(label="s")


class _LeanExecution(PlainFieldsExecution):
    pass


stock = strawberry.Schema(query=Query)
lean = strawberry.Schema(query=Query, execution_context_class=_LeanExecution)
REPLACED = lean_resolvers(lean)
_LeanExecution.tabulate(lean._schema)

BOX = """
  label secret must allowed silentList silentValue asyncDenied several notABool
  quietlyRefused shouted failing byParent plainSync
  a: items b: items(first: 2, after: "c", colour: BLUE) c: items(first: 11)
  window(window: {first: 4, colour: RED}, ids: ["1", "2"]) w2: window(window: {})
  optionalArguments o1: optionalArguments(id: "7", colour: RED, maybe: 1, maybeNull: null)
  o2: optionalArguments(id: null, colour: null, maybeNull: 2)
"""
DOCUMENTS = [
    f"{{ box {{ {BOX} child {{ {BOX} }} }} }}",
    'query ($f: Int!, $c: Colour) { box(label: "v") { items(first: $f, colour: $c) } }',
    "{ box { failingRequired } deniedBox { label } }",
    "{ box { mustWrap: must label } syncBox { label allowed } }",
    f"{{ syncBox {{ {BOX} }} }}",
    "{ deniedBox { label } box { several(first: 20) } }",
]


def _answer(result: Any) -> tuple[Any, list[Any]]:
    return result.data, [e.formatted for e in result.errors or []]


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_written_out_resolvers_answer_as_strawberrys(document: str) -> None:
    for variables in ({"f": 3, "c": "BLUE"}, {"f": 12, "c": None}):
        ASKED.clear()
        expected = await stock.execute(document, variable_values=variables)
        asked_stock = list(ASKED)
        ASKED.clear()
        result = await lean.execute(document, variable_values=variables)
        assert _answer(result) == _answer(expected), document
        assert asked_stock == ASKED, document


async def test_refusals_keep_their_messages_codes_and_paths() -> None:
    result = await lean.execute("{ box { label secret c: items(first: 11) silentList } }")
    assert result.data == {"box": {"label": "b", "secret": None, "c": None, "silentList": []}}
    assert sorted((e.message, e.path, e.extensions) for e in result.errors or []) == [
        ("At most ten.", ["box", "c"], {"code": "BAD_USER_INPUT", "limit": 10}),
        ("Not for you.", ["box", "secret"], {"code": "FORBIDDEN"}),
    ]


def test_only_fields_with_a_resolver_and_at_most_a_permission_extension_are_written_out() -> None:
    taken = {
        field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF].python_name
        for field, _ in REPLACED
    }
    assert {"secret", "items", "silent_list", "several", "by_parent", "plain_sync"} <= taken
    assert {"box", "denied_box", "sync_box", "window", "child"} <= taken
    assert "shouted" not in taken  # another extension: Strawberry's own resolver
    assert "label" not in taken  # an attribute: schema/plain_fields.py reads it


def test_the_gateway_writes_out_its_resolver_fields() -> None:
    names = {
        (field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF].origin.__name__, name)
        for field, _ in STRAWBERRY_RESOLVERS
        for name in [field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF].python_name]
    }
    assert {("Query", "organization"), ("Organization", "invoices")} <= names
    assert ("Organization", "payment_methods") in names
    assert gateway_schema.execution_context_class is PlainFieldsExecution
