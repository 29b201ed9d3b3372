"""A claimed batch's plain renewals, set-based (issue 15, DUN-1, MNY-4).

In one transaction: the batch's organizations are locked in key order, everything the renewals
read is read with one statement per table for the whole batch, each plain renewal
(billing.renewal_batch) is charged through the processor with the key the step-by-step path
uses (IDM-1), before anything is written, and then each table gets one multi-row INSERT (or
UPDATE). The rows are those the clock's step-by-step path (resolvers.billing_clock) writes, and
the invoice's lines come from the same functions (resolvers.renewal).

What is not plain, or whose charge did not succeed, is handed back for the step-by-step path;
so is the whole batch if its write fails (the charges are found again by their keys, so nothing
is charged twice)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import cast
from uuid import UUID, uuid4

from tortoise import connections
from tortoise.transactions import in_transaction

from billing.clock import offset
from billing.invoices import InvoiceKind, InvoiceStatus, credit_applied, invoice_number
from billing.limits import OnDemandTerms, buys_at_month_close, on_demand_terms
from billing.quote import Line
from billing.renewal_batch import RenewalFacts, not_plain
from billing.schedule import Due, due_now, stored_due_at
from billing.subscription_status import SubscriptionStatus
from billing.tax import TaxTable, lines_total, rate_for, tax_lines
from billing.webhooks import DeliveryStatus, EventType
from models import (
    ALL_WORKSPACES,
    BillingInfo,
    DocumentEmail,
    Invoice,
    InvoiceLine,
    Issuer,
    Organization,
    OrphanCharge,
    Payment,
    PaymentMethod,
    Subscription,
    SubscriptionItem,
    SubscriptionItemAddOn,
    UsageCounter,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from models import Price as PriceRow
from models.discount import SubscriptionDiscount
from payments.port import ChargeRequest, ChargeResult, ChargeStatus, PaymentProcessor
from resolvers.bulk_rows import insert_rows, update_rows
from resolvers.catalog import CatalogSnapshot, price_of
from resolvers.document_mail import INVOICE, document_email, issued_to
from resolvers.invoicing import charge_key, details_of, discount_and_tax, line_columns
from resolvers.locks import is_postgres, lock_key
from resolvers.renewal import renewal_lines, renewal_period
from resolvers.schedule_store import schedule_facts
from resolvers.subscription_state import LoadedSubscription, loaded_from_rows
from resolvers.taxes import tax_customer
from resolvers.usage_charges import open_usage_month
from resolvers.webhook_events import (
    active_endpoints,
    event_body,
    invoice_data,
    new_event_id,
    wanting,
)
from resolvers.work_metrics import RENEWALS, counted_charge

log = logging.getLogger("billing_gateway.clock")
# Charges of one batch asked of the processor at once.
CHARGES_AT_ONCE = 8


@dataclass
class _Renewal:
    """One plain renewal, from its reads to its rows."""

    loaded: LoadedSubscription
    now: datetime
    start: datetime
    end: datetime
    lines: list[Line]
    card: PaymentMethod
    invoice: Invoice
    key: str = ""
    result: ChargeResult | None = None
    email_documents: bool = False  # the issuer's setting: the invoice is e-mailed with its PDF


@dataclass
class BatchOutcome:
    """The events of the renewals done, and the organizations left to the step-by-step path."""

    events: list[str] = field(default_factory=list)
    left: list[UUID] = field(default_factory=list)


async def renew_batch(
    organization_ids: Sequence[UUID],
    base_now: datetime,
    snapshot: CatalogSnapshot,
    processor: PaymentProcessor,
) -> BatchOutcome:
    """The plain renewals among the claimed organizations, done set-based; the rest left."""
    if not organization_ids:
        return BatchOutcome()
    try:
        async with in_transaction():
            renewals, left = await _read(organization_ids, base_now, snapshot)
            await _charge_all(renewals, processor)
            paid = [r for r in renewals if _succeeded(r)]
            left += [r.loaded.organization.id for r in renewals if not _succeeded(r)]
            await _write(paid)
    except Exception:
        # The batch's transaction rolled back; the step-by-step path does each one, and finds
        # any charge made here by its key.
        log.exception("billing clock: a batch of %d failed, done one by one", len(organization_ids))
        return BatchOutcome(left=list(organization_ids))
    RENEWALS.inc(len(paid))
    return BatchOutcome([_event(r) for r in paid], left)


def _succeeded(renewal: _Renewal) -> bool:
    return renewal.result is not None and renewal.result.status is ChargeStatus.SUCCEEDED


def _event(renewal: _Renewal) -> str:
    name, number = renewal.loaded.organization.name, renewal.invoice.number
    return f"{name}: renewed to {renewal.end:%-d %b %Y}, {number} paid"


async def _lock(organization_ids: Sequence[UUID]) -> list[Organization]:
    """The organizations' locks as lock_organization takes them, in key order (two batches
    never wait on each other in a cycle), then their rows FOR UPDATE in id order."""
    connection = connections.get("default")
    if is_postgres(connection):
        keys = sorted({lock_key(i) for i in organization_ids})
        await connection.execute_query(
            "SELECT pg_advisory_xact_lock(k) FROM "
            "(SELECT k FROM unnest($1::bigint[]) AS k ORDER BY k) AS keys",
            [keys],
        )
    return (
        await Organization.filter(id__in=list(organization_ids)).order_by("id").select_for_update()
    )


async def _candidates(
    organizations: dict[UUID, Organization], base_now: datetime, snapshot: CatalogSnapshot
) -> list[tuple[LoadedSubscription, datetime]]:
    """The locked organizations' subscriptions that are ACTIVE and due at the period end (an
    ACTIVE row's schedule reads nothing more), loaded, each with its organization's now."""
    ids = list(organizations)
    rows = {
        r.organization_id: r
        for r in await Subscription.filter(organization_id__in=ids).select_for_update()
    }
    active = [r for r in rows.values() if r.status is SubscriptionStatus.ACTIVE]
    items = await SubscriptionItem.filter(subscription_id__in=[r.id for r in active]).order_by(
        "subscription_id", "product_id"
    )
    add_ons = await SubscriptionItemAddOn.filter(item_id__in=[i.id for i in items]) if items else []
    price_ids = {p for i in items for p in (i.plan_price_id, i.seat_price_id) if p is not None}
    price_ids |= {i.contact_limit_price_id for i in items if i.contact_limit_price_id}
    price_ids |= {a.price_id for a in add_ons}
    prices = {p.id: price_of(p) for p in await PriceRow.filter(id__in=list(price_ids))}
    by_subscription: dict[UUID, list[SubscriptionItem]] = defaultdict(list)
    for item in items:
        by_subscription[item.subscription_id].append(item)

    candidates: list[tuple[LoadedSubscription, datetime]] = []
    for row in active:
        organization = organizations[row.organization_id]
        own = by_subscription[row.id]
        now = offset(base_now, organization.clock_offset_seconds)
        if due_now(await schedule_facts(organization, row, own), now) is not Due.PERIOD_END:
            continue
        loaded = loaded_from_rows(organization, row, own, add_ons, prices, snapshot)
        candidates.append((loaded, now))
    return candidates


async def _read(
    organization_ids: Sequence[UUID], base_now: datetime, snapshot: CatalogSnapshot
) -> tuple[list[_Renewal], list[UUID]]:
    """The plain renewals, read set-based under the locks, and the organizations left."""
    organizations = {o.id: o for o in await _lock(organization_ids)}
    candidates = await _candidates(organizations, base_now, snapshot)
    wanted = [loaded.organization.id for loaded, _ in candidates]
    open_ids = set(
        await Invoice.filter(organization_id__in=wanted, status=InvoiceStatus.OPEN).values_list(
            "organization_id", flat=True
        )
    )
    used = await _used(candidates)
    cards: dict[UUID, PaymentMethod] = {}
    for card in await PaymentMethod.filter(organization_id__in=wanted, is_default=True).order_by(
        "id"
    ):
        cards.setdefault(card.organization_id, card)
    infos = {i.organization_id: i for i in await BillingInfo.filter(organization_id__in=wanted)}
    discounted = set(
        await SubscriptionDiscount.filter(organization_id__in=wanted).values_list(
            "organization_id", flat=True
        )
    )
    issuer = await Issuer.get_or_none(id=1) if wanted else None
    taxes = TaxTable.from_json(issuer.taxes if issuer else None)

    renewals: list[_Renewal] = []
    for loaded, now in candidates:
        organization = loaded.organization
        start, end = renewal_period(loaded.row)
        details = details_of(organization, issuer, infos.get(organization.id))
        # TAX-1: taxed at the rate of the address the invoice is issued with, as taxed_for does.
        rate = rate_for(taxes, tax_customer(details["customer"]))
        lines = tax_lines(renewal_lines(loaded, start, end), rate, None)
        total = lines_total(lines)
        facts = _facts(loaded, used, organization.id in open_ids, organization.id in cards, total)
        facts = replace(facts, discount=organization.id in discounted)
        if (reason := not_plain(facts)) is not None:
            log.debug("billing clock: %s one by one (%s)", organization.id, reason.value)
            continue
        invoice = _invoice(loaded, lines, start, end, details)
        renewals.append(
            _Renewal(
                loaded,
                now,
                start,
                end,
                lines,
                cards[organization.id],
                invoice,
                email_documents=bool(issuer and issuer.email_documents),
            )
        )
    await _keys(renewals)
    done = {r.loaded.organization.id for r in renewals}
    return renewals, [i for i in organization_ids if i not in done]


def _facts(
    loaded: LoadedSubscription,
    used: dict[tuple[UUID, int, str, datetime], int],
    open_invoices: bool,
    has_card: bool,
    total: int,
) -> RenewalFacts:
    snapshot, row = loaded.snapshot, loaded.row
    month_start, _ = open_usage_month(row)
    blocks = 0
    for item in loaded.items.values():
        terms = _on_demand(loaded, item)
        if terms is not None:
            count = used.get((row.organization_id, item.product_id, terms.metric, month_start), 0)
            blocks += terms.charge(count).blocks
    credit = loaded.organization.credit_balance
    return RenewalFacts(
        status=row.status,
        due=Due.PERIOD_END,
        scheduled_change=any(i.scheduled_change for i in loaded.items.values()),
        prepaid_line=any(t.prepaid_periods > 0 for t in loaded.terms.values()),
        autoscaling=any(snapshot.policies[p].autoscaling for p in loaded.items),
        overage_at_close=any(
            buys_at_month_close(i.upgrade_preference) and snapshot.plans_by_id[i.plan_id].limits
            for i in loaded.items.values()
        ),
        on_demand_blocks=blocks,
        open_invoices=open_invoices,
        credit_balance=credit,
        has_card=has_card,
        amount_due=max(total, 0) - credit_applied(credit, total),
    )


def _on_demand(loaded: LoadedSubscription, item: SubscriptionItem) -> OnDemandTerms | None:
    snapshot = loaded.snapshot
    plan = snapshot.plans_by_id[item.plan_id]
    return on_demand_terms(item.upgrade_preference, snapshot.policies[item.product_id], plan.limits)


async def _used(
    candidates: list[tuple[LoadedSubscription, datetime]],
) -> dict[tuple[UUID, int, str, datetime], int]:
    """USE-6: the on-demand metrics' counts in each candidate's open billing month, one read."""
    wanted: set[tuple[UUID, int, str, datetime]] = set()
    for loaded, _ in candidates:
        month_start, _ = open_usage_month(loaded.row)
        for item in loaded.items.values():
            terms = _on_demand(loaded, item)
            if terms is not None:
                wanted.add((loaded.organization.id, item.product_id, terms.metric, month_start))
    if not wanted:
        return {}
    counters = await UsageCounter.filter(
        organization_id__in=list({w[0] for w in wanted}),
        workspace=ALL_WORKSPACES,
        period_start__in=list({w[3] for w in wanted}),
    ).values("organization_id", "product_id", "metric", "period_start", "value")
    found: dict[tuple[UUID, int, str, datetime], int] = {}
    for c in counters:
        key: tuple[UUID, int, str, datetime] = (
            c["organization_id"],
            c["product_id"],
            c["metric"],
            c["period_start"],
        )
        if key in wanted:
            found[key] = c["value"]
    return found


def _invoice(
    loaded: LoadedSubscription,
    lines: list[Line],
    start: datetime,
    end: datetime,
    details: dict[str, object],
) -> Invoice:
    """The renewal's invoice as issue_invoice makes it (INV-1, INV-3): OPEN, issued at the
    period's start; marked paid once charged."""
    organization, row = loaded.organization, loaded.row
    sequence = organization.invoice_sequence + 1
    total = lines_total(lines)
    if total <= 0:
        # CRN-1: never negative; renewal lines are prices (never negative) and not_plain leaves
        # a renewal with nothing to charge to the step-by-step path.
        raise ValueError(f"a batched renewal of {total} (minor units)")
    return Invoice(
        id=uuid4(),
        organization_id=organization.id,
        number=invoice_number(organization.slug, sequence),
        sequence=sequence,
        kind=InvoiceKind.SUBSCRIPTION,
        status=InvoiceStatus.OPEN,
        currency=row.currency,
        total=total,
        credit_applied=0,
        amount_due=max(total, 0),
        issued_at=start,
        due_at=start,
        period_start=start,
        period_end=end,
        billing_details=details,
        **discount_and_tax(lines),
    )


async def _keys(renewals: list[_Renewal]) -> None:
    """IDM-1: each charge's key as collect() makes it (the invoice's first attempt), one read of
    the charges refunded after a crash."""
    for renewal in renewals:
        renewal.key = charge_key(renewal.invoice, 1, renewal.card.processor_id)
    if not renewals:
        return
    keys = [r.key for r in renewals]
    refunded = {
        str(k)
        for k in await OrphanCharge.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    }
    for renewal in renewals:
        if renewal.key in refunded:
            renewal.key += ":after-refund"


async def _charge_all(renewals: list[_Renewal], processor: PaymentProcessor) -> None:
    """The batch's charges, CHARGES_AT_ONCE at a time (a processor over the network, Stripe,
    answers in hundreds of milliseconds; the sandbox at once)."""
    gate = asyncio.Semaphore(CHARGES_AT_ONCE)

    async def one(renewal: _Renewal) -> None:
        async with gate:
            await _charge(renewal, processor)

    await asyncio.gather(*(one(r) for r in renewals))


async def _charge(renewal: _Renewal, processor: PaymentProcessor) -> None:
    """The charge, as collect() asks for it; one that raises is left to the step-by-step path."""
    organization, invoice = renewal.loaded.organization, renewal.invoice
    request = ChargeRequest(
        customer_id=organization.processor_customer_id,
        reference=str(organization.id),
        payment_method_id=renewal.card.processor_id,
        amount=invoice.amount_due,
        currency=invoice.currency,
        idempotency_key=renewal.key,
        description=f"Invoice {invoice.number}",
    )
    try:
        renewal.result = await counted_charge(processor, request)
    except Exception as error:  # the processor down: this one waits for the step-by-step path
        log.warning("billing clock: %s charge left to the retry: %s", organization.id, error)


async def _write(paid: list[_Renewal]) -> None:
    """One statement per table for the whole batch."""
    if not paid:
        return
    endpoints = await active_endpoints()
    invoices, lines, payments, events, deliveries = [], [], [], [], []
    mails: list[DocumentEmail] = []
    for renewal in paid:
        invoice, result = renewal.invoice, cast(ChargeResult, renewal.result)
        mail = document_email(
            renewal.email_documents,
            invoice.organization_id,
            INVOICE,
            invoice.id,
            invoice.number,
            issued_to(invoice.billing_details),
            renewal.start,
        )
        if mail is not None:
            mails.append(mail)
        lines += [
            InvoiceLine(invoice_id=invoice.id, **line_columns(line, position))
            for position, line in enumerate(renewal.lines)
        ]
        # EVT-1: issued at the period's start, then paid now (mark_paid).
        issued = _webhook_event(invoice, EventType.INVOICE_ISSUED, renewal.start, endpoints)
        payments.append(
            Payment(
                id=uuid4(),
                invoice_id=invoice.id,
                idempotency_key=renewal.key,
                processor_charge_id=result.charge_id or None,
                amount=invoice.amount_due,
                currency=invoice.currency,
                status=result.status.value,
                failure_code=result.failure_code,
                client_secret=result.client_secret,
                charged_at=renewal.now,  # the billing clock's, as paid_at's
            )
        )
        invoice.status, invoice.paid_at = InvoiceStatus.PAID, renewal.now
        paid_event = _webhook_event(invoice, EventType.INVOICE_PAID, renewal.now, endpoints)
        invoices.append(invoice)
        for made in (issued, paid_event):
            if made is not None:
                events.append(made[0])
                deliveries += made[1]
        row = renewal.loaded.row
        row.current_period_start, row.current_period_end = renewal.start, renewal.end
        organization = renewal.loaded.organization
        organization.invoice_sequence = invoice.sequence
        after = await schedule_facts(organization, row, renewal.loaded.items.values())
        row.next_due_at = stored_due_at(after, organization.clock_offset_seconds)
    await insert_rows(Invoice, invoices)
    await insert_rows(InvoiceLine, lines)
    await insert_rows(Payment, payments)
    await insert_rows(WebhookEvent, events)
    await insert_rows(WebhookDelivery, deliveries)
    if mails:
        await insert_rows(DocumentEmail, mails)
    rows = [r.loaded.row for r in paid]
    await update_rows(
        Subscription,
        ["current_period_start", "current_period_end", "next_due_at", "updated_at"],
        rows,
    )
    await update_rows(Organization, ["invoice_sequence"], [r.loaded.organization for r in paid])


def _webhook_event(
    invoice: Invoice, type: EventType, now: datetime, endpoints: list[WebhookEndpoint]
) -> tuple[WebhookEvent, list[WebhookDelivery]] | None:
    """record_event's rows for an invoice event, unsaved; None when no endpoint wants it."""
    wanted = wanting(endpoints, type)
    if not wanted:
        return None
    event_id = new_event_id()
    data = {"invoice": invoice_data(invoice)}
    event = WebhookEvent(
        id=event_id,
        organization_id=invoice.organization_id,
        type=type.value,
        body=event_body(event_id, invoice.organization_id, type, data, now),
        created_at=now,
    )
    deliveries = [
        WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id=event_id,
            organization_id=invoice.organization_id,
            status=DeliveryStatus.PENDING.value,
            created_at=now,
        )
        for endpoint in wanted
    ]
    return event, deliveries
