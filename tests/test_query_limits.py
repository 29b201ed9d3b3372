"""The bounded parse of gateway/query_limits.py: where it stops, and what it leaves to the
GraphQL layer."""

from __future__ import annotations

import pytest
from graphql import DocumentNode, GraphQLSyntaxError, Source, parse

from gateway import query_limits, query_shape
from gateway.limit_settings import RequestLimits
from gateway.query_cost import cost_variables, estimated_cost
from gateway.query_limits import QueryTooComplex, _Document, check_operation, parse_within

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


PAGE = "query P($n: Int, $m: Int) { organization { invoices(first: $n) { totalCount } } }"


def test_a_repeated_document_is_measured_once_and_costed_per_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walks: list[str] = []
    real_alias_count = query_shape.alias_count

    def counted(document: DocumentNode) -> int:
        walks.append("aliases")
        return real_alias_count(document)

    monkeypatch.setattr(query_limits, "alias_count", counted)
    query = PAGE + " # measured once"
    limits = RequestLimits()
    costs = [
        check_operation(limits, query, variables, "P", anonymous=False).cost
        for variables in (
            {"n": 5},
            {"n": 5, "m": 7},
            {"n": 50},
            {"n": 1},
            {"n": True},
            {"n": [1]},
            None,
        )
    ]
    assert walks == ["aliases"]
    # what the cost does not read (m) changes nothing; `true` is not 1; the default page is 20
    assert costs[3] < costs[0] == costs[1] < costs[2]
    assert costs[4] == costs[5] == costs[6] == estimated_cost(parse(query), {}, "P")
    assert costs[2] == estimated_cost(parse(query), {"n": 50}, "P")
    assert cost_variables(parse(query)) == {"n"}


def test_a_document_keeps_a_bounded_number_of_costs() -> None:
    query = PAGE + " # many pages asked for"
    limits = RequestLimits()
    for n in range(1, 200):
        cost = check_operation(limits, query, {"n": n}, "P", anonymous=False).cost
        assert cost == estimated_cost(parse(query), {"n": n}, "P")
    measures = query_limits._measures(query, limits.max_query_tokens)
    assert 0 < len(measures.costs) <= query_limits._COSTS_PER_DOCUMENT
