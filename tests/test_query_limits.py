"""The bounded parse of gateway/query_limits.py: where it stops, and what it leaves to the
GraphQL layer."""

from __future__ import annotations

import pytest
from graphql import GraphQLSyntaxError, Source, parse

from gateway.limit_settings import RequestLimits
from gateway.query_limits import QueryTooComplex, _Document, parse_within

LIMITS = RequestLimits(max_query_tokens=100)


def test_a_syntax_error_is_left_to_the_graphql_layer() -> None:
    assert parse_within("{ catalog { currency }", LIMITS) is None


def test_the_token_limit_refuses_naming_it() -> None:
    with pytest.raises(QueryTooComplex) as refused:
        parse_within("{ " + "a " * 101 + "}", LIMITS)
    assert refused.value.extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "GATEWAY_MAX_QUERY_TOKENS",
        "maximum": 100,
    }
    assert parse_within("{ " + "a " * 97 + "}", LIMITS) is not None


def test_comments_count_as_tokens() -> None:
    with pytest.raises(QueryTooComplex):
        parse_within("{ a }" + "\n#" * 200, LIMITS)


@pytest.mark.parametrize(
    "text", ["{ a\n  b(x: 1\n) }", "{ a\r\n b\r c }", "{ a b c }", "\n\n{ ! }"]
)
def test_error_locations_are_graphql_cores(text: str) -> None:
    # Where a syntax error is reported, as graphql-core would, without its scan of the body.
    with pytest.raises(GraphQLSyntaxError) as ours:
        parse(_Document(text + " }"))
    with pytest.raises(GraphQLSyntaxError) as theirs:
        parse(Source(text + " }"))
    assert ours.value.locations == theirs.value.locations
