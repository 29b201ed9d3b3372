"""The audit log (issue 13 item 6, ACC-6): a billing mutation's entry commits in one transaction
with the action, so an entry that cannot be written leaves the action unapplied; a UserError is
not audited, and what the action keeps on failing (a declined attempt) is kept as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from models import AuditEntry, Invoice, Organization, Payment, PaymentMethod, Refund
from resolvers import audit
from resolvers.api_keys import create_api_key
from schema import mutation
from tests.conftest import SEEDED_AT, GraphQLClient, error_codes, trusted_request
from tests.factories import organization_with, state_of

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
ENDING_TOMORROW = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
EMAIL = [{"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"}]
UPGRADE = {"product": "email", "plan": "email-1500"}
CHANGE = """mutation ($i: PlanChangeInput!, $d: Int!) { changePlan(input: $i, confirmAmountDue: $d)
  { __typename } }"""
PAY = """mutation ($id: ID!) { payInvoice(invoiceId: $id) { __typename
  ... on UserError { code message } } }"""


class AuditWriteFailed(Exception):
    pass


@pytest.fixture
def failing_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    async def record(*_: Any) -> None:
        raise AuditWriteFailed("the audit entry could not be written")

    monkeypatch.setattr(audit, "record", record)


async def _entries(organization_id: UUID) -> list[str]:
    rows = await AuditEntry.filter(organization_id=organization_id).order_by("id")
    return [row.action for row in rows]


async def _upgrade_due(gql: GraphQLClient, owner: str) -> int:
    body = await gql(
        "query ($i: PlanChangeInput!) { previewPlanChange(input: $i) { amountDueNow { amount } } }",
        {"i": UPGRADE},
        as_user=owner,
    )
    due: int = body["data"]["previewPlanChange"]["amountDueNow"]["amount"]
    assert due > 0
    return due


async def _open_invoice(gql: GraphQLClient) -> tuple[Organization, str, Invoice]:
    """A declined renewal leaves an OPEN invoice; the card is then made good at the processor."""
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclined",
    )
    await gql("mutation { advanceTestClock(days: 1) { events } }", as_user=owner)
    invoice = await Invoice.get(organization_id=organization.id)
    assert invoice.status == "OPEN"
    return organization, owner, invoice


async def test_a_plan_change_whose_entry_fails_is_not_applied_rule_acc_6(
    gql: GraphQLClient, failing_audit: None
) -> None:
    organization, owner = await organization_with(EMAIL, period=PERIOD)
    due = await _upgrade_due(gql, owner)
    before = await state_of(organization)

    body = await gql(CHANGE, {"i": UPGRADE, "d": due}, as_user=owner)

    assert error_codes(body) == ["INTERNAL"]
    assert await state_of(organization) == before  # no plan change, no invoice
    assert not await Payment.filter(invoice__organization_id=organization.id).exists()
    assert await _entries(organization.id) == []


async def test_the_same_plan_change_applies_with_its_entry_rule_acc_6(gql: GraphQLClient) -> None:
    organization, owner = await organization_with(EMAIL, period=PERIOD)
    due = await _upgrade_due(gql, owner)

    body = await gql(CHANGE, {"i": UPGRADE, "d": due}, as_user=owner)

    assert body["data"]["changePlan"]["__typename"] == "PlanChangeApplied"
    invoice = await Invoice.get(organization_id=organization.id)
    assert await Payment.filter(invoice_id=invoice.id, status="SUCCEEDED").count() == 1
    assert await _entries(organization.id) == ["changePlan"]


async def test_a_payment_whose_entry_fails_is_not_recorded_rule_acc_6(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    organization, owner, invoice = await _open_invoice(gql)
    await PaymentMethod.filter(organization_id=organization.id).update(processor_id="pm_card_visa")
    attempts = await Payment.filter(invoice_id=invoice.id).count()
    entries = await _entries(organization.id)

    async def record(*_: Any) -> None:
        raise AuditWriteFailed("the audit entry could not be written")

    with monkeypatch.context() as patched:
        patched.setattr(audit, "record", record)
        body = await gql(PAY, {"id": str(invoice.id)}, as_user=owner)
    assert error_codes(body) == ["INTERNAL"]
    await invoice.refresh_from_db()
    assert invoice.status == "OPEN"
    assert await Payment.filter(invoice_id=invoice.id).count() == attempts  # no charge recorded
    assert await _entries(organization.id) == entries

    paid = await gql(PAY, {"id": str(invoice.id)}, as_user=owner)  # the entry can be written now
    assert paid["data"]["payInvoice"]["__typename"] == "InvoicePaid"
    await invoice.refresh_from_db()
    assert invoice.status == "PAID"
    assert await _entries(organization.id) == [*entries, "payInvoice"]


async def test_a_refund_whose_entry_fails_is_not_recorded_rule_acc_6(
    client: httpx.AsyncClient, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    organization, owner = await organization_with(EMAIL, period=PERIOD)
    await gql(CHANGE, {"i": UPGRADE, "d": await _upgrade_due(gql, owner)}, as_user=owner)
    invoice = await Invoice.get(organization_id=organization.id)
    key = await create_api_key(organization.slug, "desk", ["billing:refund"], datetime.now(UTC))

    async def refund() -> dict[str, Any]:
        variables = {"invoiceId": str(invoice.id), "amount": 300, "reason": "goodwill"}
        response = await client.post(
            "/graphql",
            json=trusted_request("RefundInvoice", variables),
            headers={"Authorization": f"Bearer {key}"},
        )
        body: dict[str, Any] = response.json()
        return body

    async def record(*_: Any) -> None:
        raise AuditWriteFailed("the audit entry could not be written")

    with monkeypatch.context() as patched:
        patched.setattr(audit, "record", record)
        assert error_codes(await refund()) == ["INTERNAL"]
    await invoice.refresh_from_db()
    assert invoice.status == "PAID"
    assert not await Refund.filter(invoice_id=invoice.id).exists()

    assert (await refund())["data"]["refundInvoice"]["__typename"] == "InvoiceRefunded"
    entry = await AuditEntry.get(organization_id=organization.id, action="refundInvoice")
    assert (entry.amount_before, entry.amount_after) == (0, 300)


async def test_a_declined_payment_keeps_its_attempt_and_is_not_audited_rule_acc_6(
    gql: GraphQLClient,
) -> None:
    organization, owner, invoice = await _open_invoice(gql)
    attempts = await Payment.filter(invoice_id=invoice.id).count()
    entries = await _entries(organization.id)

    body = await gql(PAY, {"id": str(invoice.id)}, as_user=owner)

    assert body["data"]["payInvoice"]["code"] == "PAYMENT_DECLINED"
    assert await Payment.filter(invoice_id=invoice.id).count() == attempts + 1
    await invoice.refresh_from_db()
    assert invoice.status == "OPEN"
    assert await _entries(organization.id) == entries  # a UserError changed nothing to audit


async def test_what_the_action_committed_before_an_error_is_kept(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error after the payment's own transaction (while building the answer):
    the payment stays recorded, as it would without the audit's transaction, and nothing is
    audited."""
    organization, owner, invoice = await _open_invoice(gql)
    await PaymentMethod.filter(organization_id=organization.id).update(processor_id="pm_card_visa")
    entries = await _entries(organization.id)

    async def broken(_: UUID) -> None:
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(mutation, "_subscription", broken)
    body = await gql(PAY, {"id": str(invoice.id)}, as_user=owner)

    assert error_codes(body) == ["INTERNAL"]
    await invoice.refresh_from_db()
    assert invoice.status == "PAID"
    assert await Payment.filter(invoice_id=invoice.id, status="SUCCEEDED").count() == 1
    assert await _entries(organization.id) == entries


async def test_a_preference_whose_entry_fails_is_not_changed_rule_acc_6(
    gql: GraphQLClient, failing_audit: None
) -> None:
    organization, owner = await organization_with(EMAIL, period=PERIOD)
    before = await state_of(organization)

    body = await gql(
        'mutation { setUpgradePreference(product: "email", preference: AUTO_UPGRADE) '
        "{ __typename } }",
        as_user=owner,
    )

    assert error_codes(body) == ["INTERNAL"]
    assert await state_of(organization) == before
    assert await _entries(organization.id) == []


async def test_a_card_replacement_whose_entry_fails_keeps_the_old_card_rule_acc_6(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """replacePaymentMethod records its entry in the transaction that swaps the cards."""
    organization, owner = await organization_with(EMAIL, period=PERIOD)
    replace = (
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_mastercard") { __typename } }'
    )

    async def record(*_: Any) -> None:
        raise AuditWriteFailed("the audit entry could not be written")

    with monkeypatch.context() as patched:
        patched.setattr(audit, "record", record)
        assert error_codes(await gql(replace, as_user=owner)) == ["INTERNAL"]
    cards = await PaymentMethod.filter(organization_id=organization.id)
    assert [card.processor_id for card in cards] == ["pm_card_visa"]
    assert await _entries(organization.id) == []

    body = await gql(replace, as_user=owner)
    assert body["data"]["replacePaymentMethod"]["__typename"] == "PaymentMethodReplaced"
    entry = await AuditEntry.get(organization_id=organization.id)
    assert (entry.action, entry.summary, entry.actor_label) == (
        "replacePaymentMethod",
        "replacePaymentMethod: PaymentMethodReplaced",
        owner,
    )
    assert entry.details["outcome"] == "PaymentMethodReplaced"
