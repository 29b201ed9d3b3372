"""Refunds by operators' API keys (INV-5, ACC-6): partial, full, and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from billing.clock import FixedClock
from models import Invoice, Organization, Refund
from payments.sandbox import SandboxProcessor
from resolvers.api_keys import SCOPES, ApiKeyPrincipal, create_api_key
from schema import schema
from schema.context import Context
from schema.errors import coded_error
from tests.conftest import SEEDED_AT, GraphQLClient, trusted_request
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
REFUND = """mutation ($id: ID!, $amount: Int) { refundInvoice(invoiceId: $id, amount: $amount, reason: "Goodwill") {
  __typename ... on InvoiceRefunded { invoice { status } } ... on UserError { code message field } } }"""


async def _refund_as_key(
    client: httpx.AsyncClient, key: str, invoice_id: object, amount: int | None = None
) -> dict[str, Any]:
    variables = {"invoiceId": str(invoice_id), "amount": amount, "reason": "Goodwill"}
    response = await client.post(
        "/graphql",
        json=trusted_request("RefundInvoice", variables),
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

    partial = await _refund_as_key(client, key, invoice.id, 500)
    assert partial["data"]["refundInvoice"] == {
        "__typename": "InvoiceRefunded",
        "invoice": {
            "id": str(invoice.id),
            "number": invoice.number,
            "status": "PARTIALLY_REFUNDED",
        },
        # CRN-1: the refund's credit note, untaxed (no billing address): $5.00 to the card.
        "creditNote": {
            "number": f"CN-{organization.slug.upper()}-00001",
            "total": {"amount": 500},
            "tax": {"amount": 0},
            "destination": "REFUNDED_TO_CARD",
        },
    }
    too_much = await _refund_as_key(client, key, invoice.id, 517)
    assert too_much["data"]["refundInvoice"]["field"] == "amount"
    assert "at most $5.16 is left to refund" in too_much["data"]["refundInvoice"]["message"]
    rest = await _refund_as_key(client, key, invoice.id)
    assert rest["data"]["refundInvoice"]["invoice"]["status"] == "REFUNDED"
    assert [
        r.amount for r in await Refund.filter(invoice_id=invoice.id).order_by("created_at")
    ] == [500, 516]
    again = await _refund_as_key(client, key, invoice.id)
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
    wrong_scope = await _refund_as_key(client, usage_only, invoice.id)
    assert (
        wrong_scope["errors"][0]["message"]
        == "Refunds need an API key with the scope billing:refund."
    )
    other_tenant = await _refund_as_key(client, acme_key, invoice.id)  # ACC-5
    assert other_tenant["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    forged = await client.post(
        "/graphql",
        json={"query": "{ catalog { currency } }"},
        headers={"Authorization": "Bearer bgk_000000000000_nope"},
    )
    assert forged.status_code == 401
    key_on_user_fields = await client.post(
        "/graphql",
        json={"query": "{ organization { name } }"},
        headers={"Authorization": f"Bearer {acme_key}"},
    )
    assert key_on_user_fields.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # ACC-6
    assert (await Invoice.get(id=invoice.id)).status == "PAID"


@pytest.mark.usefixtures("database")
async def test_api_keys_get_no_user_fields_even_past_the_trusted_documents() -> None:
    # ACC-3, ACC-6: the trusted-document check refuses a key's own query text before it runs;
    # behind it, the fields still refuse a key (defence in depth, checked on the schema itself).
    key = ApiKeyPrincipal(uuid4(), (await Organization.get(slug="acme")).id, frozenset(SCOPES))
    context = Context(
        viewer=None,
        clock=FixedClock(SEEDED_AT),
        sandbox=True,
        processor=SandboxProcessor(),
        api_key=key,
    )
    result = await schema.execute(
        "{ organization { name } viewer { user { email } } }", context_value=context
    )
    assert result.errors
    assert {(coded_error(e).extensions or {}).get("code") for e in result.errors} == {
        "UNAUTHENTICATED"
    }
