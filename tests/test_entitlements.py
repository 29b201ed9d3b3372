"""Entitlements (EVT-2): features and metered limits, for members (ACC-3) and partner keys,
before and after a plan change, blocked reasons, and what one call costs in SQL statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from billing.subscription_status import SubscriptionStatus
from models import Organization
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, GraphQLClient, QueryCounter, token_for, trusted_request
from tests.factories import member_of, organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
ACME_LIKE = [
    {"product": "messaging", "plan": "growth"},
    {"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"},
]
ENTITLEMENTS = """{ organization { entitlements { status products { product plan
  features { feature enabled } limits { metric limit used remaining resetsAt allowed reason } } } } }"""
PREVIEW = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
  amountDueNow { amount } } }"""
CHANGE = """mutation ($input: PlanChangeInput!, $due: Int!) {
  changePlan(input: $input, confirmAmountDue: $due) { __typename } }"""


async def _as_key(
    client: httpx.AsyncClient, key: str, operation: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json=trusted_request(operation, variables),
        headers={"Authorization": f"Bearer {key}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def _record(client: httpx.AsyncClient, organization: Organization, emails: int) -> None:
    key = await create_api_key(organization.slug, "app", ["usage:write"], datetime.now(UTC))
    event = {"id": f"e-{emails}", "product": "email", "metric": "emails", "quantity": emails}
    body = await _as_key(client, key, "RecordUsage", {"events": [event]})
    assert body["data"]["recordUsage"]["accepted"] == 1, body


def _by_product(body: dict[str, Any]) -> dict[str, Any]:
    products = body["data"]["organization"]["entitlements"]["products"]
    return {p["product"]: p for p in products}


async def test_entitlements_before_and_after_a_plan_change_rule_evt_2(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(ACME_LIKE, period=PERIOD)
    member = await member_of(organization)
    await _record(client, organization, 7200)

    before = _by_product(await gql(ENTITLEMENTS, as_user=member))  # ACC-3: no amounts in it
    assert before["messaging"]["plan"] == "growth"
    assert before["messaging"]["features"] == [
        {"feature": "inbox", "enabled": True},
        {"feature": "broadcasts", "enabled": True},
        {"feature": "workflows", "enabled": True},
        {"feature": "ai_assist", "enabled": True},
        {"feature": "custom_roles", "enabled": False},
        {"feature": "api_access", "enabled": False},
    ]
    assert before["messaging"]["limits"][0] | {"resetsAt": None} == {
        "metric": "mac",
        "limit": 1000,
        "used": 0,
        "remaining": 1000,
        "resetsAt": None,
        "allowed": True,
        "reason": "ALLOWED",
    }
    assert before["messaging"]["limits"][0]["resetsAt"] == PERIOD[1].isoformat()
    emails = {m["metric"]: m for m in before["email"]["limits"]}["emails"]
    assert (emails["limit"], emails["used"], emails["remaining"]) == (10000, 7200, 2800)

    change = {"product": "messaging", "plan": "advanced"}
    due = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    applied = await gql(
        CHANGE, {"input": change, "due": due["amountDueNow"]["amount"]}, as_user=owner
    )
    assert applied["data"]["changePlan"]["__typename"] == "PlanChangeApplied"

    after = _by_product(await gql(ENTITLEMENTS, as_user=member))
    assert after["messaging"]["plan"] == "advanced"
    assert all(f["enabled"] for f in after["messaging"]["features"])
    assert after["messaging"]["limits"][0]["limit"] == 2000
    assert after["messaging"]["limits"][0]["remaining"] == 2000
    # The meters read the same billing month as the entitlements (an upgrade of this product
    # starts a new period, so the month's counts start again).
    meters = await gql("{ organization { usage { product metric used } } }", as_user=member)
    used = {(m["product"], m["metric"]): m["used"] for m in meters["data"]["organization"]["usage"]}
    for product in after.values():
        for limit in product["limits"]:
            assert limit["used"] == used[(product["product"], limit["metric"])]


async def test_entitlements_say_why_usage_is_blocked_rule_evt_2(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    at_limit, owner = await organization_with(ACME_LIKE, period=PERIOD)
    await _record(client, at_limit, 10000)
    emails = {
        m["metric"]: m
        for m in _by_product(await gql(ENTITLEMENTS, as_user=owner))["email"]["limits"]
    }
    assert emails["emails"] | {"resetsAt": None} == {
        "metric": "emails",
        "limit": 10000,
        "used": 10000,
        "remaining": 0,
        "resetsAt": None,
        "allowed": False,
        "reason": "LIMIT_REACHED",  # NONE: nothing is bought at the limit
    }
    assert emails["profiles"]["resetsAt"] is None  # what is stored does not reset
    expected = {
        SubscriptionStatus.FROZEN: "SUBSCRIPTION_FROZEN",
        SubscriptionStatus.CANCELLING: "SUBSCRIPTION_CANCELLING",
        SubscriptionStatus.TRIAL_ENDED: "TRIAL_ENDED",
    }
    for status, reason in expected.items():
        _, owner = await organization_with(ACME_LIKE, period=PERIOD, status=status)
        body = await gql(ENTITLEMENTS, as_user=owner)
        entitlements = body["data"]["organization"]["entitlements"]
        assert entitlements["status"] == status.value
        limits = [m for p in entitlements["products"] for m in p["limits"]]
        assert {(m["allowed"], m["reason"]) for m in limits} == {(False, reason)}, status


async def test_a_partner_key_reads_the_same_entitlements_rule_evt_2(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(ACME_LIKE, period=PERIOD)
    await _record(client, organization, 1234)
    key = await create_api_key(
        organization.slug, "saas backend", ["entitlements:read"], datetime.now(UTC)
    )
    as_partner = (await _as_key(client, key, "Entitlements", {}))["data"]["entitlements"]
    as_owner = (await gql(ENTITLEMENTS, as_user=owner))["data"]["organization"]["entitlements"]
    assert as_partner["status"] == as_owner["status"] == "ACTIVE"
    partner_products = {p["product"]: p for p in as_partner["products"]}
    for product in as_owner["products"]:
        assert {k: partner_products[product["product"]][k] for k in product} == product

    usage_key = await create_api_key(organization.slug, "app", ["usage:write"], datetime.now(UTC))
    refused = await _as_key(client, usage_key, "Entitlements", {})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "entitlements:read" in refused["errors"][0]["message"]


async def test_an_entitlements_call_costs_two_sql_statements_rule_evt_2(
    client: httpx.AsyncClient, sql_queries: QueryCounter
) -> None:
    organization, owner = await organization_with(ACME_LIKE, period=PERIOD)
    key = await create_api_key(
        organization.slug, "saas backend", ["entitlements:read"], datetime.now(UTC)
    )
    await _as_key(client, key, "Entitlements", {})  # the process now keeps the key and catalog
    before = sql_queries.count
    body = await _as_key(client, key, "Entitlements", {})
    assert "errors" not in body, body
    statements = sql_queries.statements[before:]
    # 2 (the lines joined to their subscription and organization, then this month's counters);
    # the whole request's cost, caches included, is tests/test_request_cost.py's
    assert len(statements) == 2, statements

    token = await token_for(owner)
    headers = {"Authorization": f"Bearer {token}"}

    async def cost(query: str) -> int:
        start = sql_queries.count
        response = await client.post("/graphql", json={"query": query}, headers=headers)
        assert "errors" not in response.json(), response.json()
        return sql_queries.count - start

    without = "{ catalog { currency } organization { id } }"
    await cost(without)  # the process now keeps the viewer
    assert await cost(without) == 0  # the viewer, the catalog and the organization's id: kept
    with_entitlements = ENTITLEMENTS.replace(
        "{ organization", "{ catalog { currency } organization"
    )
    assert await cost(with_entitlements) == 2
