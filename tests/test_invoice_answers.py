"""schema/invoice_answers.py: the first page of invoices answered from its rows is the answer
the ordinary way gives (INV-1, ACC-3), byte for byte, for every selection it answers; any other
selection, and any row it cannot answer, goes the ordinary way.

Each document runs twice through the real app as the billing admin (or another caller): as
served, and with the plans switched off; the JSON must be identical and the plan must have
answered (or not) as expected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest

from billing.errors import ErrorCode
from resolvers import invoices
from schema import invoice_answers
from schema.invoice_answers import ConnectionPlan, Unusual
from tests.conftest import token_for

ANSWERED = {
    "the benchmark's page": """query Page($first: Int!) { organization { invoices(first: $first) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { id number status total { amount currency }
          amountDue { amount currency } issuedAt dueAt paidAt } } } } }""",
    "every column, aliases, __typename": """{ organization { invoices(first: 3) {
        __typename count: totalCount totalCount
        info: pageInfo { __typename end: endCursor hasNextPage }
        edges { __typename cursor at: cursor node { __typename id key: id number kind status
          total { amount currency __typename } discountTotal { amount }
          creditApplied { currency } due: amountDue { amount }
          issuedAt dueAt paidAt periodStart periodEnd pdfUrl } } } } }""",
    "merged selections and fragments": """query { organization { invoices(first: 2) {
        edges { node { id total { amount } } } edges { cursor node { total { currency } } }
        ...Page } } }
      fragment Page on InvoiceConnection { pageInfo { endCursor } edges { node { ...Inv } } }
      fragment Inv on Invoice { number ... on Invoice { status } }""",
    "edges asked twice under two names": """{ organization { invoices(first: 2) {
        numbers: edges { node { number } } cursors: edges { cursor node { id } } } } }""",
    "one invoice, more after it": """{ organization { invoices(first: 1) {
        pageInfo { hasNextPage endCursor } edges { node { number } } } } }""",
    "a status": """{ organization { invoices(first: 5, status: PAID) {
        totalCount edges { node { number status paidAt } } } } }""",
    "a status no invoice has": """{ organization { invoices(first: 5, status: VOID) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor } } } }""",
    "the count alone": "{ organization { invoices { totalCount } } }",
}
ORDINARY = {
    "the lines": "{ organization { invoices(first: 2) { edges { node { lines { description } } } } } }",
    "an amount's text": "{ organization { invoices { edges { node { total { formatted } } } } } }",
    "a directive": """query ($no: Boolean!) { organization { invoices(first: 2) {
        edges { node { id paidAt @skip(if: $no) } } } } }""",
    "the taxes": "{ organization { invoices { edges { node { tax { total { amount } } } } } } }",
    "disputes": "{ organization { invoices(first: 2) { edges { node { disputed } } } } }",
    "a later page": """{ organization { invoices(first: 1, after: "aW52b2ljZTo5OTk5OTk=") {
        edges { node { id } } } } }""",
}


@contextmanager
def _counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    answered: list[int] = []
    answer = ConnectionPlan.answer

    def counted(plan: ConnectionPlan, *args: Any) -> dict[str, Any]:
        answered.append(1)
        return answer(plan, *args)

    with monkeypatch.context() as patch:
        patch.setattr(ConnectionPlan, "answer", counted)
        yield answered


async def _both_ways(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any] | None = None,
    email: str = "billing@acme.test",
) -> tuple[dict[str, Any], int]:
    headers = {"Authorization": f"Bearer {await token_for(email)}"}
    body = {"query": query, "variables": variables or {}}
    with _counted(monkeypatch) as answered:
        served = await client.post("/graphql", json=body, headers=headers)
    with monkeypatch.context() as patch:
        patch.setattr(invoice_answers.PLANS, "plan", lambda *_: None)
        ordinary = await client.post("/graphql", json=body, headers=headers)
    assert served.status_code == ordinary.status_code == 200
    assert served.content == ordinary.content, (query, served.text, ordinary.text)
    return served.json(), len(answered)


@pytest.mark.parametrize("name", sorted(ANSWERED))
async def test_answered_selections_are_the_ordinary_answer(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    answer, answered = await _both_ways(client, monkeypatch, ANSWERED[name], {"first": 20})
    assert answered == 1
    assert "errors" not in answer
    assert answer["data"]["organization"]["invoices"] is not None


async def test_the_answers_hold_the_seeded_invoices(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer, _ = await _both_ways(client, monkeypatch, ANSWERED["one invoice, more after it"])
    invoices = answer["data"]["organization"]["invoices"]
    assert len(invoices["edges"]) == 1
    assert invoices["edges"][0]["node"]["number"]
    everything, _ = await _both_ways(
        client, monkeypatch, ANSWERED["every column, aliases, __typename"]
    )
    page = everything["data"]["organization"]["invoices"]
    assert page["count"] == page["totalCount"] > 0
    node = page["edges"][0]["node"]
    assert node["key"] == node["id"] and node["pdfUrl"] == f"/invoices/{node['id']}.pdf"
    assert page["info"]["end"] == page["edges"][-1]["at"]


@pytest.mark.parametrize("name", sorted(ORDINARY))
async def test_other_selections_go_the_ordinary_way(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    _, answered = await _both_ways(client, monkeypatch, ORDINARY[name], {"no": False})
    assert answered == 0


async def test_a_member_is_refused_the_invoices_as_before(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ACC-3: the permission is checked before any plan reads a row."""
    answer, answered = await _both_ways(
        client, monkeypatch, ANSWERED["the count alone"], email="member@acme.test"
    )
    assert answered == 0
    assert answer["data"]["organization"]["invoices"] is None
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("first", [0, 101])
async def test_a_page_size_out_of_range_is_refused_as_before(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, first: int
) -> None:
    answer, answered = await _both_ways(
        client, monkeypatch, ANSWERED["the benchmark's page"], {"first": first}
    )
    assert answered == 0
    assert answer["errors"][0]["extensions"]["code"] == ErrorCode.BAD_USER_INPUT.value


async def test_a_row_it_cannot_answer_goes_the_ordinary_way(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A null number (non-null in the schema) is not answered from the row: the ordinary way
    reads the page again and answers it (here, from the real rows)."""
    read = invoices.first_page_columns  # the answer's read, not the ordinary way's
    nulled: list[int] = []

    async def without_numbers(*args: Any) -> tuple[list[Any], int, Any]:
        rows, total, conversions = await read(*args)
        columns = args[-1]
        changed = [list(row) for row in rows]
        for row in changed:
            row[columns.index("number")] = None
        nulled.append(len(rows))
        return changed, total, conversions

    monkeypatch.setattr(invoice_answers, "first_page_columns", without_numbers)
    answer, answered = await _both_ways(
        client, monkeypatch, ANSWERED["the benchmark's page"], {"first": 3}
    )
    assert nulled and nulled[0] > 0 and answered == 1  # planned, tried, and refused
    assert all(
        edge["node"]["number"] for edge in answer["data"]["organization"]["invoices"]["edges"]
    )


def _plan(query: str) -> ConnectionPlan:
    import graphql

    from schema import schema

    document = graphql.parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    organization = operation.selection_set.selections[0]
    assert isinstance(organization, graphql.FieldNode) and organization.selection_set
    invoices = organization.selection_set.selections[0]
    assert isinstance(invoices, graphql.FieldNode)
    plan = invoice_answers.plan_connection([invoices], {}, schema._schema)
    assert plan is not None
    return plan


@pytest.mark.parametrize(
    ("column", "value"),
    [("number", None), ("issued_at", None), ("total", 1.5), ("currency", "XXX"), ("total", 2**31)],
)
def test_values_the_ordinary_way_must_judge_are_not_answered(column: str, value: Any) -> None:
    plan = _plan(
        "{ organization { invoices { edges { node { number total { amount } issuedAt } } } } }"
    )
    row: list[Any] = [7, "INV-7", 1200, "USD", datetime(2026, 3, 1, tzinfo=UTC)]
    columns = plan.columns
    assert columns == ("sequence", "number", "total", "currency", "issued_at")
    as_read = (None,) * len(columns)
    assert plan.answer([row], 20, 1, as_read)["edges"][0]["node"] == {
        "number": "INV-7",
        "total": {"amount": 1200},
        "issuedAt": "2026-03-01T00:00:00+00:00",
    }
    row[columns.index(column)] = value
    with pytest.raises(Unusual):
        plan.answer([row], 20, 1, as_read)


def test_a_value_its_conversion_refuses_is_not_answered() -> None:
    plan = _plan("{ organization { invoices { edges { node { id } } } } }")
    assert plan.columns == ("sequence", "id")
    uuid = UUID("3bb8941b-aef8-4beb-a8fc-26e548931366")
    assert plan.answer([[1, str(uuid)]], 20, 1, (None, UUID)) == {
        "edges": [{"node": {"id": str(uuid)}}]
    }
    with pytest.raises(Unusual):
        plan.answer([[1, "not a uuid"]], 20, 1, (None, UUID))


def test_the_plan_reads_only_the_columns_asked() -> None:
    plan = _plan("{ organization { invoices { totalCount edges { cursor } } } }")
    assert plan.columns == ("sequence",)
    assert plan.answer([[9], [8]], 1, 2, (None,)) == {
        "totalCount": 2,
        "edges": [{"cursor": "aW52b2ljZTo5"}],
    }
    assert json.dumps(plan.answer([], 1, 0, (None,))) == '{"totalCount": 0, "edges": []}'


def _datetime_conversion(zone: str) -> Any:
    from tortoise import timezone
    from tortoise.fields import DatetimeField

    from resolvers.hot_statements import _conversion

    with pytest.MonkeyPatch.context() as patch:  # the zone Tortoise was configured with
        patch.setattr(timezone, "get_default_timezone", lambda: ZoneInfo(zone))
        return _conversion(DatetimeField(null=True))


@pytest.mark.parametrize(
    ("zone", "value", "written"),
    [
        # Tortoise's zone UTC: asyncpg's UTC value written as it is, as converting it writes it.
        ("UTC", datetime(2026, 3, 1, 9, 5, 7, 120, tzinfo=UTC), "2026-03-01T09:05:07.000120+00:00"),
        ("UTC", datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC")), "2026-03-01T00:00:00+00:00"),
        # Another zone: the model's value is that zone's, and so is the answer.
        ("Europe/Rome", datetime(2026, 3, 1, tzinfo=UTC), "2026-03-01T01:00:00+01:00"),
        ("Europe/Rome", datetime(2026, 7, 1, tzinfo=UTC), "2026-07-01T02:00:00+02:00"),
    ],
)
def test_a_date_is_written_as_the_model_holds_it(zone: str, value: datetime, written: str) -> None:
    from resolvers.hot_statements import keeps_utc

    plan = _plan("{ organization { invoices { edges { node { issuedAt paidAt } } } } }")
    assert plan.columns == ("sequence", "issued_at", "paid_at")
    conversion = _datetime_conversion(zone)
    assert keeps_utc(conversion) is (zone == "UTC")
    assert conversion(value).isoformat() == written  # what the ordinary way writes
    answer = plan.answer([[1, value, None]], 20, 1, (None, conversion, conversion))
    assert answer["edges"][0]["node"] == {"issuedAt": written, "paidAt": None}
    with pytest.raises(Unusual):  # issuedAt is non-null
        plan.answer([[1, None, value]], 20, 1, (None, conversion, conversion))


def test_a_status_is_written_by_its_table_and_a_value_outside_it_goes_the_whole_way() -> None:
    from models import Invoice

    plan = _plan("{ organization { invoices { edges { node { status } } } } }")
    assert plan.columns == ("sequence", "status")
    conversion = Invoice._meta.fields_map["status"].to_python_value
    names = invoice_answers.enum_names(conversion, lambda member: member.name, ("PAID", "NOPE"))
    assert names == {"PAID": "PAID"}  # NOPE: the conversion refuses it, so it is left out
    for raw in ("PAID", "OPEN", "VOID"):
        answer = plan.answer([[1, raw]], 20, 1, (None, conversion))
        assert answer["edges"][0]["node"] == {"status": raw}
    for refused in ("NOPE", None, ["PAID"]):
        with pytest.raises(Unusual):
            plan.answer([[1, refused]], 20, 1, (None, conversion))
