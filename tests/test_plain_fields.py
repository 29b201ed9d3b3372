"""schema/plain_fields.py: plain leaf fields read directly answer exactly what graphql-core's
ordinary way answers, errors included."""

from __future__ import annotations

import strawberry

import schema  # noqa: F401  # builds the gateway's schema and its table of plain leaves
from schema.plain_fields import PlainFieldsExecution, plain_fields


@strawberry.type
class Thing:
    name: str
    nick: str | None
    size: int

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Box:
    thing: Thing
    maybe: Thing | None
    things: list[Thing]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        nameless = Thing(name=None, nick="b", size=2)  # type: ignore[arg-type]
        return [Thing(name="a", nick=None, size=1), nameless]

    @strawberry.field
    def boxes(self) -> list[Box | None]:
        nameless = Thing(name=None, nick="b", size=2)  # type: ignore[arg-type]
        fine = Thing(name="e", nick=None, size=3)
        return [
            Box(thing=fine, maybe=nameless, things=[fine]),
            Box(thing=nameless, maybe=None, things=[]),
            Box(thing=None, maybe=fine, things=[]),  # type: ignore[arg-type]
        ]

    @strawberry.field
    async def later(self) -> Box:
        return Box(thing=Thing(name="f", nick=None, size=4), maybe=None, things=[])

    @strawberry.field
    def big(self) -> Thing | None:
        return Thing(name="c", nick="d", size=2**40)


class _Execution(PlainFieldsExecution):
    pass


ordinary = strawberry.Schema(query=Query)
shortcut = strawberry.Schema(query=Query, execution_context_class=_Execution)
_Execution.leaves, _Execution.objects = plain_fields(shortcut._schema)


def test_the_gateway_schema_reads_its_plain_fields_directly() -> None:
    leaves, objects = PlainFieldsExecution.leaves, PlainFieldsExecution.objects
    assert leaves["Invoice"]["number"][0] == "number"
    assert leaves["Invoice"]["issuedAt"][0] == "issued_at"
    assert leaves["Money"]["amount"][0] == "amount"
    # a permission, a resolver or an argument: the ordinary way
    assert "creditBalance" not in leaves.get("Organization", {})
    assert "formatted" not in leaves["Money"]
    assert "pdfUrl" not in leaves["Invoice"]
    assert objects["Invoice"]["amountDue"][0] == "amount_due"
    assert objects["InvoiceEdge"]["node"][0] == "node"
    assert "edges" not in objects["InvoiceConnection"]  # a list: the ordinary way


def test_only_attributes_without_arguments_are_shortcut() -> None:
    assert set(_Execution.leaves["Thing"]) == {"name", "nick", "size"}
    assert "Query" not in _Execution.objects
    assert set(_Execution.objects["Box"]) == {"thing", "maybe"}


def test_answers_and_errors_are_the_ordinary_ones() -> None:
    query = "{ things { name nick size shout } big { name size } alias: big { n: name } }"
    expected = ordinary.execute_sync(query)
    result = shortcut.execute_sync(query)
    assert result.data == expected.data
    assert expected.errors is not None and result.errors is not None
    assert [e.formatted for e in result.errors] == [e.formatted for e in expected.errors]
    messages = {e.message for e in result.errors}
    assert "Cannot return null for non-nullable field Thing.name." in messages
    assert any("Int cannot represent non 32-bit signed integer" in m for m in messages)
    assert result.data == {
        "things": [{"name": "a", "nick": None, "size": 1, "shout": "A"}, None],
        "big": None,
        "alias": {"n": "c"},
    }


def test_objects_read_directly_answer_and_fail_as_the_ordinary_way() -> None:
    query = "{ boxes { thing { name shout } maybe { name nick } things { size } } }"
    expected = ordinary.execute_sync(query)
    result = shortcut.execute_sync(query)
    assert result.data == expected.data
    assert expected.errors is not None and result.errors is not None
    assert [e.formatted for e in result.errors] == [e.formatted for e in expected.errors]
    assert result.data == {
        "boxes": [
            {"thing": {"name": "e", "shout": "E"}, "maybe": None, "things": [{"size": 3}]},
            None,
            None,
        ]
    }


async def test_objects_under_an_async_field_read_directly() -> None:
    query = "{ later { thing { name } maybe { name } } }"
    expected = await ordinary.execute(query)
    result = await shortcut.execute(query)
    assert result.errors is None and result.data == expected.data
    assert result.data == {"later": {"thing": {"name": "f"}, "maybe": None}}
