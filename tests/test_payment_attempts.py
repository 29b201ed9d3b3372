"""The payment path of issue 10: each attempt its own charge (IDM-1), failed authentication
reported (PAY-3), expired cards refused (PAY-3, PAY-2), DUN-5's visible pause and DUN-6's retries
and waiting renewals, all through the real ASGI app and the sandbox processor."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import stripe

from billing.subscription_status import SubscriptionStatus
from models import (
    Invoice,
    Notification,
    Organization,
    Payment,
    PaymentMethod,
)
from payments.port import ChargeRequest
from payments.sandbox import SANDBOX_WEBHOOK_SECRET, SandboxProcessor
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import member_of, organization_with

RUNNING = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
ENDING_TOMORROW = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
PREVIEW = "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) { amountDueNow { amount } } }"
BLOCKERS = (
    "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) { blockers { code } } }"
)
APPLY = """mutation ($input: PlanChangeInput!, $due: Int!) { %s(input: $input, confirmAmountDue: $due) {
  __typename ... on PaymentActionRequired { clientSecret pendingInvoice: invoice { id status } }
  ... on PlanChangeApplied { invoice { status } } ... on UserError { code message } } }"""
COMPLETE = """mutation ($id: ID!, $ok: Boolean!) { completeTestPaymentAction(invoiceId: $id, succeed: $ok) {
  __typename ... on InvoicePaid { invoice { status } subscription { status } }
  ... on UserError { code message } } }"""
REPLACE = """mutation ($pm: String!) { replacePaymentMethod(paymentMethodId: $pm) {
  __typename ... on PaymentMethodReplaced { paymentMethod { last4 } } ... on UserError { code message field } } }"""
SET = """mutation ($pref: UpgradePreference!) { setUpgradePreference(product: "email", preference: $pref) {
  __typename ... on ProductPreferences { preference } ... on UserError { code message } } }"""
ITEMS = "{ organization { subscription { status items { upgradePreference automaticChargesPaused automaticChargesPauseReason } } } }"
INVOICES = "{ organization { invoices { edges { node { number status paymentClientSecret } } } } }"


async def _apply(
    gql: GraphQLClient, owner: str, mutation: str, change: dict[str, Any]
) -> dict[str, Any]:
    preview = await gql(PREVIEW, {"input": change}, as_user=owner)
    due = preview["data"]["previewPlanChange"]["amountDueNow"]["amount"]
    body = await gql(APPLY % mutation, {"input": change, "due": due}, as_user=owner)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][mutation]
    return result


async def _complete(gql: GraphQLClient, owner: str, invoice_id: str, ok: bool) -> dict[str, Any]:
    body = await gql(COMPLETE, {"id": invoice_id, "ok": ok}, as_user=owner)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["completeTestPaymentAction"]
    return result


async def _advance(gql: GraphQLClient, owner: str, days: int) -> list[str]:
    body = await gql(f"mutation {{ advanceTestClock(days: {days}) {{ events }} }}", as_user=owner)
    events: list[str] = body["data"]["advanceTestClock"]["events"]
    return events


async def _items(gql: GraphQLClient, user: str) -> dict[str, Any]:
    subscription: dict[str, Any] = (await gql(ITEMS, as_user=user))["data"]["organization"][
        "subscription"
    ]
    return subscription


async def test_rule_idm_1_subscribe_again_after_failed_authentication(gql: GraphQLClient) -> None:
    # rule IDM-1: a new attempt after a failed 3-D Secure is a new charge, not INTERNAL.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "venture"}],
        period=RUNNING,
        status=SubscriptionStatus.TRIAL_ENDED,
        card="pm_card_authenticationRequired",
    )
    change = {"product": "store", "plan": "business"}
    first = await _apply(gql, owner, "subscribe", change)
    assert first["__typename"] == "PaymentActionRequired"
    failed = await _complete(gql, owner, first["pendingInvoice"]["id"], False)
    assert failed["code"] == "PAYMENT_AUTHENTICATION_FAILED"
    second = await _apply(gql, owner, "subscribe", change)
    assert second["__typename"] == "PaymentActionRequired"
    assert second["pendingInvoice"]["id"] != first["pendingInvoice"]["id"]
    done = await _complete(gql, owner, second["pendingInvoice"]["id"], True)
    assert done == {
        "__typename": "InvoicePaid",
        "invoice": {"status": "PAID"},
        "subscription": {"status": "ACTIVE"},
    }
    keys = await Payment.filter(invoice__organization_id=organization.id).values_list(
        "idempotency_key", flat=True
    )
    assert len(set(keys)) == 2


async def test_rule_idm_1_change_plan_again_after_failed_authentication(
    gql: GraphQLClient,
) -> None:
    # rule IDM-1: the same changePlan after an abandoned authentication is a new attempt.
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=RUNNING,
        card="pm_card_authenticationRequired",
    )
    change = {"product": "email", "plan": "email-1500"}
    first = await _apply(gql, owner, "changePlan", change)
    assert first["__typename"] == "PaymentActionRequired"
    await _complete(gql, owner, first["pendingInvoice"]["id"], False)
    again = await _apply(gql, owner, "changePlan", change)
    assert again["__typename"] == "PaymentActionRequired"
    assert again["pendingInvoice"]["status"] == "OPEN"


async def test_rule_idm_1_downgrade_then_upgrade_again_the_same_day(gql: GraphQLClient) -> None:
    # rule IDM-1: the same upgrade at the same amount twice in a day is two charges.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "venture"}], period=RUNNING
    )
    up = {"product": "store", "plan": "business"}
    assert (await _apply(gql, owner, "changePlan", up))["invoice"] == {"status": "PAID"}
    down = await _apply(gql, owner, "changePlan", {"product": "store", "plan": "venture"})
    assert down["__typename"] == "PlanChangeApplied"  # CHG-7: at once
    again = await _apply(gql, owner, "changePlan", up)
    assert again == {"__typename": "PlanChangeApplied", "invoice": {"status": "PAID"}}
    amounts = await Payment.filter(invoice__organization_id=organization.id).values_list(
        "amount", flat=True
    )
    assert len(amounts) == 2 and amounts[0] == amounts[1]  # the same amount, charged twice


async def test_rule_pay_3_failed_authentication_is_reported(gql: GraphQLClient) -> None:
    # rule PAY-3: an abandoned 3-D Secure answers a failure naming the invoice, not InvoicePaid;
    # the void invoice and the notice are kept (CHG-5, DUN-5).
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=RUNNING,
        card="pm_card_authenticationRequired",
    )
    waiting = await _apply(gql, owner, "changePlan", {"product": "email", "plan": "email-1500"})
    invoice = await Invoice.get(id=waiting["pendingInvoice"]["id"])
    failed = await _complete(gql, owner, str(invoice.id), False)
    assert failed == {
        "__typename": "UserError",
        "code": "PAYMENT_AUTHENTICATION_FAILED",
        "message": "The customer's authentication (3-D Secure) failed: nothing was changed and "
        f"{invoice.number} is void: try again or use another card.",
    }
    await invoice.refresh_from_db()
    assert invoice.status == "VOID"
    notices = await Notification.filter(organization_id=organization.id, kind="PAYMENT_FAILED")
    assert [n.message for n in notices] == [
        f"The customer's authentication (3-D Secure) failed: the payment of {invoice.number} "
        "failed."
    ]
    payment = await Payment.get(invoice_id=invoice.id)
    assert (payment.status, payment.failure_code) == ("FAILED", "authentication_failed")


async def test_rule_pay_3_failed_authentication_by_webhook_is_the_same(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # rule PAY-3: Stripe's payment_failed webhook shares the code: void invoice, the same notice.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=RUNNING,
        card="pm_card_authenticationRequired",
    )
    waiting = await _apply(gql, owner, "changePlan", {"product": "email", "plan": "email-1500"})
    invoice = await Invoice.get(id=waiting["pendingInvoice"]["id"])
    payment = await Payment.get(invoice_id=invoice.id)
    intent = {
        "id": payment.processor_charge_id,
        "last_payment_error": {"code": "authentication_failed"},
    }
    event = {"id": f"evt_{payment.id}", "type": "payment_intent.payment_failed"}
    payload = json.dumps({**event, "data": {"object": intent}}).encode()
    response = await client.post(
        "/webhooks/stripe",
        content=payload,
        headers={
            "stripe-signature": stripe.WebhookSignature.generate_signature_header(
                payload.decode(), SANDBOX_WEBHOOK_SECRET
            )
        },
    )
    assert response.json()["outcome"] == "applied"
    await invoice.refresh_from_db()
    await payment.refresh_from_db()
    assert invoice.status == "VOID"
    assert (payment.status, payment.failure_code) == ("FAILED", "authentication_failed")
    notices = await Notification.filter(organization_id=organization.id, kind="PAYMENT_FAILED")
    assert [n.message for n in notices] == [
        f"The customer's authentication (3-D Secure) failed: the payment of {invoice.number} "
        "failed."
    ]


async def test_rule_pay_3_an_expired_card_is_refused_and_the_old_one_stays(
    gql: GraphQLClient,
) -> None:
    # rule PAY-3, PAY-2: refused with its reason; the working card stays the default.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    refused = (await gql(REPLACE, {"pm": "pm_card_expired"}, as_user=owner))["data"][
        "replacePaymentMethod"
    ]
    assert refused == {
        "__typename": "UserError",
        "code": "EXPIRED_CARD",
        "message": "The card has expired.",
        "field": "paymentMethodId",
    }
    cards = await PaymentMethod.filter(organization_id=organization.id).values_list(
        "processor_id", "is_default"
    )
    assert cards == [("pm_card_visa", True)]
    upgrade = await _apply(gql, owner, "changePlan", {"product": "email", "plan": "email-1500"})
    assert upgrade["invoice"] == {"status": "PAID"}


async def test_rule_dun_5_the_pause_is_visible_and_kept_while_the_failing_card_stays(
    gql: GraphQLClient,
) -> None:
    # rule DUN-5: shown on the API, refused while the failing card is the default, lifted by a
    # billing manager after a new valid card.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "AUTO_UPGRADE"}],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclined",
    )
    await _advance(gql, owner, 1)  # the renewal is declined
    invoice = await Invoice.get(organization_id=organization.id)
    items = (await _items(gql, owner))["items"]
    assert items == [
        {
            "upgradePreference": "AUTO_UPGRADE",
            "automaticChargesPaused": True,
            "automaticChargesPauseReason": f"The renewal {invoice.number} could not be charged "
            "(card_declined).",
        }
    ]
    member = await gql(ITEMS, as_user=owner.replace("owner@", "billing@"))
    assert member["data"]["organization"]["subscription"]["items"][0]["automaticChargesPaused"]
    refused = (await gql(SET, {"pref": "AUTO_UPGRADE"}, as_user=owner))["data"][
        "setUpgradePreference"
    ]
    assert refused["code"] == "FAILING_CARD_STILL_DEFAULT"
    assert (await Organization.get(id=organization.id)).automatic_charges_paused is True
    assert (await gql(REPLACE, {"pm": "pm_card_visa"}, as_user=owner))["data"][
        "replacePaymentMethod"
    ] == {"__typename": "PaymentMethodReplaced", "paymentMethod": {"last4": "4242"}}
    assert (await _items(gql, owner))["items"][0]["automaticChargesPaused"] is True
    resumed = (await gql(SET, {"pref": "AUTO_UPGRADE"}, as_user=owner))["data"][
        "setUpgradePreference"
    ]
    assert resumed == {"__typename": "ProductPreferences", "preference": "AUTO_UPGRADE"}
    assert (await _items(gql, owner))["items"][0] == {
        "upgradePreference": "AUTO_UPGRADE",
        "automaticChargesPaused": False,
        "automaticChargesPauseReason": None,
    }


async def test_rule_dun_6_retried_on_days_1_3_and_5(gql: GraphQLClient) -> None:
    # rule DUN-6: each retry a new attempt with its own key; still unpaid after day 5: FROZEN.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "venture"}],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclined",
    )
    await _advance(gql, owner, 1)
    invoice = await Invoice.get(organization_id=organization.id)
    events = await _advance(gql, owner, 5)
    retries = [e.split(" ", 2) for e in events if "retrying" in e]
    days = [(day, message) for day, _, message in retries]
    failed = f"{organization.name}: retrying {invoice.number} failed (card_declined)"
    due = invoice.due_at
    assert days == [(f"{due + timedelta(days=d):%Y-%m-%d}", failed) for d in (1, 3, 5)]
    assert any("frozen" in e for e in events)
    keys = await Payment.filter(invoice_id=invoice.id).values_list("idempotency_key", flat=True)
    assert len(keys) == len(set(keys)) == 4


async def test_rule_dun_6_a_retry_that_succeeds_restores_the_status(gql: GraphQLClient) -> None:
    # rule DUN-6, DUN-4: the card works again by day 3: PAID and ACTIVE.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "venture"}],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclined",
    )
    await _advance(gql, owner, 2)
    assert (await _items(gql, owner))["status"] == "PENDING_PAYMENT"
    # The bank accepts the same card now (the sandbox's working card stands in for it).
    await PaymentMethod.filter(organization_id=organization.id).update(processor_id="pm_card_visa")
    events = await _advance(gql, owner, 2)  # to day 3 after the due date
    invoice = await Invoice.get(organization_id=organization.id)
    paid_on = f"{invoice.due_at + timedelta(days=3):%Y-%m-%d}"
    assert [e for e in events if "retry" in e] == [
        f"{paid_on} {invoice.due_at:%H:%M} {organization.name}: {invoice.number} paid on retry"
    ]
    assert invoice.status == "PAID"
    assert (await _items(gql, owner))["status"] == "ACTIVE"


async def test_rule_dun_6_a_new_card_is_charged_at_once(gql: GraphQLClient) -> None:
    # rule DUN-6: replacePaymentMethod retries the overdue renewal with the new card at once.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "venture"}],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclined",
    )
    await _advance(gql, owner, 1)
    assert (await _items(gql, owner))["status"] == "PENDING_PAYMENT"
    await gql(REPLACE, {"pm": "pm_card_mastercard"}, as_user=owner)
    invoice = await Invoice.get(organization_id=organization.id)
    assert invoice.status == "PAID"
    assert (await _items(gql, owner))["status"] == "ACTIVE"


async def test_rule_dun_6_a_renewal_waiting_for_authentication_can_be_completed(
    gql: GraphQLClient,
) -> None:
    # rule DUN-6, ACC-3: the client secret is on the invoice for billing roles only; completing
    # the authentication pays it and restores the status.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "venture"}],
        period=ENDING_TOMORROW,
        card="pm_card_authenticationRequired",
    )
    await _advance(gql, owner, 1)
    invoice = await Invoice.get(organization_id=organization.id)
    payment = await Payment.get(invoice_id=invoice.id)
    nodes = (await gql(INVOICES, as_user=owner))["data"]["organization"]["invoices"]["edges"]
    assert [n["node"] for n in nodes] == [
        {"number": invoice.number, "status": "OPEN", "paymentClientSecret": payment.client_secret}
    ]
    assert payment.client_secret and payment.client_secret.endswith("_secret")
    # The day-1 retry does not ask for a second authentication while the first one waits.
    await _advance(gql, owner, 1)
    assert await Payment.filter(invoice_id=invoice.id).count() == 1
    done = await _complete(gql, owner, str(invoice.id), True)
    assert done == {
        "__typename": "InvoicePaid",
        "invoice": {"status": "PAID"},
        "subscription": {"status": "ACTIVE"},
    }
    nodes = (await gql(INVOICES, as_user=owner))["data"]["organization"]["invoices"]["edges"]
    assert nodes[0]["node"]["paymentClientSecret"] is None


async def test_rule_acc_3_the_pause_reason_is_for_billing_roles(gql: GraphQLClient) -> None:
    # rule ACC-3: any member sees that automatic charges are paused; why (a failed payment of an
    # invoice) is for billing roles: null and FORBIDDEN.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "venture"}],
        period=ENDING_TOMORROW,
        card="pm_card_authenticationRequired",
    )
    await _advance(gql, owner, 1)
    body = await gql(
        "{ organization { subscription { items { automaticChargesPaused automaticChargesPauseReason } } } }",
        as_user=await member_of(organization),
    )
    items = body["data"]["organization"]["subscription"]["items"]
    assert items == [{"automaticChargesPaused": True, "automaticChargesPauseReason": None}]
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_an_expired_card_is_no_payment_method(gql: GraphQLClient) -> None:
    # rule CHG-1, PAY-3: the blocker shows in the preview, not as a decline after applying.
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING, card="pm_card_expired"
    )
    await PaymentMethod.filter(processor_id="pm_card_expired").update(exp_year=2020)
    preview = (
        await gql(BLOCKERS, {"input": {"product": "email", "plan": "email-1500"}}, as_user=owner)
    )["data"]["previewPlanChange"]
    assert preview["blockers"] == [{"code": "NO_PAYMENT_METHOD"}]


@pytest.mark.usefixtures("database")
async def test_the_same_charge_key_never_charges_twice() -> None:
    # rule IDM-1: a retry after a crash between the charge and the database write finds the
    # first charge.
    processor = SandboxProcessor()
    request = ChargeRequest("pm_card_visa", 1016, "USD", "change:abc:pm_card_visa", "Invoice X")
    first, second = await processor.charge(request), await processor.charge(request)
    assert first == second
