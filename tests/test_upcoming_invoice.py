"""Invoice statuses the billing clock produces (rule INV-1): the upcoming renewal as a DRAFT,
priced as the renewal will price it, and UNCOLLECTIBLE for what is still unpaid at cancellation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from billing.invoices import InvoiceKind
from models import Invoice, SubscriptionItem
from tests.conftest import SEEDED_AT, GraphQLClient, error_codes
from tests.factories import organization_with

ENDING_TOMORROW = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
MONEY = "{ amount currency }"
LINES = "lines { description amount { amount } periodStart periodEnd }"
UPCOMING = f"""{{ organization {{ subscription {{ upcomingInvoice {{
    status kind {LINES} total {MONEY} creditApplied {MONEY} amountDue {MONEY}
    issuesAt periodStart periodEnd }} }} }} }}"""
INVOICES = f"""query ($status: InvoiceStatus) {{ organization {{ invoices(status: $status) {{
    edges {{ node {{ id number kind status {LINES} total {MONEY} creditApplied {MONEY}
    amountDue {MONEY} issuedAt periodStart periodEnd }} }} }} }} }}"""
ADVANCE = "mutation { advanceTestClock(days: %d) { events } }"
PAY = """mutation ($id: ID!) { payInvoice(invoiceId: $id) { __typename
  ... on InvoicePaid { invoice { status } subscription { status } } ... on UserError { code } } }"""


async def _upcoming(gql: GraphQLClient, user: str) -> dict[str, Any] | None:
    body = await gql(UPCOMING, as_user=user)
    draft: dict[str, Any] | None = body["data"]["organization"]["subscription"]["upcomingInvoice"]
    return draft


async def _invoices(gql: GraphQLClient, user: str, status: str | None) -> list[dict[str, Any]]:
    body = await gql(INVOICES, {"status": status}, as_user=user)
    return [edge["node"] for edge in body["data"]["organization"]["invoices"]["edges"]]


async def _advance(gql: GraphQLClient, user: str, days: int) -> list[str]:
    events: list[str] = (await gql(ADVANCE % days, as_user=user))["data"]["advanceTestClock"][
        "events"
    ]
    return events


async def test_inv1_the_draft_is_the_invoice_the_renewal_then_issues(gql: GraphQLClient) -> None:
    """rule INV-1 with CHG-6 (a downgrade scheduled for the period end), CHG-7 (a prepaid item)
    and INT-3 (the credit balance pays first)."""
    organization, owner = await organization_with(
        [
            {"product": "messaging", "plan": "growth"},
            {"product": "email", "plan": "email-1000", "upgrade_preference": "AUTO_UPGRADE"},
            {"product": "store", "plan": "business"},
        ],
        period=ENDING_TOMORROW,
        credit_balance=5000,
    )
    store = await SubscriptionItem.get(
        subscription__organization_id=organization.id, plan__code="business"
    )
    await SubscriptionItem.filter(id=store.id).update(prepaid_periods=1)  # CHG-7
    scheduled = await gql(
        'mutation { changePlan(input: {product: "messaging", plan: "starter"}, confirmAmountDue: 0) { __typename } }',
        as_user=owner,
    )
    assert scheduled["data"]["changePlan"]["__typename"] == "PlanChangeScheduled"

    draft = await _upcoming(gql, owner)
    assert draft is not None
    start, end = "2026-03-13T09:30:00+00:00", "2026-04-13T09:30:00+00:00"
    assert (draft["status"], draft["kind"], draft["issuesAt"]) == ("DRAFT", "SUBSCRIPTION", start)
    assert [(line["description"], line["amount"]["amount"]) for line in draft["lines"]] == [
        ("Messaging Starter, 13 Mar 2026 to 13 Apr 2026", 7900),  # the downgrade, not Growth
        ("Email 1,000, 13 Mar 2026 to 13 Apr 2026", 3000),
    ]  # the store is prepaid: no line
    assert (draft["total"], draft["creditApplied"], draft["amountDue"]) == (
        {"amount": 10900, "currency": "USD"},
        {"amount": 5000, "currency": "USD"},
        {"amount": 5900, "currency": "USD"},
    )
    assert await Invoice.filter(organization_id=organization.id).count() == 0  # not stored

    await _advance(gql, owner, 1)
    [issued] = [
        i for i in await _invoices(gql, owner, None) if i["kind"] == InvoiceKind.SUBSCRIPTION
    ]
    assert issued["status"] == "PAID"
    assert (issued["periodStart"], issued["periodEnd"]) == (start, end)
    same = ("lines", "total", "creditApplied", "amountDue", "periodStart", "periodEnd")
    assert {key: issued[key] for key in same} == {key: draft[key] for key in same}
    assert issued["issuedAt"] == draft["issuesAt"]


async def test_inv1_acc3_members_do_not_see_the_draft(gql: GraphQLClient) -> None:
    """rule INV-1, ACC-3: what the organization will pay is for billing roles only."""
    body = await gql(UPCOMING, as_user="member@acme.test")
    assert body["data"]["organization"]["subscription"]["upcomingInvoice"] is None
    assert error_codes(body) == ["FORBIDDEN"]
    assert await _upcoming(gql, "billing@acme.test") is not None


async def test_inv1_unpaid_when_cancelled_is_uncollectible_and_still_payable(
    gql: GraphQLClient,
) -> None:
    """rule INV-1 (with DUN-3): FROZEN, then CANCELLED unpaid: the renewal is UNCOLLECTIBLE; paying
    it later settles the debt and does not bring the subscription back."""
    organization, owner = await organization_with(
        [{"product": "store", "plan": "venture"}], period=ENDING_TOMORROW, card="pm_card_expired"
    )
    await _advance(gql, owner, 1)
    await _advance(gql, owner, 5)
    events = await _advance(gql, owner, 31)
    assert any("cancelled, unpaid at the end of the period" in e for e in events)
    [unpaid] = await _invoices(gql, owner, "UNCOLLECTIBLE")
    assert (unpaid["status"], unpaid["amountDue"]["amount"]) == ("UNCOLLECTIBLE", 2500)
    assert await _invoices(gql, owner, "OPEN") == []
    assert await _upcoming(gql, owner) is None  # a cancelled subscription does not renew

    await gql(
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
        as_user=owner,
    )
    paid = (await gql(PAY, {"id": unpaid["id"]}, as_user=owner))["data"]["payInvoice"]
    assert paid == {
        "__typename": "InvoicePaid",
        "invoice": {"status": "PAID"},
        "subscription": {"status": "CANCELLED"},
    }
    assert await _invoices(gql, owner, "UNCOLLECTIBLE") == []
    assert await Invoice.filter(organization_id=organization.id, status="PAID").count() == 1


async def test_inv1_cancelling_with_an_overdue_renewal_ends_uncollectible(
    gql: GraphQLClient,
) -> None:
    """rule INV-1 (with CAN-2, SUB-3): the renewal a month's notice let through is declined; the
    period end freezes the subscription, the next cancels it: the renewal is UNCOLLECTIBLE."""
    organization, owner = await organization_with(
        [{"product": "recommendations", "plan": "rec-10k"}],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclinedInsufficientFunds",
    )
    await gql(
        'mutation { cancelSubscription(reason: "Season over") { __typename } }', as_user=owner
    )
    draft = await _upcoming(gql, owner)  # CAN-2: one more renewal happens
    assert draft is not None and draft["amountDue"]["amount"] == 9900
    await _advance(gql, owner, 1)
    assert await _upcoming(gql, owner) is None  # the notice ends with this period
    events = await _advance(gql, owner, 31)
    assert any("frozen at the end of the period, an invoice is overdue" in e for e in events)
    assert [i["status"] for i in await _invoices(gql, owner, None)] == ["OPEN"]
    events = await _advance(gql, owner, 31)
    assert any("cancelled, unpaid at the end of the period" in e for e in events)
    [unpaid] = await _invoices(gql, owner, "UNCOLLECTIBLE")
    assert unpaid["amountDue"]["amount"] == 9900
    assert await Invoice.filter(organization_id=organization.id).count() == 1
