"""schema/selection_plans.py: a document's collected selections and readers are kept from one
request to the next, keyed by its nodes and by the values of the variables its directives read,
so a later request answers exactly what a fresh execution would (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import graphql
import pytest
from graphql import parse
from graphql.execution import executor as graphql_executor

from schema import selection_plans
from schema.selection_plans import PLANS, directive_variables
from tests.conftest import GraphQLClient
from tests.factories import organization_with
from tests.test_plain_fields import (
    TAGGED,
    _ListExecution,
    ordinary_lists,
    plain_fields_module,
    shortcut_lists,
)


class Calls:
    """How often graphql-core collected sub-fields and a reader was planned."""

    def __init__(self) -> None:
        self.collected = 0
        self.planned = 0


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    counted = Calls()
    real_collect = graphql_executor.collect_subfields  # type: ignore[attr-defined]
    real_plan = plain_fields_module.plan_reader

    def collect(*args: Any) -> Any:
        counted.collected += 1
        return real_collect(*args)

    def plan(*args: Any) -> Any:
        counted.planned += 1
        return real_plan(*args)

    monkeypatch.setattr(graphql_executor, "collect_subfields", collect)
    monkeypatch.setattr(plain_fields_module, "plan_reader", plan)
    PLANS.collected.clear()
    PLANS.readers.clear()
    yield counted
    PLANS.collected.clear()
    PLANS.readers.clear()


def _run(document: graphql.DocumentNode, variables: dict[str, Any]) -> graphql.ExecutionResult:
    result = graphql.execute(
        shortcut_lists._schema,
        document,
        variable_values=variables,
        executor_class=_ListExecution,
    )
    assert isinstance(result, graphql.ExecutionResult)  # the selected fields are synchronous
    return result


def _formatted(result: graphql.ExecutionResult) -> tuple[Any, Any]:
    return result.data, [e.formatted for e in result.errors or []]


def test_a_document_run_again_collects_and_plans_nothing_afresh(calls: Calls) -> None:
    document = parse(TAGGED)
    first = _run(document, {"withBox": True})
    assert calls.collected > 0 and calls.planned > 0
    collected, planned = calls.collected, calls.planned
    again = _run(document, {"withBox": True})
    assert (calls.collected, calls.planned) == (collected, planned)
    assert _formatted(again) == _formatted(first)


def test_a_directives_variable_is_part_of_the_key(calls: Calls) -> None:
    """`box @include(if: $withBox)`: the same document with the other value collects again and
    answers as a fresh execution does, each time."""
    document = parse(TAGGED)
    for with_box in (True, False, True, False):
        variables = {"withBox": with_box}
        expected = ordinary_lists.execute_sync(TAGGED, variable_values=variables)
        result = _run(document, variables)
        assert _formatted(result) == (
            expected.data,
            [e.formatted for e in expected.errors or []],
        )
        assert result.data is not None
        answered = [t for t in result.data["tagged"] if t is not None]
        assert answered and all(("box" in t) is with_box for t in answered)
    assert len({key[-1] for key in PLANS.collected}) == 2  # (True,) and (False,)


def test_another_text_of_the_same_query_is_planned_apart(calls: Calls) -> None:
    _run(parse(TAGGED), {"withBox": True})
    planned = calls.planned
    _run(parse(TAGGED), {"withBox": True})  # other nodes: nothing shared by accident
    assert calls.planned == 2 * planned


def test_which_variables_the_directives_read() -> None:
    document = parse(
        """query Q($a: Boolean!, $b: Boolean!, $first: Int) {
          tagged { label @skip(if: $a) things { ...F } } }
        fragment F on Thing { name @include(if: $b) size }"""
    )
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    fragment = document.definitions[1]
    assert isinstance(fragment, graphql.FragmentDefinitionNode)
    fragments = {"F": graphql.execution.collect_fields.FragmentDetails(fragment)}
    assert directive_variables(operation, fragments) == ("a", "b")  # not `first`
    assert directive_variables(operation, {}) == ("a",)


def test_a_fragment_with_variables_of_its_own_keeps_nothing(calls: Calls) -> None:
    document = parse(
        "query { tagged { things { ...F(big: true) } } } "
        "fragment F($big: Boolean!) on Thing { name @include(if: $big) }",
        experimental_fragment_arguments=True,
    )
    operation = document.definitions[0]
    fragment = document.definitions[1]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    assert isinstance(fragment, graphql.FragmentDefinitionNode)
    fragments = {"F": graphql.execution.collect_fields.FragmentDetails(fragment)}
    assert directive_variables(operation, fragments) is None
    _run(document, {})
    assert PLANS.collected == {} and PLANS.readers == {}


def test_the_tables_are_emptied_at_their_limit(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selection_plans, "LIMIT", 2)
    for _ in range(3):
        _run(parse(TAGGED), {"withBox": True})
        assert len(PLANS.collected) <= 2 and len(PLANS.readers) <= 2


PAGE = """query Page($first: Int!) { organization {
  id name subscription { id status items { product { code } plan { code } seats } }
  invoices(first: $first) { totalCount edges { node { id number total { amount } } } }
  paymentMethods { id brand last4 } } }"""


async def test_the_gateway_collects_a_pages_selections_once(
    gql: GraphQLClient, calls: Calls
) -> None:
    period = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}], period=period
    )
    first = await gql(PAGE, {"first": 5}, as_user=owner)
    assert "errors" not in first, first
    assert calls.collected > 0 and calls.planned > 0
    collected, planned = calls.collected, calls.planned
    again = await gql(PAGE, {"first": 5}, as_user=owner)
    assert again == first
    assert (calls.collected, calls.planned) == (collected, planned)
    assert first["data"]["organization"]["id"] == str(organization.id)
