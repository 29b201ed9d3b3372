"""The billing clock's due work (MNY-4): trial ends, renewals with scheduled downgrades,
cancellations, dunning steps and retention deletions, each subscription in its own transaction
under a row lock, so two clocks running at once never double-charge (the second finds the work
done)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from billing.cancellation import deletion_date
from billing.clock import offset
from billing.errors import BillingError
from billing.invoices import InvoiceKind, InvoiceStatus, credit_applied, invoice_transition
from billing.notifications import NotificationKind
from billing.periods import BillingInterval, period_containing
from billing.schedule import (
    NOTICE_STATUSES,
    PERIOD_ENDS,
    RENEWAL_NOTICE,
    Due,
    due_now,
    next_due_at,
)
from billing.subscription_status import Event, SubscriptionStatus, transition
from billing.tax import lines_total
from billing.webhooks import TRIAL_ENDING_NOTICE, EventType
from models import (
    FeatureSetting,
    Invoice,
    Organization,
    Subscription,
    SubscriptionDiscount,
    SubscriptionItem,
    Workspace,
)
from payments.port import ChargeStatus, PaymentProcessor
from resolvers import discounts as discount_store
from resolvers.catalog import CatalogSnapshot, load_catalog_snapshot
from resolvers.dunning import scheduled_retry
from resolvers.invoice_payments import card_failed
from resolvers.invoicing import (
    InvoiceContent,
    collect,
    issue_invoice,
    overdue_invoices,
    unpaid_invoices,
)
from resolvers.locks import lock_organization
from resolvers.notices import notify
from resolvers.renewal import renewal_lines, renewal_period
from resolvers.renewal_batch import BatchOutcome, renew_batch
from resolvers.schedule_store import claim_due, postpone, schedule_facts, store_next_due
from resolvers.subscription_state import (
    LoadedSubscription,
    load_subscription,
    subscribed_product_ids,
)
from resolvers.subscription_writes import apply_scheduled_changes
from resolvers.taxes import taxed_for
from resolvers.tier_moves import autoscale, check_auto_downgrade, send_renewal_notice
from resolvers.usage_actions import settle_flexible_overage
from resolvers.usage_charges import on_demand_charges, open_usage_month
from resolvers.webhook_events import plan_change_event, status_changed, subscription_event
from resolvers.work_metrics import RENEWALS

log = logging.getLogger("billing_gateway.clock")
SHORTEST_MONTH = timedelta(days=28)
CLAIM_BATCH = 100

S = SubscriptionStatus


async def next_due(organization_id: UUID) -> datetime | None:
    """The earliest moment, in the organization's billing time, at which work falls due."""
    organization = await Organization.get(id=organization_id)
    row = await Subscription.get_or_none(organization_id=organization_id)
    items = (
        await SubscriptionItem.filter(subscription_id=row.id).order_by("product_id") if row else []
    )
    return next_due_at(await schedule_facts(organization, row, items))


async def run_due_work(
    base_now: datetime,
    processor: PaymentProcessor,
    organization_id: UUID | None = None,
    *,
    organization_ids: Collection[UUID] | None = None,
) -> list[str]:
    """Everything due at `base_now` (plus each organization's test-clock offset, MNY-4), for one
    organization or the given ones (a test clock, tests); with neither, the workers' way: the
    subscriptions whose stored due time has come, claimed in batches (run_claimed_work)."""
    if organization_id is None and organization_ids is None:
        return await run_claimed_work(base_now, processor)
    events: list[str] = []
    snapshot = await load_catalog_snapshot()
    wanted = organization_ids if organization_id is None else [organization_id]
    organizations = Organization.filter(id__in=wanted)
    offsets = await organizations.values_list("clock_offset_seconds", flat=True)
    horizon = offset(base_now, max(cast(list[int], offsets), default=0))
    # A coarse pre-filter in SQL (never misses what billing.schedule finds due); _step asks the
    # schedule itself.
    due = Subscription.filter(
        Q(status=S.TRIALING, trial_ends_at__lte=horizon + TRIAL_ENDING_NOTICE)  # EVT-1
        | Q(status__in=PERIOD_ENDS, current_period_end__lte=horizon)
        | Q(status__in=NOTICE_STATUSES, current_period_end__lte=horizon + RENEWAL_NOTICE)  # NOT-1
        # INV-4: a billing month inside a longer period may end; every month is 28 days or more.
        | (
            Q(status__in=PERIOD_ENDS, current_period_start__lte=horizon - SHORTEST_MONTH)
            & ~Q(billing_interval=BillingInterval.MONTHLY)
            & (
                Q(usage_closed_until__isnull=True)
                | Q(usage_closed_until__lte=horizon - SHORTEST_MONTH)
            )
        )
        | Q(status=S.PENDING_PAYMENT),
        organization_id__in=wanted,
    )
    for due_id in cast(list[UUID], await due.values_list("organization_id", flat=True)):
        events += await _work_through(due_id, base_now, snapshot, processor)

    expired = organizations.filter(data_deleted_at__isnull=True, data_delete_at__lte=horizon)
    for expired_id in cast(list[UUID], await expired.values_list("id", flat=True)):
        if (event := await _delete_data(expired_id, base_now)) is not None:
            events.append(event)
    return events


async def run_claimed_work(
    base_now: datetime,
    processor: PaymentProcessor,
    *,
    batch: int = CLAIM_BATCH,
    organization_ids: Collection[UUID] | None = None,
    report: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
    set_based: bool = True,
) -> list[str]:
    """A worker's tick: claims the subscriptions due at `base_now` in batches (any number of
    workers at once, each row to one of them) and does each one's due work, until none is left.
    `organization_ids` keeps the claims to those organizations (tests). The events are returned,
    or handed to `report` as they happen and not kept (a long run's memory stays flat). Once
    `stop` is set, the batch under way is finished and no other is claimed (shutdown).

    Each batch's plain renewals are done set-based (resolvers.renewal_batch); the rest, one
    organization at a time. `set_based=False` does every one step by step (the comparison in
    the tests)."""
    events: list[str] = []
    snapshot: CatalogSnapshot | None = None
    while not (stop and stop.is_set()) and (
        claimed := await claim_due(base_now, batch, organization_ids)
    ):
        snapshot = snapshot or await load_catalog_snapshot()  # a tick with nothing due: no reads
        batch_done = BatchOutcome(left=claimed)
        if set_based:
            batch_done = await renew_batch(claimed, base_now, snapshot, processor)
        done = batch_done.events
        for claimed_id in batch_done.left:
            done += await _work_through(claimed_id, base_now, snapshot, processor)
        if report is None:
            events += done
        else:
            for event in done:
                report(event)
    return events


async def _work_through(
    organization_id: UUID,
    base_now: datetime,
    snapshot: CatalogSnapshot,
    processor: PaymentProcessor,
) -> list[str]:
    """One organization's due work, step by step, each step in its own transaction."""
    events: list[str] = []
    try:
        while True:
            event, next_at = await _step(organization_id, base_now, snapshot, processor)
            if event is not None:
                events.append(event)
            if next_at is None or next_at > base_now:
                return events
            if event is None:
                # The schedule says due but nothing was done: look again later, not in a loop.
                log.warning("billing clock: %s due but nothing to do", organization_id)
                await postpone(organization_id, base_now)
                return events
    except BillingError as error:
        # One organization's trouble (the processor down, a card gone) must not stop the
        # others; its step rolled back and is tried again after a pause.
        log.warning("billing clock: %s postponed: %s", organization_id, error.message)
        events.append(f"{organization_id}: postponed ({error.message})")
    except Exception:
        # A bug met in one organization's work: its transaction rolled back; the others go on.
        log.exception("billing clock: unexpected error in the due work of %s", organization_id)
        events.append(f"{organization_id}: failed (unexpected error, logged)")
    await postpone(organization_id, base_now)
    return events


async def _step(
    organization_id: UUID,
    base_now: datetime,
    snapshot: CatalogSnapshot,
    processor: PaymentProcessor,
) -> tuple[str | None, datetime | None]:
    """The first piece of work due, if any, then the subscription's next due time stored (in
    the gateway's time): the event and that time."""
    async with in_transaction():
        organization = await lock_organization(organization_id, reschedule=False)
        now = offset(base_now, organization.clock_offset_seconds)
        loaded = await load_subscription(organization, snapshot, lock=True)
        if loaded is None:
            return None, None
        facts = await schedule_facts(organization, loaded.row, loaded.items.values())
        due = due_now(facts, now)
        if due is None:
            return None, await store_next_due(organization, loaded.row, facts)
        old = loaded.row.status
        if due is Due.DATA_DELETION:
            event: str | None = await _delete_locked(organization, now)
        else:
            event = await _do(due, loaded, now, processor)
        # EVT-1: in the same transaction as the change (a retry's payment records its own).
        await status_changed(loaded.row, old, now, due.value)
        row = await Subscription.get(id=loaded.row.id)
        items = await SubscriptionItem.filter(subscription_id=row.id).order_by("product_id")
        after = await schedule_facts(organization, row, items)
        return event, await store_next_due(organization, row, after)


async def _do(
    due: Due | None, loaded: LoadedSubscription, now: datetime, processor: PaymentProcessor
) -> str | None:
    organization, row, snapshot = loaded.organization, loaded.row, loaded.snapshot
    if due is Due.TRIAL_END:
        row.status = transition(row.status, Event.TRIAL_ENDS)  # SUB-2: no charge
        await row.save()
        await subscription_event(row, EventType.TRIAL_ENDED, now)
        return f"{organization.name}: trial ended"
    if due is Due.TRIAL_ENDING_NOTICE:
        return await _trial_ending(organization, row, now)
    if due is Due.PAYMENT_RETRY:
        return await scheduled_retry(organization, now, processor)  # DUN-6
    if due is Due.FREEZE:
        return await _freeze(organization, row, now)
    if due is Due.AUTO_DOWNGRADE_CHECK:
        return await check_auto_downgrade(loaded, organization, now)
    if due is Due.RENEWAL_NOTICE:
        return await send_renewal_notice(loaded, organization, now)
    if due is Due.USAGE_MONTH_CLOSE:
        return await _close_usage_month(organization, row, snapshot, now, processor)
    if due is Due.PERIOD_END:
        return await _period_end(loaded, organization, now, processor)
    return None  # nothing due; a data deletion is run_due_work's own pass


async def _trial_ending(organization: Organization, row: Subscription, now: datetime) -> str:
    """EVT-1: three days before the trial ends, once per trial end."""
    row.trial_ending_notice_for = row.trial_ends_at
    await row.save(update_fields=["trial_ending_notice_for", "updated_at"])
    await subscription_event(row, EventType.TRIAL_ENDING, now)
    return f"{organization.name}: trial ending on {row.trial_ends_at:%-d %b %Y}"


async def _freeze(organization: Organization, row: Subscription, now: datetime) -> str:
    """DUN-3: the grace period passed with the oldest invoice unpaid."""
    oldest = await unpaid_invoices(organization.id).first()
    assert oldest is not None  # the schedule found it
    row.status = transition(row.status, Event.GRACE_PERIOD_PASSES)
    await row.save()
    await notify(
        organization.id,
        NotificationKind.STATUS_CHANGED,
        f"Frozen: {oldest.number} is unpaid.",
        now,
        invoice_id=oldest.id,
    )
    return f"{organization.name}: frozen, {oldest.number} unpaid after the grace period"


async def _period_end(
    loaded: LoadedSubscription,
    organization: Organization,
    now: datetime,
    processor: PaymentProcessor,
) -> str:
    """The period ends: a frozen subscription is cancelled, a cancelling one ends (or freezes
    with an invoice overdue), any other renews with its scheduled change (DUN-1, DUN-3, CAN-1)."""
    row, snapshot = loaded.row, loaded.snapshot
    # Looked at before this month's usage is invoiced.
    overdue = await overdue_invoices(organization.id, now).exists()
    # The last month's usage is priced on the plans it was used under, before any change, and
    # the blocks used before sending stopped are owed like any other (INV-4, USE-6).
    usage = _some(await _usage_invoice(organization, row, snapshot, now, processor))
    if row.status is S.FROZEN:
        row.status = transition(row.status, Event.PERIOD_ENDS_OVERDUE)  # DUN-3
        ended = f"{organization.name}: cancelled, unpaid at the end of the period"
        return await _end(organization, row, snapshot, "; ".join([ended, *usage]))
    if row.status is S.CANCELLING and row.cancel_at and row.cancel_at <= row.current_period_end:
        if overdue:
            row.status = transition(row.status, Event.PERIOD_ENDS_OVERDUE)
            # Frozen for one more period to pay in, unbilled; then cancelled (DUN-3).
            start = row.current_period_end
            _, row.current_period_end = period_containing(
                row.billing_anchor, row.billing_interval, start
            )
            row.current_period_start = start
            await row.save()
            frozen = f"{organization.name}: frozen at the end of the period, an invoice is overdue"
            return "; ".join([frozen, *usage])
        row.status = transition(row.status, Event.PERIOD_ENDS_CANCELLED)  # CAN-1
        ended = f"{organization.name}: cancelled at the end of the period"
        return await _end(organization, row, snapshot, "; ".join([ended, *usage]))
    for product in await apply_scheduled_changes(loaded):  # CHG-6, INT-1
        change = {"product": product, "timing": "END_OF_PERIOD", "effective_at": now.isoformat()}
        await plan_change_event(row, EventType.PLAN_CHANGE_APPLIED, change, now)  # EVT-1
    await _void_stale_changes(organization.id)
    scaled = await autoscale(loaded, organization, now)
    renewal = await _renew(loaded, organization, now, processor)
    RENEWALS.inc()
    return "; ".join([renewal, *scaled, *usage])


def _some(event: str | None) -> list[str]:
    return [event] if event else []


async def _usage_invoice(
    organization: Organization,
    row: Subscription,
    snapshot: CatalogSnapshot,
    now: datetime,
    processor: PaymentProcessor,
) -> str | None:
    """INV-4, USE-6: the usage invoice for the billing month that ends: on-demand blocks. Flexible
    overage still owed for the month is bought first (PREF-1)."""
    await settle_flexible_overage(organization, row, snapshot, now, processor)

    lines = await on_demand_charges(organization.id, row, snapshot)
    if not lines:
        return None
    month_start, month_end = open_usage_month(row)
    content = InvoiceContent(
        InvoiceKind.USAGE, lines, row.currency, period=(month_start, month_end)
    )
    invoice = await issue_invoice(organization, content, month_end)
    result = await collect(invoice, processor, now)

    if result is not None and result.status is not ChargeStatus.SUCCEEDED:
        if row.status in (S.ACTIVE, S.DOWNGRADING):
            row.status = transition(row.status, Event.PAYMENT_OVERDUE)  # DUN-2
        await card_failed(
            organization, f"The usage invoice {invoice.number} could not be charged.", now, invoice
        )
        return f"usage {invoice.number} unpaid"
    return f"usage {invoice.number} paid"


async def _void_stale_changes(organization_id: UUID) -> None:
    """A change still waiting for 3-D Secure when its period ends was quoted for a period that is
    over: it is void (CHG-5); a payment that arrives later is refunded by the webhook."""
    stale = await Invoice.filter(
        organization_id=organization_id, status=InvoiceStatus.OPEN, pending_change__isnull=False
    )
    for invoice in stale:
        invoice.status = invoice_transition(invoice.status, InvoiceStatus.VOID)
        invoice.pending_change = None
        await invoice.save(update_fields=["status", "pending_change"])


async def _renew(
    loaded: LoadedSubscription,
    organization: Organization,
    now: datetime,
    processor: PaymentProcessor,
) -> str:
    # DUN-1: a new period, its invoice issued at its start and charged to the default card.
    row = loaded.row
    start, end = renewal_period(row)
    discount = await discount_store.at_renewal(organization.id, write=True)  # DSC-1
    # The upcoming invoice shows the same (INV-1): discounted (DSC-2), then taxed (TAX-1).
    lines = await taxed_for(organization.id, renewal_lines(loaded, start, end, discount))
    for product_id, terms in loaded.terms.items():
        if terms.prepaid_periods > 0:  # CHG-7: this period was paid by a downgrade's credit
            await SubscriptionItem.filter(id=loaded.items[product_id].id).update(
                prepaid_periods=terms.prepaid_periods - 1
            )
    row.current_period_start, row.current_period_end = start, end
    total = lines_total(lines)
    credit = credit_applied(organization.credit_balance, total)  # INT-3
    event = f"{organization.name}: renewed to {end:%-d %b %Y}"
    if lines:
        content = InvoiceContent(
            InvoiceKind.SUBSCRIPTION, lines, row.currency, credit, period=(start, end)
        )
        invoice = await issue_invoice(organization, content, start)
        organization.credit_balance -= credit
        await organization.save(update_fields=["credit_balance"])
        result = await collect(invoice, processor, now)
        if result is not None and result.status is not ChargeStatus.SUCCEEDED:
            if row.status in (S.ACTIVE, S.DOWNGRADING):
                row.status = transition(row.status, Event.PAYMENT_OVERDUE)  # DUN-2
            reason = result.failure_code or "waiting for the customer"
            event += f", {invoice.number} unpaid ({reason})"
            # DUN-2: owners and billing admins are told; DUN-5: automatic charges pause.
            await card_failed(
                organization,
                f"The renewal {invoice.number} could not be charged ({reason}).",
                now,
                invoice,
            )
        else:
            event += f", {invoice.number} paid"
    await row.save()
    return event


async def _end(
    organization: Organization, row: Subscription, snapshot: CatalogSnapshot, event: str
) -> str:
    row.cancelled_at = row.current_period_end
    await row.save()
    await SubscriptionDiscount.filter(organization_id=organization.id).delete()  # DSC-1
    await _mark_uncollectible(organization.id)
    product_ids = await subscribed_product_ids(row.id)
    retention = max((snapshot.policies[p].retention_days for p in product_ids), default=0)
    organization.data_delete_at = deletion_date(row.current_period_end, retention)  # CAN-3
    await organization.save(update_fields=["data_delete_at"])
    return event


async def _mark_uncollectible(organization_id: UUID) -> None:
    """INV-1: what is still unpaid when the subscription is cancelled stays owed and payable,
    as UNCOLLECTIBLE."""
    unpaid = await Invoice.filter(
        organization_id=organization_id, status=InvoiceStatus.OPEN, pending_change__isnull=True
    )
    for invoice in unpaid:
        invoice.status = invoice_transition(invoice.status, InvoiceStatus.UNCOLLECTIBLE)
        await invoice.save(update_fields=["status"])


async def _delete_data(organization_id: UUID, base_now: datetime) -> str | None:
    async with in_transaction():
        organization = await lock_organization(organization_id, reschedule=False)
        now = offset(base_now, organization.clock_offset_seconds)
        due = organization.data_delete_at
        if organization.data_deleted_at is not None or due is None or due > now:
            return None
        event = await _delete_locked(organization, now)
        await Subscription.filter(organization_id=organization_id).update(next_due_at=None)
        return event


async def _delete_locked(organization: Organization, now: datetime) -> str:
    # CAN-3: the organization's data goes after the retention period; invoices are kept.
    await Workspace.filter(organization_id=organization.id).delete()
    await FeatureSetting.filter(organization_id=organization.id).delete()
    await SubscriptionItem.filter(subscription__organization_id=organization.id).delete()
    organization.data_deleted_at = now
    await organization.save(update_fields=["data_deleted_at"])
    return f"{organization.name}: data deleted after the retention period, invoices kept"


async def _close_usage_month(
    organization: Organization,
    row: Subscription,
    snapshot: CatalogSnapshot,
    now: datetime,
    processor: PaymentProcessor,
) -> str:
    """INV-4: a billing month inside a longer period ends: its usage invoice, then usage counts
    in the next month (USE-2)."""
    _, month_end = open_usage_month(row)
    usage = await _usage_invoice(organization, row, snapshot, now, processor)
    row.usage_closed_until = month_end
    await row.save()
    closed = f"{organization.name}: usage month to {month_end:%-d %b %Y} closed"
    return "; ".join([closed, *_some(usage)])
