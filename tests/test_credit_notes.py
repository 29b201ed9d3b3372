"""Credit notes through the API (CRN-1): an annual -> monthly switch issues an invoice that is
never negative and a credit note for the excess credit, added to the credit balance; a partial
refund's credit note reverses tax at the rates of the invoice it refunds; numbers run in their own
sequence; only billing roles read them; `credit_note.issued` is sent as a webhook. Expected
amounts are literals, checked against an independent calculation with exact fractions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from billing.clock import FixedClock
from billing.invoices import InvoiceKind
from billing.periods import BillingInterval
from billing.quote import Line
from models import (
    BillingInfo,
    CreditNote,
    Invoice,
    InvoiceLine,
    Membership,
    Organization,
    User,
    WebhookEvent,
)
from resolvers.api_keys import create_api_key
from resolvers.invoicing import InvoiceContent, issue_invoice
from tests.conftest import SEEDED_AT, GraphQLClient, token_for, trusted_request
from tests.factories import organization_with
from tests.webhook_receiver import platform_key, register

MONEY = "{ amount }"
NOTE = f"""id number invoiceId currency subtotal {MONEY} tax {MONEY} total {MONEY} reason
  destination issuedAt pdfUrl invoice {{ id number }}
  lines {{ description amount {MONEY} tax {MONEY} taxRate {{ label }} total {MONEY} }}"""
NOTES = f"""{{ organization {{ creditBalance {MONEY}
  creditNotes(first: 10) {{ totalCount pageInfo {{ hasNextPage }} edges {{ node {{ {NOTE} }} }} }} }} }}"""
PREVIEW = f"""query ($input: PlanChangeInput!) {{ previewPlanChange(input: $input) {{
  amountDueNow {MONEY} total {MONEY} creditBalanceAfter {MONEY}
  lines {{ description total {MONEY} }}
  creditNote {{ destination subtotal {MONEY} tax {MONEY} total {MONEY}
    lines {{ description amount {MONEY} tax {MONEY} total {MONEY} }} }} }} }}"""
CHANGE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!) {{
  changePlan(input: $input, confirmAmountDue: $confirm) {{ __typename
  ... on PlanChangeApplied {{ invoice {{ id number status total {MONEY} amountDue {MONEY}
    lines {{ description total {MONEY} }} creditNotes {{ number }} }} }}
  ... on UserError {{ code message }} }} }}"""

# The year the Business plan was bought for, paid; the switch is asked on SEEDED_AT (12 Mar).
YEAR = (datetime(2025, 12, 2, 9, 30, tzinfo=UTC), datetime(2026, 12, 2, 9, 30, tzinfo=UTC))
MONTH = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))


def half_away(value: Fraction) -> int:
    """MNY-2's rounding, with Decimal's ROUND_HALF_UP (away from zero), not billing's."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture
def clock_at(clock: FixedClock) -> Iterator[FixedClock]:
    clock.set(SEEDED_AT)
    yield clock
    clock.set(SEEDED_AT)


async def _annual_business() -> tuple[Organization, str, Invoice]:
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}], period=YEAR, interval=BillingInterval.ANNUAL
    )
    paid = await Invoice.create(
        organization=organization,
        number=f"{organization.slug.upper()}-00001",
        sequence=1,
        kind="SUBSCRIPTION",
        status="PAID",
        currency="USD",
        total=45000,
        amount_due=45000,
        issued_at=YEAR[0],
        due_at=YEAR[0],
        paid_at=YEAR[0],
        period_start=YEAR[0],
        period_end=YEAR[1],
    )
    await InvoiceLine.create(
        invoice=paid,
        position=0,
        description="Store Business, 2 Dec 2025 to 2 Dec 2026",
        amount=45000,
        period_start=YEAR[0],
        period_end=YEAR[1],
    )
    organization.invoice_sequence = 1
    await organization.save(update_fields=["invoice_sequence"])
    return organization, owner, paid


async def test_annual_to_monthly_switch_issues_a_credit_note_rule_crn_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    organization, owner, annual = await _annual_business()
    # 265 of 365 days unused: -$450.00 x 265/365 = -$326.71 credited, $45.00 charged for the
    # new month; the invoice keeps $45.00 of the credit (total $0.00), $281.71 is credited.
    unused = half_away(Fraction(45000) * Fraction(265, 365))
    assert unused == 32671
    excess = unused - 4500
    assert excess == 28171
    change = {"product": "store", "billingInterval": "MONTHLY"}

    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    assert preview["amountDueNow"] == {"amount": 0}
    assert preview["total"] == {"amount": 0}  # never negative (CRN-1)
    assert [line["total"]["amount"] for line in preview["lines"]] == [-4500, 4500]
    assert preview["creditBalanceAfter"] == {"amount": excess}
    assert preview["creditNote"] == {
        "destination": "CREDIT_BALANCE",
        "subtotal": {"amount": excess},
        "tax": {"amount": 0},
        "total": {"amount": excess},
        "lines": [
            {
                "description": "Unused time on Store Business after 12 Mar 2026",
                "amount": {"amount": excess},
                "tax": {"amount": 0},
                "total": {"amount": excess},
            }
        ],
    }

    applied = (await gql(CHANGE, {"input": change, "confirm": 0}, as_user=owner))["data"][
        "changePlan"
    ]
    assert applied["__typename"] == "PlanChangeApplied", applied
    invoice = applied["invoice"]
    assert (invoice["status"], invoice["total"], invoice["amountDue"]) == (
        "PAID",
        {"amount": 0},
        {"amount": 0},
    )
    assert invoice["lines"] == preview["lines"]  # preview == what is applied
    assert invoice["creditNotes"] == []  # the credit note corrects the annual invoice

    listed = (await gql(NOTES, as_user=owner))["data"]["organization"]
    assert listed["creditBalance"] == {"amount": excess}
    assert listed["creditNotes"]["totalCount"] == 1
    note = listed["creditNotes"]["edges"][0]["node"]
    slug = organization.slug.upper()
    assert note["number"] == f"CN-{slug}-00001"
    assert (note["invoiceId"], note["invoice"]["number"]) == (str(annual.id), annual.number)
    assert (note["subtotal"], note["tax"], note["total"]) == (
        {"amount": excess},
        {"amount": 0},
        {"amount": excess},
    )
    assert note["destination"] == "CREDIT_BALANCE"
    assert note["pdfUrl"] == f"/credit-notes/{note['id']}.pdf"
    assert [(line["description"], line["total"]["amount"]) for line in note["lines"]] == [
        (line["description"], line["total"]["amount"]) for line in preview["creditNote"]["lines"]
    ]
    assert await Invoice.filter(organization_id=organization.id, total__lt=0).count() == 0


async def _italian_upgrade(gql: GraphQLClient) -> tuple[Organization, str, Invoice]:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=MONTH
    )
    await BillingInfo.create(
        organization=organization,
        company_name="Rossi Design",
        billing_email="a@r.test",
        country="IT",
    )
    # CHG-3 at 22 % (IT), 21 of 31 days: -$20.32 - $4.47 VAT, +$30.48 + $6.71 VAT = $12.40.
    credit, charge = half_away(Fraction(-3000 * 21, 31)), half_away(Fraction(4500 * 21, 31))
    vat = half_away(Fraction(credit * 22, 100)) + half_away(Fraction(charge * 22, 100))
    assert (credit, charge, vat) == (-2032, 3048, 224)
    applied = (
        await gql(
            CHANGE,
            {"input": {"product": "email", "plan": "email-1500"}, "confirm": 1240},
            as_user=owner,
        )
    )["data"]["changePlan"]
    assert applied["__typename"] == "PlanChangeApplied", applied
    return organization, owner, await Invoice.get(id=applied["invoice"]["id"])


async def _refund(client: httpx.AsyncClient, key: str, invoice: Invoice, amount: int | None) -> Any:
    variables = {"invoiceId": str(invoice.id), "amount": amount, "reason": "Goodwill"}
    response = await client.post(
        "/graphql",
        json=trusted_request("RefundInvoice", variables),
        headers={"Authorization": f"Bearer {key}"},
    )
    return response.json()["data"]["refundInvoice"]


async def test_partial_refund_credit_note_with_italian_vat_rule_crn_1(
    client: httpx.AsyncClient, gql: GraphQLClient, clock_at: FixedClock
) -> None:
    organization, owner, invoice = await _italian_upgrade(gql)
    key = await create_api_key(organization.slug, "desk", ["billing:refund"], SEEDED_AT)
    slug = organization.slug.upper()

    first = await _refund(client, key, invoice, 500)
    # $5.00 of $12.40, all at 22 %: $5.00 x 22/122 = $0.9016 -> $0.90 VAT, $4.10 without it.
    assert half_away(Fraction(500 * 22, 122)) == 90
    assert first["creditNote"] == {
        "number": f"CN-{slug}-00001",
        "total": {"amount": 500},
        "tax": {"amount": 90},
        "destination": "REFUNDED_TO_CARD",
    }
    rest = await _refund(client, key, invoice, None)
    # The rest, $7.40: the two credit notes reverse the invoice's $10.16 and $2.24 VAT exactly.
    assert rest["invoice"]["status"] == "REFUNDED"
    assert rest["creditNote"] == {
        "number": f"CN-{slug}-00002",  # sequential per organization (CRN-1)
        "total": {"amount": 740},
        "tax": {"amount": 134},
        "destination": "REFUNDED_TO_CARD",
    }

    listed = (await gql(NOTES, as_user=owner))["data"]["organization"]["creditNotes"]
    assert listed["totalCount"] == 2
    newest, oldest = (edge["node"] for edge in listed["edges"])
    assert [newest["number"], oldest["number"]] == [f"CN-{slug}-00002", f"CN-{slug}-00001"]
    assert oldest["lines"] == [
        {
            "description": f"Refund of {invoice.number}",
            "amount": {"amount": 410},
            "tax": {"amount": 90},
            "taxRate": {"label": "VAT 22 % (IT)"},
            "total": {"amount": 500},
        }
    ]
    assert (oldest["subtotal"], oldest["reason"]) == ({"amount": 410}, "Goodwill")
    assert newest["subtotal"] == {"amount": 606}
    on_invoice = f"{{ organization {{ invoices(first: 5) {{ edges {{ node {{ id creditNotes {{ number total {MONEY} }} }} }} }} }} }}"
    nodes = (await gql(on_invoice, as_user=owner))["data"]["organization"]["invoices"]["edges"]
    refunded = next(e["node"] for e in nodes if e["node"]["id"] == str(invoice.id))
    assert refunded["creditNotes"] == [
        {"number": f"CN-{slug}-00001", "total": {"amount": 500}},
        {"number": f"CN-{slug}-00002", "total": {"amount": 740}},
    ]


async def test_only_billing_roles_read_credit_notes_rule_crn_1(
    client: httpx.AsyncClient, gql: GraphQLClient, clock_at: FixedClock
) -> None:
    organization, owner, _ = await _annual_business()
    await gql(
        CHANGE,
        {"input": {"product": "store", "billingInterval": "MONTHLY"}, "confirm": 0},
        as_user=owner,
    )
    note = await CreditNote.get(organization_id=organization.id)
    member = await User.create(email=f"member@{organization.slug}.test", name="Member")
    await Membership.create(organization=organization, user=member, role="MEMBER")

    refused = await gql(
        "{ organization { creditNotes(first: 5) { totalCount } } }", as_user=member.email
    )
    assert refused["data"]["organization"]["creditNotes"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    url = f"/credit-notes/{note.id}.pdf"
    as_member = await client.get(
        url, headers={"Authorization": f"Bearer {await token_for(member.email)}"}
    )
    assert as_member.status_code == 403
    assert as_member.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await client.get(url)).status_code == 401
    other = await client.get(
        url, headers={"Authorization": f"Bearer {await token_for('owner@acme.test')}"}
    )
    assert other.status_code == 404  # ACC-5: another organization's credit note is not there
    billing = await client.get(
        url,
        headers={"Authorization": f"Bearer {await token_for(f'billing@{organization.slug}.test')}"},
    )
    assert billing.status_code == 200
    assert billing.headers["content-type"] == "application/pdf"
    assert billing.content.startswith(b"%PDF-")
    assert note.number in billing.headers["content-disposition"]


async def test_credit_note_issued_webhook_is_enqueued_rule_crn_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient, clock_at: FixedClock
) -> None:
    key = await platform_key(["webhooks:write"])
    registered = await register(
        webhook_client, key, "http://127.0.0.1:9/hooks", ["credit_note.issued"]
    )
    assert registered["__typename"] == "WebhookEndpointRegistered", registered
    organization, owner, annual = await _annual_business()
    await gql(
        CHANGE,
        {"input": {"product": "store", "billingInterval": "MONTHLY"}, "confirm": 0},
        as_user=owner,
    )
    events = await WebhookEvent.filter(organization_id=organization.id)
    assert [event.type for event in events] == ["credit_note.issued"]
    data = json.loads(events[0].body)["data"]["credit_note"]
    note = await CreditNote.get(organization_id=organization.id)
    assert data["id"] == str(note.id)
    assert (data["number"], data["invoice_id"]) == (note.number, str(annual.id))
    assert (data["total"], data["tax"], data["destination"]) == (28171, 0, "CREDIT_BALANCE")


async def test_credit_notes_are_paginated_like_invoices_rule_crn_1(
    client: httpx.AsyncClient, gql: GraphQLClient, clock_at: FixedClock
) -> None:
    organization, owner, invoice = await _italian_upgrade(gql)
    key = await create_api_key(organization.slug, "desk", ["billing:refund"], SEEDED_AT)
    for amount in (100, 200, 300):
        assert (await _refund(client, key, invoice, amount))["__typename"] == "InvoiceRefunded"
    page = """query ($after: String, $first: Int!) { organization { creditNotes(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { number total { amount } } } } } }"""
    slug = organization.slug.upper()
    first = (await gql(page, {"first": 2}, as_user=owner))["data"]["organization"]["creditNotes"]
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["number"] for e in first["edges"]] == [f"CN-{slug}-00003", f"CN-{slug}-00002"]
    after = first["pageInfo"]["endCursor"]
    rest = (await gql(page, {"first": 2, "after": after}, as_user=owner))["data"]["organization"]
    assert rest["creditNotes"]["pageInfo"]["hasNextPage"] is False
    assert [e["node"] for e in rest["creditNotes"]["edges"]] == [
        {"number": f"CN-{slug}-00001", "total": {"amount": 100}}
    ]
    for variables, field in (({"first": 0}, "first"), ({"first": 2, "after": "nope"}, "after")):
        refused = await gql(page, variables, as_user=owner)
        error = refused["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["field"] == field, error


async def test_upgrade_after_prepaid_downgrade_credits_the_excess_rule_crn_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    # CHG-7 then CHG-3, 21 of 31 days left. Unlimited ($105.00) -> Venture ($25.00) at once:
    # $71.13 unused pays the month's $16.94 and two prepaid months ($50.00); $4.19 is dropped.
    _, owner = await organization_with([{"product": "store", "plan": "unlimited"}], period=MONTH)
    unused, rest = half_away(Fraction(10500 * 21, 31)), half_away(Fraction(2500 * 21, 31))
    assert (unused, rest, (unused - rest) // 2500) == (7113, 1694, 2)
    down = {"input": {"product": "store", "plan": "venture"}, "confirm": 0}
    downgraded = (await gql(CHANGE, down, as_user=owner))["data"]["changePlan"]
    assert downgraded["invoice"]["total"] == {"amount": 0}
    assert downgraded["invoice"]["creditNotes"] == []  # nothing beyond its charges
    # Venture -> Business: -$16.94 unused, -$50.00 prepaid months back, +$30.48 for Business.
    charge = half_away(Fraction(4500 * 21, 31))
    assert charge == 3048
    excess = rest + 5000 - charge
    assert excess == 3646
    change = {"product": "store", "plan": "business"}
    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    assert preview["creditNote"]["total"] == {"amount": excess}
    up = (await gql(CHANGE, {"input": change, "confirm": 0}, as_user=owner))["data"]["changePlan"]
    invoice = up["invoice"]
    # The invoice keeps the month's credit and $13.54 of the prepaid months: $0.00.
    assert [line["total"]["amount"] for line in invoice["lines"]] == [-1694, -1354, 3048]
    assert invoice["total"] == {"amount": 0}
    assert invoice["lines"] == preview["lines"]
    notes = (await gql(NOTES, as_user=owner))["data"]["organization"]
    assert notes["creditBalance"] == {"amount": excess}
    note = notes["creditNotes"]["edges"][0]["node"]
    assert note["total"] == {"amount": excess}
    assert note["lines"][0]["description"].startswith("Unused prepaid periods of Store Venture")
    assert note["invoiceId"] == downgraded["invoice"]["id"]  # it charged the prepaid months


async def test_upgrade_keeps_a_smaller_credit_on_its_invoice_rule_crn_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    _, owner, invoice = await _italian_upgrade(gql)
    lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
    assert [(line.amount, line.tax) for line in lines] == [(-2032, -447), (3048, 671)]
    assert invoice.total == 1240
    listed = (await gql(NOTES, as_user=owner))["data"]["organization"]["creditNotes"]
    assert listed["totalCount"] == 0


async def test_issue_invoice_refuses_a_negative_total_rule_crn_1(clock_at: FixedClock) -> None:
    # A programming error, not caller input: callers put a credit beyond the charges on a credit
    # note (billing.credit_notes.split_change) before issuing the invoice.
    organization, _ = await organization_with(
        [{"product": "store", "plan": "business"}], period=MONTH
    )
    content = InvoiceContent(
        InvoiceKind.PLAN_CHANGE, [Line("Unused time", -4500), Line("New month", 2500)], "USD"
    )
    with pytest.raises(ValueError, match="issue a credit note instead"):
        async with in_transaction():
            await issue_invoice(organization, content, SEEDED_AT)
    assert await Invoice.filter(organization_id=organization.id).count() == 0
