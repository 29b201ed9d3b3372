"""schema/plain_fields.py: plain leaf fields read directly answer exactly what graphql-core's
ordinary way answers, errors included."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
import strawberry
from graphql import Undefined

import schema  # builds the gateway's schema and its table of plain leaves
from schema.plain_fields import PlainFieldsExecution

# `schema.plain_fields` is also the name of a function `schema/__init__.py` imports
plain_fields_module = importlib.import_module("schema.plain_fields")


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
_Execution.tabulate(shortcut._schema)


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


# ---------------------------------------------------------------------------------------------
# schema/plain_selections.py: a selection made only of plain fields, lists included, read in one
# call; whatever is unusual left to the ordinary way, errors and paths included


@strawberry.type
class Tagged:
    label: str
    tags: list[str]
    maybe_tags: list[str | None] | None
    things: list[Thing]
    nullable_things: list[Thing | None]
    box: Box | None


def _tagged(label: str, **fields: object) -> Tagged:
    values: dict[str, object] = {
        "tags": ["x"],
        "maybe_tags": None,
        "things": [],
        "nullable_things": [],
        "box": None,
    }
    return Tagged(label=label, **{**values, **fields})  # type: ignore[arg-type]


@strawberry.type
class ListQuery:
    @strawberry.field
    def tagged(self) -> list[Tagged | None]:
        fine = Thing(name="a", nick=None, size=1)
        nameless = Thing(name=None, nick="b", size=2)  # type: ignore[arg-type]
        return [
            _tagged("plain", tags=["x", "y"], things=[fine], nullable_things=[None, fine]),
            _tagged("tuples", tags=("x",), maybe_tags=["z", None], things=(fine, fine)),
            _tagged("a generator", tags=(tag for tag in ["g"])),
            _tagged("a null tag", tags=["x", None]),
            _tagged("numbers as tags", tags=[1, True]),
            _tagged("an error as a tag", tags=[ValueError("no such tag")]),
            _tagged("a nameless thing", things=[fine, nameless]),
            _tagged("a nameless thing where null is allowed", nullable_things=[nameless]),
            _tagged("a list that is not one", things=fine),
            _tagged("a box", box=Box(thing=fine, maybe=None, things=[fine])),
            _tagged("a box with a null thing", box=Box(thing=None, maybe=None, things=[])),  # type: ignore[arg-type]
            _tagged(ValueError("no label")),  # type: ignore[arg-type]
        ]

    @strawberry.field
    async def later(self) -> Tagged:
        return _tagged("later", things=[Thing(name="l", nick=None, size=9)])


class _ListExecution(PlainFieldsExecution):
    pass


ordinary_lists = strawberry.Schema(query=ListQuery)
shortcut_lists = strawberry.Schema(query=ListQuery, execution_context_class=_ListExecution)
_ListExecution.tabulate(shortcut_lists._schema)

TAGGED = """query Tagged($withBox: Boolean!) {
  tagged {
    __typename label tags maybeTags
    things { name size }
    nullableThings { name }
    alias: things { n: name }
    box @include(if: $withBox) { thing { name } maybe { name } things { ...Sized } }
  }
}
fragment Sized on Thing { size nick }"""


class ReaderAnswers:
    """How many objects the planned readers answered, so that a comparison is not vacuous."""

    def __init__(self) -> None:
        self.answered = 0

    def plan(self, *args: Any) -> Any:
        reader = _real_plan_reader(*args)
        if reader is None:
            return None

        def counted(source: Any) -> Any:
            answer = reader(source)
            if answer is not Undefined:
                self.answered += 1
            return answer

        return counted


_real_plan_reader = plain_fields_module.plan_reader


@pytest.fixture
def reader_answers(monkeypatch: pytest.MonkeyPatch) -> ReaderAnswers:
    answers = ReaderAnswers()
    monkeypatch.setattr(plain_fields_module, "plan_reader", answers.plan)
    return answers


def test_the_tables_name_plain_lists_only() -> None:
    lists = _ListExecution.lists["Tagged"]
    assert set(lists) == {"tags", "maybeTags", "things", "nullableThings"}
    assert lists["tags"][1:] == (shortcut_lists._schema.type_map["String"], False, False)
    assert lists["maybeTags"][2:] == (True, True)
    assert "Query" not in _ListExecution.lists  # `tagged` has a resolver
    gateway_lists = PlainFieldsExecution.lists
    assert gateway_lists["InvoiceConnection"]["edges"][0] == "edges"
    assert "items" not in gateway_lists.get("Subscription", {})  # an async resolver


@pytest.mark.parametrize("with_box", [True, False])
def test_plain_selections_answer_and_fail_as_the_ordinary_way(
    with_box: bool, reader_answers: ReaderAnswers
) -> None:
    variables = {"withBox": with_box}
    expected = ordinary_lists.execute_sync(TAGGED, variable_values=variables)
    result = shortcut_lists.execute_sync(TAGGED, variable_values=variables)
    assert result.data == expected.data
    assert expected.errors is not None and result.errors is not None
    assert [e.formatted for e in result.errors] == [e.formatted for e in expected.errors]
    assert reader_answers.answered >= 4  # the plain, tuples, numbers, box… objects at least
    assert result.data is not None
    answered = {t["label"]: t for t in result.data["tagged"] if t is not None}
    assert answered["tuples"]["things"] == [{"name": "a", "size": 1}] * 2
    assert answered["tuples"]["maybeTags"] == ["z", None]
    assert answered["a generator"]["tags"] == ["g"]
    assert answered["numbers as tags"]["tags"] == ["1", "true"]
    assert answered["a nameless thing where null is allowed"]["nullableThings"] == [None]
    assert answered["plain"]["__typename"] == "Tagged"
    assert ("box" in answered["a box"]) is with_box
    messages = {e.message for e in result.errors}
    assert "Cannot return null for non-nullable field Tagged.tags." in messages
    assert "Cannot return null for non-nullable field Thing.name." in messages
    assert "no such tag" in messages and "no label" in messages


async def test_a_plain_selection_under_an_async_field_is_read_directly(
    reader_answers: ReaderAnswers,
) -> None:
    query = "{ later { label things { name } } }"
    expected = await ordinary_lists.execute(query)
    result = await shortcut_lists.execute(query)
    assert result.errors is None and result.data == expected.data
    assert result.data == {"later": {"label": "later", "things": [{"name": "l"}]}}
    assert reader_answers.answered == 1


def test_enum_names_from_the_table_are_strawberrys_own() -> None:
    """plain_selections.output_coercer: every enum of the gateway's schema names each member as
    Strawberry's search does, and refuses what Strawberry refuses, with its error."""
    from enum import Enum

    from strawberry.schema.schema_converter import CustomGraphQLEnumType

    from schema.plain_selections import output_coercer

    class Stranger(Enum):
        ACTIVE = "ACTIVE"

    enums = [
        t for t in schema.schema._schema.type_map.values() if isinstance(t, CustomGraphQLEnumType)
    ]
    assert len(enums) > 10
    for enum_type in enums:
        coerce = output_coercer(enum_type)
        assert coerce is not enum_type.coerce_output_value  # the table is used
        members: list[Enum] = list(enum_type.wrapped_cls)
        for member in members:
            assert coerce(member) == enum_type.coerce_output_value(member)
        for stranger in (Stranger.ACTIVE, "no such value", 7):
            with pytest.raises(Exception) as expected:
                enum_type.coerce_output_value(stranger)
            with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
                coerce(stranger)


def test_a_written_out_reader_reads_any_attribute_name_and_leaves_the_unusual_to_graphql_core() -> (
    None
):
    from graphql import GraphQLString

    from schema.plain_selections import _LEAF, _reader

    coerce = GraphQLString.coerce_output_value
    read = _reader([(_LEAF, "a", "plain", coerce, False), (_LEAF, "b", "class", coerce, True)])

    class Source:
        plain = "x"

    source = Source()
    setattr(source, "class", "y")  # a keyword: no `source.class` in the reader's source
    assert read(source) == {"a": "x", "b": "y"}
    setattr(source, "class", None)
    assert read(source) == {"a": "x", "b": None}
    source.plain = None  # type: ignore[assignment]  # a null for a non-null field
    assert read(source) is Undefined
    source.plain = 7  # type: ignore[assignment]  # coerced by the scalar, not taken as it is
    assert read(source) == {"a": "7", "b": None}
    source.plain = ValueError("boom")  # type: ignore[assignment]  # an error as a value
    assert read(source) is Undefined


async def test_the_resolver_helpers_still_work_once_their_execution_is_gone() -> None:
    """The helpers hold the execution weakly (no reference cycle); a resolver left running
    after it ended still has its values gathered, or settled with their errors retrieved."""
    import asyncio
    import gc

    class Gone:
        def gather_async_work(self, values: Any) -> Any:
            raise AssertionError("not called once gone")

        track_async_work = gather_async_work

    execution = Gone()
    helpers = plain_fields_module._weak_helpers(execution)
    del execution
    unhandled: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: unhandled.append(context))

    async def value(number: int) -> int:
        return number

    async def failing() -> None:
        raise ValueError("late")

    try:
        assert await helpers.gather([value(1), value(2)]) == [1, 2]
        helpers.track([failing(), 3])
        await asyncio.sleep(0.01)
        gc.collect()
    finally:
        asyncio.get_running_loop().set_exception_handler(None)
    assert unhandled == []
