"""Dunning on the billing clock (rules DUN-1 to DUN-5, SUB-3) and payments that wait for the
customer's authentication (CHG-5), in the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models import Invoice, Organization, Payment
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

ENDING_TOMORROW = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
STATUS = "{ organization { subscription { status } notifications { kind message } } }"


async def _status(gql: GraphQLClient, user: str) -> tuple[str, list[str]]:
    organization = (await gql(STATUS, as_user=user))["data"]["organization"]
    return organization["subscription"]["status"], [
        n["kind"] for n in organization["notifications"]
    ]


async def _advance(gql: GraphQLClient, user: str, days: int) -> list[str]:
    body = await gql(f"mutation {{ advanceTestClock(days: {days}) {{ events }} }}", as_user=user)
    events: list[str] = body["data"]["advanceTestClock"]["events"]
    return events


async def _pay(gql: GraphQLClient, user: str, invoice: Invoice) -> dict[str, Any]:
    body = await gql(
        """mutation ($id: ID!) { payInvoice(invoiceId: $id) { __typename
             ... on InvoicePaid { invoice { status } subscription { status } } ... on UserError { code message } } }""",
        {"id": str(invoice.id)},
        as_user=user,
    )
    result: dict[str, Any] = body["data"]["payInvoice"]
    return result


async def test_declined_renewal_to_frozen_then_paid_back_to_active(gql: GraphQLClient) -> None:
    organization, owner = await organization_with(
        [
            {"product": "store", "plan": "business"},
            {"product": "email", "plan": "email-1000", "upgrade_preference": "AUTO_UPGRADE"},
        ],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclined",
    )
    # DUN-1, DUN-2: the renewal is charged and declined: OPEN invoice, PENDING_PAYMENT, owners told.
    events = await _advance(gql, owner, 1)
    assert any("unpaid (card_declined)" in e for e in events)
    assert await _status(gql, owner) == ("PENDING_PAYMENT", ["PAYMENT_FAILED", "UPCOMING_RENEWAL"])
    invoice = await Invoice.get(organization_id=organization.id)
    assert (invoice.status, invoice.amount_due) == ("OPEN", 4500 + 3000)
    await organization.refresh_from_db()
    assert organization.automatic_charges_paused is True  # DUN-5

    # DUN-3: five days later, FROZEN.
    await _advance(gql, owner, 4)
    assert (await _status(gql, owner))[0] == "PENDING_PAYMENT"
    events = await _advance(gql, owner, 1)
    assert any("frozen" in e for e in events)
    assert (await _status(gql, owner))[0] == "FROZEN"

    # Paying with the declined card again fails clearly and keeps the invoice open.
    failed = await _pay(gql, owner, invoice)
    assert failed["code"] == "PAYMENT_DECLINED"
    assert failed["message"].startswith("Your card was declined.")
    # The renewal's charge, DUN-6's retries on days 1, 3 and 5, and this one.
    assert await Payment.filter(invoice_id=invoice.id).count() == 5

    # DUN-6, DUN-4: a new card (PAY-2) is charged the overdue invoice at once: ACTIVE at once.
    await gql(
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
        as_user=owner,
    )
    await invoice.refresh_from_db()
    assert invoice.status == "PAID"
    assert (await _status(gql, owner))[0] == "ACTIVE"
    again = await _pay(gql, owner, invoice)
    assert again["message"] == f"Invoice {invoice.number} is PAID: there is nothing to pay."


async def test_unpaid_through_the_period_is_cancelled(gql: GraphQLClient) -> None:
    # DUN-3, SUB-3: FROZEN and still unpaid when the billing period ends: CANCELLED.
    _, owner = await organization_with(
        [{"product": "store", "plan": "venture"}], period=ENDING_TOMORROW, card="pm_card_expired"
    )
    await _advance(gql, owner, 1)
    await _advance(gql, owner, 5)
    assert (await _status(gql, owner))[0] == "FROZEN"
    events = await _advance(gql, owner, 31)
    assert any("cancelled, unpaid at the end of the period" in e for e in events)
    assert (await _status(gql, owner))[0] == "CANCELLED"


async def test_three_d_secure_applies_the_change_once_after_authentication(
    gql: GraphQLClient,
) -> None:
    # CHG-5: the plan stays until the payment succeeds, then the change is applied once.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
        card="pm_card_authenticationRequired",
    )
    body = await gql(
        'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { __typename } }',
        as_user=owner,
    )
    assert body["data"]["changePlan"]["__typename"] == "PaymentActionRequired"
    plan = "{ organization { subscription { items { plan { code } } } } }"
    assert (await gql(plan, as_user=owner))["data"]["organization"]["subscription"]["items"][0][
        "plan"
    ]["code"] == "email-1000"
    invoice = await Invoice.get(organization_id=organization.id)
    complete = """mutation ($id: ID!) { completeTestPaymentAction(invoiceId: $id) { __typename
      ... on InvoicePaid { invoice { status } } ... on UserError { message } } }"""
    done = (await gql(complete, {"id": str(invoice.id)}, as_user=owner))["data"][
        "completeTestPaymentAction"
    ]
    assert done == {"__typename": "InvoicePaid", "invoice": {"status": "PAID"}}
    assert (await gql(plan, as_user=owner))["data"]["organization"]["subscription"]["items"][0][
        "plan"
    ]["code"] == "email-1500"
    replay = (await gql(complete, {"id": str(invoice.id)}, as_user=owner))["data"][
        "completeTestPaymentAction"
    ]
    assert replay["__typename"] == "UserError"
    assert await Invoice.filter(organization_id=organization.id).count() == 1
    org = await Organization.get(id=organization.id)
    assert org.automatic_charges_paused is False


async def test_cancelling_with_an_unpaid_renewal_freezes_then_cancels(gql: GraphQLClient) -> None:
    # rule CAN-2 lets one more renewal happen; it is declined; at the cancellation date the
    # subscription is FROZEN for a period to pay in (SUB-3), then CANCELLED (DUN-3).
    organization, owner = await organization_with(
        [{"product": "recommendations", "plan": "rec-10k"}],
        period=(SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1)),
        card="pm_card_chargeDeclinedInsufficientFunds",
    )
    body = await gql(
        'mutation { cancelSubscription(reason: "Season over") { ... on SubscriptionCancelled { cancelAt } } }',
        as_user=owner,
    )
    assert body["data"]["cancelSubscription"]["cancelAt"] == "2026-04-13T09:30:00+00:00"
    advance = "mutation { advanceTestClock(days: %d) { events } }"
    events = (await gql(advance % 1, as_user=owner))["data"]["advanceTestClock"]["events"]
    assert any("unpaid (insufficient_funds)" in e for e in events)
    events = (await gql(advance % 31, as_user=owner))["data"]["advanceTestClock"]["events"]
    assert any("frozen at the end of the period, an invoice is overdue" in e for e in events)
    status = "{ organization { subscription { status currentPeriodEnd } } }"
    assert (await gql(status, as_user=owner))["data"]["organization"]["subscription"] == {
        "status": "FROZEN",
        "currentPeriodEnd": "2026-05-13T09:30:00+00:00",
    }
    events = (await gql(advance % 31, as_user=owner))["data"]["advanceTestClock"]["events"]
    assert any("cancelled, unpaid at the end of the period" in e for e in events)
    assert await Invoice.filter(organization_id=organization.id).count() == 1
