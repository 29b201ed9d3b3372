"""Staff actions through API keys of scope billing:operate (INT-3, INV-1, DUN-4): the staff walk
from FROZEN back to ACTIVE by a bank transfer, and every refusal changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

from billing.subscription_status import SubscriptionStatus
from models import AuditEntry, Invoice, Organization, Subscription
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, GraphQLClient, trusted_request
from tests.factories import organization_with

ENDING_TOMORROW = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
AUDIT_LOG = """{ organization { auditLog(first: 10) { edges { node { occurredAt
  actor { kind label } clientAddress action summary amountSubject amountBefore { amount }
  amountAfter { amount } details { key value } } } } } }"""
ITEMS = [{"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"}]


async def _staff(
    client: httpx.AsyncClient, key: str, operation: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json=trusted_request(operation, variables),
        headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": "203.0.113.9"},
    )
    body: dict[str, Any] = response.json()
    return body


async def _key(organization: Organization, *scopes: str) -> str:
    return await create_api_key(organization.slug, "finance desk", list(scopes), datetime.now(UTC))


async def _upgrade(gql: GraphQLClient, owner: str) -> None:
    change = {"product": "email", "plan": "email-1500"}
    preview = await gql(
        "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) "
        "{ amountDueNow { amount } } }",
        {"input": change},
        as_user=owner,
    )
    due = preview["data"]["previewPlanChange"]["amountDueNow"]["amount"]
    applied = await gql(
        "mutation ($input: PlanChangeInput!, $due: Int!) "
        "{ changePlan(input: $input, confirmAmountDue: $due) { __typename } }",
        {"input": change, "due": due},
        as_user=owner,
    )
    assert applied["data"]["changePlan"]["__typename"] == "PlanChangeApplied", applied


async def _status(organization: Organization) -> SubscriptionStatus:
    return (await Subscription.get(organization_id=organization.id)).status


async def test_a_bank_transfer_makes_a_frozen_organization_active_rule_dun_4(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(ITEMS, period=ENDING_TOMORROW)
    await _upgrade(gql, owner)
    replaced = await gql(
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_chargeDeclined") '
        "{ __typename } }",
        as_user=owner,
    )
    assert replaced["data"]["replacePaymentMethod"]["__typename"] == "PaymentMethodReplaced"
    for days in (1, 5):  # DUN-1 to DUN-3: the renewal is declined, five days later FROZEN
        await gql(f"mutation {{ advanceTestClock(days: {days}) {{ now }} }}", as_user=owner)
    assert await _status(organization) is SubscriptionStatus.FROZEN
    invoice = await Invoice.get(organization_id=organization.id, status="OPEN")

    key = await _key(organization, "billing:operate")
    wrong = await _staff(
        client,
        key,
        "RecordOfflinePayment",
        {"invoiceId": str(invoice.id), "amount": invoice.amount_due - 1, "reference": "BT-1"},
    )
    assert wrong["data"]["recordOfflinePayment"]["code"] == "AMOUNT_MISMATCH"
    assert await _status(organization) is SubscriptionStatus.FROZEN
    paid = await _staff(
        client,
        key,
        "RecordOfflinePayment",
        {"invoiceId": str(invoice.id), "amount": invoice.amount_due, "reference": "BT-2026-0042"},
    )
    result = paid["data"]["recordOfflinePayment"]
    assert result["__typename"] == "OfflinePaymentRecorded", paid
    assert result["invoice"]["status"] == "PAID"
    assert result["subscription"] == {"status": "ACTIVE"}
    assert await _status(organization) is SubscriptionStatus.ACTIVE

    again = await _staff(
        client,
        key,
        "RecordOfflinePayment",
        {"invoiceId": str(invoice.id), "amount": invoice.amount_due, "reference": "BT-2026-0042"},
    )
    assert again["data"]["recordOfflinePayment"]["code"] == "INVOICE_NOT_OPEN"

    log = await gql(AUDIT_LOG, as_user=owner)
    entries = [e["node"] for e in log["data"]["organization"]["auditLog"]["edges"]]
    assert [e["action"] for e in entries] == [
        "recordOfflinePayment",
        "advanceTestClock",
        "advanceTestClock",
        "replacePaymentMethod",
        "changePlan",
    ]
    payment, plan_change = entries[0], entries[-1]
    assert payment["actor"]["kind"] == "API_KEY"
    assert payment["clientAddress"] == "127.0.0.1"  # the peer; X-Forwarded-For is not trusted
    assert (payment["amountBefore"]["amount"], payment["amountAfter"]["amount"]) == (
        invoice.amount_due,
        0,
    )
    assert {"key": "reference", "value": "BT-2026-0042"} in payment["details"]
    assert plan_change["actor"] == {"kind": "USER", "label": owner}
    assert plan_change["occurredAt"] == SEEDED_AT.isoformat()  # the injectable clock
    assert plan_change["amountSubject"] == "AMOUNT_DUE"
    assert plan_change["amountBefore"]["amount"] > 0 == plan_change["amountAfter"]["amount"]
    assert {"key": "outcome", "value": "PlanChangeApplied"} in plan_change["details"]


async def test_grant_credit_and_extend_a_trial_rule_int_3(client: httpx.AsyncClient) -> None:
    organization, _ = await organization_with(ITEMS, period=PERIOD, credit_balance=500)
    key = await _key(organization, "billing:operate")
    granted = await _staff(client, key, "GrantCredit", {"amount": 2500, "reason": "Outage, May"})
    assert granted["data"]["grantCredit"]["creditBalance"] == {
        "amount": 3000,
        "currency": "USD",
        "formatted": "$30.00",
    }
    entry = await AuditEntry.filter(organization_id=organization.id).first()
    assert entry is not None
    assert (entry.amount_subject, entry.amount_before, entry.amount_after) == (
        "CREDIT_BALANCE",
        500,
        3000,
    )

    trial_end = SEEDED_AT + timedelta(days=5)
    trialing, _ = await organization_with(
        ITEMS,
        period=(SEEDED_AT - timedelta(days=25), trial_end),
        status=SubscriptionStatus.TRIALING,
        trial_ends_at=trial_end,
    )
    extended = await _staff(
        client, await _key(trialing, "billing:operate"), "ExtendTrial", {"days": 7}
    )
    assert (
        extended["data"]["extendTrial"]["trialEndsAt"]
        == (trial_end + timedelta(days=7)).isoformat()
    )
    row = await Subscription.get(organization_id=trialing.id)
    assert row.trial_ends_at == row.current_period_end == trial_end + timedelta(days=7)


async def test_uncollectible_then_void_rule_inv_1(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(
        ITEMS, period=ENDING_TOMORROW, card="pm_card_chargeDeclined"
    )
    await gql("mutation { advanceTestClock(days: 1) { now } }", as_user=owner)
    invoice = await Invoice.get(organization_id=organization.id, status="OPEN")
    key = await _key(organization, "billing:operate")
    ids = {"invoiceId": str(invoice.id), "reason": "Customer in administration"}
    marked = await _staff(client, key, "MarkInvoiceUncollectible", ids)
    assert marked["data"]["markInvoiceUncollectible"]["invoice"]["status"] == "UNCOLLECTIBLE"
    voided = await _staff(client, key, "VoidInvoice", ids)
    assert voided["data"]["voidInvoice"]["invoice"]["status"] == "VOID"
    entries = await AuditEntry.filter(organization_id=organization.id, actor_kind="API_KEY")
    assert [(e.action, e.amount_before, e.amount_after) for e in entries] == [
        ("markInvoiceUncollectible", invoice.amount_due, invoice.amount_due),
        ("voidInvoice", invoice.amount_due, 0),
    ]


async def test_bad_staff_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(ITEMS, period=PERIOD)
    await _upgrade(gql, owner)
    await organization.refresh_from_db()
    balance = organization.credit_balance
    paid = await Invoice.get(organization_id=organization.id)
    other, other_owner = await organization_with(
        ITEMS, period=ENDING_TOMORROW, card="pm_card_chargeDeclined"
    )
    await gql("mutation { advanceTestClock(days: 1) { now } }", as_user=other_owner)
    theirs = await Invoice.get(organization_id=other.id, status="OPEN")
    key = await _key(organization, "billing:operate")
    entries_before = await AuditEntry.all().count()

    async def code(operation: str, variables: dict[str, Any]) -> tuple[str, str]:
        body = await _staff(client, key, operation, variables)
        if body.get("errors"):
            error = body["errors"][0]
            return error["extensions"]["code"], error["message"]
        result = next(iter(body["data"].values()))
        return result["code"], result["message"]

    other_invoice = str(uuid4())
    cases: dict[tuple[str, str], dict[str, Any]] = {
        ("GrantCredit", "INVALID_AMOUNT"): {"amount": -500, "reason": "oops"},
        ("GrantCredit", "BAD_USER_INPUT"): {"amount": 500, "reason": "   "},
        ("ExtendTrial", "NOT_TRIALING"): {"days": 7},
        ("ExtendTrial", "INVALID_DAYS"): {"days": 0},
        ("VoidInvoice", "INVOICE_PAID"): {"invoiceId": str(paid.id), "reason": "typo"},
        ("MarkInvoiceUncollectible", "INVOICE_NOT_OPEN"): {
            "invoiceId": str(paid.id),
            "reason": "no",
        },
        ("RecordOfflinePayment", "NOT_FOUND"): {
            "invoiceId": other_invoice,
            "amount": 100,
            "reference": "BT-1",
        },
    }
    for (operation, expected), variables in cases.items():
        got, message = await code(operation, variables)
        assert got == expected, (operation, got, message)
        assert message, operation

    got, message = await code(
        "RecordOfflinePayment",
        {"invoiceId": str(theirs.id), "amount": theirs.amount_due, "reference": "BT-2"},
    )
    assert (got, message) == ("NOT_FOUND", f"No invoice with id '{theirs.id}' is visible to you.")
    await theirs.refresh_from_db()
    assert theirs.status == "OPEN"

    await organization.refresh_from_db()
    await paid.refresh_from_db()
    assert (organization.credit_balance, paid.status) == (balance, "PAID")
    assert await AuditEntry.all().count() == entries_before

    refund_key = await _key(organization, "billing:refund")
    forbidden = await _staff(client, refund_key, "GrantCredit", {"amount": 1, "reason": "x"})
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "billing:operate" in forbidden["errors"][0]["message"]
