"""DUN-6: an unpaid invoice is charged again during the grace period, on the retry days of
`billing.dunning` and at once when a new card is added. Each retry is a new attempt with its own
idempotency key; a success restores the status (DUN-4). The caller holds the organization's lock."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from billing.dunning import retry_due
from billing.notifications import NotificationKind
from models import Invoice, Organization, Payment
from payments.port import ChargeStatus, PaymentProcessor
from resolvers import invoicing
from resolvers.invoice_payments import card_failed, settle
from resolvers.invoicing import collect
from resolvers.notices import notify


async def overdue_invoices(organization_id: UUID, now: datetime) -> list[Invoice]:
    """Overdue invoices, oldest first, locked for the retry."""
    return await invoicing.overdue_invoices(organization_id, now).select_for_update()


async def waits_for_customer(invoice: Invoice) -> bool:
    return await Payment.exists(invoice_id=invoice.id, status=ChargeStatus.REQUIRES_ACTION.value)


async def scheduled_retry(
    organization: Organization, now: datetime, processor: PaymentProcessor
) -> str | None:
    """The clock's retry on days 1, 3 and 5 of the oldest invoice whose retry is due, if any."""
    for invoice in await overdue_invoices(organization.id, now):
        retries = retry_due(invoice.due_at, invoice.automatic_retries, now)
        if retries is None:
            continue
        invoice.automatic_retries = retries
        await invoice.save(update_fields=["automatic_retries"])
        if await waits_for_customer(invoice):
            # Charging again would only ask for another authentication: the first one waits.
            return f"{organization.name}: {invoice.number} waits for the customer's authentication"
        return await retry_invoice(organization, invoice, now, processor)
    return None


async def retry_with_new_card(
    organization: Organization, now: datetime, processor: PaymentProcessor
) -> list[str]:
    """A new card is added: every overdue invoice is charged to it at once."""
    events: list[str] = []
    for invoice in await overdue_invoices(organization.id, now):
        if not await waits_for_customer(invoice):
            events.append(await retry_invoice(organization, invoice, now, processor))
    return events


async def retry_invoice(
    organization: Organization, invoice: Invoice, now: datetime, processor: PaymentProcessor
) -> str:
    result = await collect(invoice, processor, now)
    if result is None or result.status is ChargeStatus.SUCCEEDED:
        await settle(organization, invoice, now)
        return f"{organization.name}: {invoice.number} paid on retry"
    if result.status is ChargeStatus.REQUIRES_ACTION:
        await notify(
            organization.id,
            NotificationKind.PAYMENT_ACTION_REQUIRED,
            f"The payment of {invoice.number} needs your authentication: "
            "complete it on the billing page.",
            now,
            invoice_id=invoice.id,
        )
        return f"{organization.name}: {invoice.number} waits for the customer's authentication"
    reason = result.failure_code or "declined"
    await card_failed(organization, f"Retrying {invoice.number} failed ({reason}).", now, invoice)
    return f"{organization.name}: retrying {invoice.number} failed ({reason})"
