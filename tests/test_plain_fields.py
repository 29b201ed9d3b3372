"""schema/plain_fields.py: plain leaf fields read directly answer exactly what graphql-core's
ordinary way answers, errors included."""

from __future__ import annotations

import strawberry

import schema  # noqa: F401  # builds the gateway's schema and its table of plain leaves
from schema.plain_fields import PlainLeavesExecution, plain_leaves


@strawberry.type
class Thing:
    name: str
    nick: str | None
    size: int

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        nameless = Thing(name=None, nick="b", size=2)  # type: ignore[arg-type]
        return [Thing(name="a", nick=None, size=1), nameless]

    @strawberry.field
    def big(self) -> Thing | None:
        return Thing(name="c", nick="d", size=2**40)


class _Execution(PlainLeavesExecution):
    pass


ordinary = strawberry.Schema(query=Query)
shortcut = strawberry.Schema(query=Query, execution_context_class=_Execution)
_Execution.leaves = plain_leaves(shortcut._schema)


def test_the_gateway_schema_reads_its_plain_leaves_directly() -> None:
    leaves = PlainLeavesExecution.leaves
    assert leaves["Invoice"]["number"][0] == "number"
    assert leaves["Invoice"]["issuedAt"][0] == "issued_at"
    assert leaves["Money"]["amount"][0] == "amount"
    # a permission, a resolver or an argument: the ordinary way
    assert "creditBalance" not in leaves.get("Organization", {})
    assert "formatted" not in leaves["Money"]
    assert "pdfUrl" not in leaves["Invoice"]


def test_only_attribute_leaves_without_arguments_are_shortcut() -> None:
    assert set(_Execution.leaves["Thing"]) == {"name", "nick", "size"}


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
