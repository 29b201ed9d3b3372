"""What a plan change and its preview cost in SQL statements through the real ASGI app, and that
a change writes only what changed (issue 16: changePlan at most 20 statements, see
MAX_CHANGE_STATEMENTS; the items it does not change are not written again)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tortoise import connections

from models import Subscription, SubscriptionItem
from resolvers.locks import is_postgres
from tests.conftest import GraphQLClient, QueryCounter, bearer
from tests.factories import organization_with

PERIOD = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))
ITEMS: list[dict[str, Any]] = [
    {"product": "messaging", "plan": "growth"},
    {"product": "email", "plan": "email-1000"},
    {"product": "marketing", "plan": "plus", "contact_limit": 1000, "seats": 1},
]
# Issue 16's target. Discounts and taxes had added three reads a charged change makes (the
# discount in force, DSC-1; the customer's billing information for the rate, TAX-1, read again
# when the invoice was issued; the rate of the charge a credit reverses): they are one statement
# now with the issuer, the default card and the open invoices (hot_reads.change_facts), whose
# rows the invoice is issued with and charged to.
MAX_CHANGE_STATEMENTS = 20
# What a change costs now, on PostgreSQL; SQLite takes no advisory lock (one fewer).
UPGRADE_STATEMENTS = 16
DOWNGRADE_STATEMENTS = 9
# Three reads on both: the organization with its subscription, items and add-ons
# (hot_reads.organization_and_subscription), what the change would be decided and issued with
# (hot_reads.change_facts: the default card, the open invoices, the issuer, the billing
# information, the discount, the rate a credit reverses) and the usage counters. The caller is
# kept by the process (resolvers/caller_cache.py), so no user or membership is read.
MAX_PREVIEW_STATEMENTS = 3

PREVIEW = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
  kind timing amountDueNow { amount } lines { description amount { amount } } blockers { code } } }"""
CHANGE = """mutation ($input: PlanChangeInput!, $confirm: Int!) {
  changePlan(input: $input, confirmAmountDue: $confirm) {
  __typename
  ... on PlanChangeApplied { invoice { status amountDue { amount } } subscription { status } }
  ... on PlanChangeScheduled { effectiveAt subscription { status } }
  ... on UserError { code message } } }"""

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _on_this_database(postgres_statements: int) -> int:
    return (
        postgres_statements if is_postgres(connections.get("default")) else postgres_statements - 1
    )


def _writes_to(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if _WRITE.match(s) and f'"{table}"' in s.split("WHERE")[0]]


async def _preview(gql: GraphQLClient, owner: str, change: dict[str, Any]) -> dict[str, Any]:
    body = await gql(PREVIEW, {"input": change}, as_user=owner)
    assert "errors" not in body, body
    preview: dict[str, Any] = body["data"]["previewPlanChange"]
    assert preview["blockers"] == [], preview
    return preview


async def _counted_change(
    gql: GraphQLClient, sql_queries: QueryCounter, owner: str, change: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    due = (await _preview(gql, owner, change))["amountDueNow"]["amount"]
    headers = await bearer(owner)  # the caller and the catalog are kept by the process
    variables = {"input": change, "confirm": due}
    start = sql_queries.count
    response = await gql.http.post(
        "/graphql", json={"query": CHANGE, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["changePlan"], sql_queries.statements[start:]


async def _items_by_product(organization_id: Any) -> dict[int, SubscriptionItem]:
    row = await Subscription.get(organization_id=organization_id)
    return {i.product_id: i for i in await SubscriptionItem.filter(subscription_id=row.id)}


async def _unchanged_items_kept(organization_id: Any, before: dict[int, SubscriptionItem]) -> None:
    after = await _items_by_product(organization_id)
    assert after.keys() == before.keys()
    assert all(after[p].id == before[p].id for p in before)  # no row replaced


async def test_an_immediate_upgrade_with_a_charge_costs_a_fixed_number_of_statements_chg_2(
    gql: GraphQLClient, sql_queries: QueryCounter
) -> None:
    organization, owner = await organization_with(ITEMS, period=PERIOD)
    before = await _items_by_product(organization.id)
    change = {"product": "messaging", "plan": "advanced"}
    result, statements = await _counted_change(gql, sql_queries, owner, change)
    assert result["__typename"] == "PlanChangeApplied", result
    assert result["invoice"]["status"] == "PAID" and result["invoice"]["amountDue"]["amount"] > 0
    assert len(statements) == _on_this_database(UPGRADE_STATEMENTS), "\n".join(statements)
    assert len(statements) <= MAX_CHANGE_STATEMENTS
    # Only the changed line's item is written; the other two lines' rows are not touched.
    item_writes = _writes_to(statements, "subscription_item")
    assert len(item_writes) == 1, item_writes
    assert not _writes_to(statements, "subscription_item_add_on"), statements
    assert not any("catalog_revision" in s or '"product_policy"' in s for s in statements)
    await _unchanged_items_kept(organization.id, before)


async def test_a_scheduled_downgrade_costs_a_fixed_number_of_statements_chg_6(
    gql: GraphQLClient, sql_queries: QueryCounter
) -> None:
    organization, owner = await organization_with(ITEMS, period=PERIOD)
    before = await _items_by_product(organization.id)
    change = {"product": "email", "plan": "email-500"}
    result, statements = await _counted_change(gql, sql_queries, owner, change)
    assert result["__typename"] == "PlanChangeScheduled", result
    assert result["subscription"]["status"] == "DOWNGRADING"
    assert len(statements) == _on_this_database(DOWNGRADE_STATEMENTS), "\n".join(statements)
    assert len(statements) <= MAX_CHANGE_STATEMENTS
    assert len(_writes_to(statements, "subscription_item")) == 1, statements
    assert not _writes_to(statements, "subscription_item_add_on"), statements
    await _unchanged_items_kept(organization.id, before)


async def test_a_preview_reads_a_fixed_number_of_statements_chg_1(
    gql: GraphQLClient, sql_queries: QueryCounter
) -> None:
    _, owner = await organization_with(ITEMS, period=PERIOD)
    change = {"product": "messaging", "plan": "advanced"}
    await _preview(gql, owner, change)  # the caller and the catalog are kept by the process
    headers = await bearer(owner)
    start = sql_queries.count
    response = await gql.http.post(
        "/graphql", json={"query": PREVIEW, "variables": {"input": change}}, headers=headers
    )
    statements = sql_queries.statements[start:]
    assert response.json()["data"]["previewPlanChange"]["blockers"] == []
    assert len(statements) <= MAX_PREVIEW_STATEMENTS, "\n".join(statements)
    assert not any(_WRITE.match(s) for s in statements), statements
