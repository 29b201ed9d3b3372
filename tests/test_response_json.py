"""gateway/response_json.py writes the same bytes as the standard library, whatever it is given."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

import pytest

from gateway.response_json import leaves_are_plain, response_json, standard
from schema import schema


class Code(enum.StrEnum):
    X = "X"


class Plain(enum.Enum):
    A = 1


ANSWERS = [
    {"data": {"a": 'x\x00\x01\x1f\x08\x0c\n\r\t"\\/</script>\u2028 \U0001f600'}},
    {"data": {"name": "Müller GmbH"}},
    {"data": {"a": "\x7f"}},
    {"data": {"a": "\ud800"}},
    {"data": {"a": [0, -1, 2**31, 2**63, 2**70], "b": True, "c": False, "d": None}},
    {"data": {"a": {"b": [{"c": "d"}, []], "e": {}}}},
    {
        "data": None,
        "errors": [
            {
                "message": "m",
                "locations": [{"line": 1, "column": 2}],
                "path": ["a", 0],
                "extensions": {"code": "X", "maximum": 1.5, "small": 1e-05, "big": 1e16},
            }
        ],
    },
    {"errors": [{"message": "m", "extensions": {"nan": float("nan"), "inf": float("inf")}}]},
    {"errors": [{"message": "m", "extensions": {"code": Code.X}}]},
    {"errors": [{"message": "m", "extensions": {1: "int key", None: "none key"}}]},
    {"data": {"a": 1}, "extensions": {"cost": (1, 2)}},
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_same_bytes_as_the_standard_library(answer: dict[str, object]) -> None:
    assert response_json(answer, data_is_plain=True) == standard(answer)
    assert response_json(answer, data_is_plain=False) == standard(answer)


@pytest.mark.parametrize("value", [uuid.uuid4(), datetime(2026, 1, 1, tzinfo=UTC), Plain.A])
def test_what_the_standard_library_refuses_stays_refused(value: object) -> None:
    answer = {"errors": [{"message": "m", "extensions": {"value": value}}]}
    with pytest.raises(TypeError):
        standard(answer)
    with pytest.raises(TypeError):
        response_json(answer, data_is_plain=True)


def test_the_schema_answers_only_plain_scalars() -> None:
    # A Float or JSON scalar would need response_json to look through `data` too (app.py does).
    assert leaves_are_plain(schema._schema)


def test_a_float_or_json_scalar_is_not_plain() -> None:
    from graphql import build_schema

    assert leaves_are_plain(build_schema("scalar DateTime type Query { a: String b: DateTime }"))
    assert not leaves_are_plain(build_schema("type Query { a: Float }"))
    assert not leaves_are_plain(build_schema("scalar JSON type Query { a: JSON }"))
