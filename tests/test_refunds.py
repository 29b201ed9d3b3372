"""Refunds by operators' API keys (INV-5, ACC-6): partial, full, and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models import Invoice, Refund
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
REFUND = """mutation ($id: ID!, $amount: Int) { refundInvoice(invoiceId: $id, amount: $amount, reason: "Goodwill") {
  __typename ... on InvoiceRefunded { invoice { status } } ... on UserError { code message field } } }"""


async def _as_key(
    client: httpx.AsyncClient, key: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def test_partial_then_full_refund(client: httpx.AsyncClient, gql: GraphQLClient) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    await gql(
        'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { __typename } }',
        as_user=owner,
    )
    invoice = await Invoice.get(organization_id=organization.id)
    key = await create_api_key(
        organization.slug, "support desk", ["billing:refund"], datetime.now(UTC)
    )

    partial = await _as_key(client, key, REFUND, {"id": str(invoice.id), "amount": 500})
    assert partial["data"]["refundInvoice"] == {
        "__typename": "InvoiceRefunded",
        "invoice": {"status": "PARTIALLY_REFUNDED"},
    }
    too_much = await _as_key(client, key, REFUND, {"id": str(invoice.id), "amount": 517})
    assert too_much["data"]["refundInvoice"]["field"] == "amount"
    assert "at most $5.16 is left to refund" in too_much["data"]["refundInvoice"]["message"]
    rest = await _as_key(client, key, REFUND, {"id": str(invoice.id)})
    assert rest["data"]["refundInvoice"]["invoice"]["status"] == "REFUNDED"
    assert [
        r.amount for r in await Refund.filter(invoice_id=invoice.id).order_by("created_at")
    ] == [500, 516]
    again = await _as_key(client, key, REFUND, {"id": str(invoice.id)})
    assert "only paid ones are refunded" in again["data"]["refundInvoice"]["message"]


async def test_who_may_refund(client: httpx.AsyncClient, gql: GraphQLClient) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    await gql(
        'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { __typename } }',
        as_user=owner,
    )
    invoice = await Invoice.get(organization_id=organization.id)
    usage_only = await create_api_key(
        organization.slug, "ingest", ["usage:write"], datetime.now(UTC)
    )
    acme_key = await create_api_key("acme", "acme desk", ["billing:refund"], datetime.now(UTC))

    by_user = await gql(REFUND, {"id": str(invoice.id)}, as_user=owner)
    assert by_user["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    wrong_scope = await _as_key(client, usage_only, REFUND, {"id": str(invoice.id)})
    assert (
        wrong_scope["errors"][0]["message"]
        == "Refunds need an API key with the scope billing:refund."
    )
    other_tenant = await _as_key(client, acme_key, REFUND, {"id": str(invoice.id)})  # ACC-5
    assert other_tenant["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    forged = await client.post(
        "/graphql",
        json={"query": "{ catalog { currency } }"},
        headers={"Authorization": "Bearer bgk_000000000000_nope"},
    )
    assert forged.status_code == 401
    key_on_user_fields = await _as_key(client, acme_key, "{ organization { name } }", {})
    assert key_on_user_fields["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await Invoice.get(id=invoice.id)).status == "PAID"
