"""The audit log (issue 13 item 6): who did what, when, from where, with the amounts; read by
owners and billing admins (ACC-3) and the partner scope, paginated, never changed by the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models import AuditEntry, Invoice
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, GraphQLClient, error_codes, trusted_request
from tests.factories import member_of, organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
ITEMS = [{"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"}]
LOG = """query ($first: Int!, $after: String) { organization { auditLog(first: $first, after: $after) {
  edges { cursor node { action actor { kind label } summary } } pageInfo { hasNextPage endCursor } } } }"""


async def _walk(gql: GraphQLClient, owner: str) -> None:
    """Three billing actions by the owner, and one refused (a UserError changed nothing)."""
    for preference in ("AUTO_UPGRADE", "FLEXIBLE_OVERAGE", "NONE"):
        body = await gql(
            f'mutation {{ setUpgradePreference(product: "email", preference: {preference}) '
            "{ __typename } }",
            as_user=owner,
        )
        assert body["data"]["setUpgradePreference"]["__typename"] == "ProductPreferences"
    refused = await gql(
        'mutation { setUpgradePreference(product: "nope", preference: NONE) { __typename } }',
        as_user=owner,
    )
    assert refused["data"]["setUpgradePreference"]["__typename"] == "UserError"


async def test_owners_page_through_the_log_and_members_cannot_read_it_rule_acc_3(
    gql: GraphQLClient,
) -> None:
    organization, owner = await organization_with(ITEMS, period=PERIOD)
    await _walk(gql, owner)

    first = (await gql(LOG, {"first": 2}, as_user=owner))["data"]["organization"]["auditLog"]
    assert [e["node"]["summary"] for e in first["edges"]] == [
        "setUpgradePreference: ProductPreferences"
    ] * 2
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await gql(LOG, {"first": 2, "after": first["pageInfo"]["endCursor"]}, as_user=owner)
    page = rest["data"]["organization"]["auditLog"]
    assert len(page["edges"]) == 1 and page["pageInfo"]["hasNextPage"] is False
    assert page["edges"][0]["node"]["actor"] == {"kind": "USER", "label": owner}
    rows = await AuditEntry.filter(organization_id=organization.id).order_by("id")
    assert [r.details["preference"] for r in rows] == ["AUTO_UPGRADE", "FLEXIBLE_OVERAGE", "NONE"]

    billing_admin = f"billing@{organization.slug}.test"
    assert (await gql(LOG, {"first": 5}, as_user=billing_admin))["data"]["organization"][
        "auditLog"
    ]["edges"]
    member = await member_of(organization)
    denied = await gql(LOG, {"first": 5}, as_user=member)
    assert error_codes(denied) == ["FORBIDDEN"]
    assert denied["data"]["organization"]["auditLog"] is None
    assert "owner and billing admins" in denied["errors"][0]["message"]

    bad = await gql(LOG, {"first": 5, "after": "not-a-cursor"}, as_user=owner)
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_the_partner_scope_reads_the_log(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(ITEMS, period=PERIOD)
    await _walk(gql, owner)
    key = await create_api_key(organization.slug, "saas", ["entitlements:read"], datetime.now(UTC))
    response = await client.post(
        "/graphql",
        json=trusted_request("AuditLog", {"first": 10}),
        headers={"Authorization": f"Bearer {key}"},
    )
    body: dict[str, Any] = response.json()
    nodes = [e["node"] for e in body["data"]["auditLog"]["edges"]]
    assert [n["action"] for n in nodes] == ["setUpgradePreference"] * 3
    assert nodes[0]["occurredAt"] == SEEDED_AT.isoformat()
    assert nodes[0]["clientAddress"] == "127.0.0.1"


async def test_no_mutation_writes_or_changes_the_log(gql: GraphQLClient) -> None:
    body = await gql("{ __schema { mutationType { fields { name } } } }")
    names = [f["name"] for f in body["data"]["__schema"]["mutationType"]["fields"]]
    assert names and not [n for n in names if "audit" in n.lower()]


async def test_refunds_record_the_amount_refunded_before_and_after_rule_inv_5(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(ITEMS, period=PERIOD)
    change = {"product": "email", "plan": "email-1500"}
    preview = await gql(
        "query ($i: PlanChangeInput!) { previewPlanChange(input: $i) { amountDueNow { amount } } }",
        {"i": change},
        as_user=owner,
    )
    due = preview["data"]["previewPlanChange"]["amountDueNow"]["amount"]
    await gql(
        "mutation ($i: PlanChangeInput!, $d: Int!) { changePlan(input: $i, confirmAmountDue: $d) "
        "{ __typename } }",
        {"i": change, "d": due},
        as_user=owner,
    )
    invoice = await Invoice.get(organization_id=organization.id)
    key = await create_api_key(organization.slug, "desk", ["billing:refund"], datetime.now(UTC))
    for amount in (500, None):
        response = await client.post(
            "/graphql",
            json=trusted_request(
                "RefundInvoice", {"invoiceId": str(invoice.id), "amount": amount, "reason": "x"}
            ),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.json()["data"]["refundInvoice"]["__typename"] == "InvoiceRefunded"
    refunds = await AuditEntry.filter(organization_id=organization.id, action="refundInvoice")
    assert [(e.amount_subject, e.amount_before, e.amount_after) for e in refunds] == [
        ("AMOUNT_REFUNDED", 0, 500),
        ("AMOUNT_REFUNDED", 500, due),
    ]
    assert {e.actor_kind for e in refunds} == {"API_KEY"}
