"""Previewing and applying a plan change (CHG-1 to CHG-11, INT-1 to INT-3, SUB-2).

Applying re-computes the preview inside the transaction that holds the organization's row lock
and refuses when the amount differs from the one the client confirmed (CHG-2). The charge is made
inside that transaction: if it fails, nothing changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise.exceptions import DoesNotExist
from tortoise.transactions import in_transaction

from billing import discounts, quote
from billing.cards import card_expired
from billing.clock import offset
from billing.credit_notes import CreditDestination
from billing.errors import BillingError, NotFoundError
from billing.invoices import InvoiceKind
from billing.money import Money
from billing.periods import BillingInterval
from billing.quote import Line
from billing.schedule import RESCHEDULE
from billing.scheduled_change import ScheduledChange, ScheduledKind, interval_switch
from billing.subscription_status import Event, SubscriptionStatus, transition
from billing.webhooks import EventType
from models import (
    AccountChangeRequest,
    Invoice,
    Organization,
    PaymentMethod,
    Subscription,
    SubscriptionDiscount,
)
from payments.port import ChargeStatus, PaymentProcessor
from resolvers import discounts as discount_store
from resolvers import hot_reads
from resolvers.catalog import CatalogSnapshot, load_catalog_snapshot
from resolvers.credit_notes import CreditNoteContent, corrected_invoice, issue_credit_note
from resolvers.invoicing import (
    Collecting,
    InvoiceContent,
    Parties,
    collect,
    default_payment_method,
    issue_invoice,
)
from resolvers.locks import lock_organization, mark_for_reschedule
from resolvers.scheduled_changes import (
    drop_replaced_downgrade,
    schedule_interval_switch,
    scheduled_changes,
    set_scheduled_change,
)
from resolvers.subscription_state import (
    ChangeRequest,
    ItemTerms,
    LoadedSubscription,
    load_prices,
    load_subscription,
    loaded_of,
    product_id_of,
    wanted_terms,
)
from resolvers.subscription_writes import apply_result, set_credit_balance
from resolvers.taxes import rate_of, reversed_rate_of
from resolvers.usage_charges import on_demand_charges
from resolvers.webhook_events import (
    endpoints_kept,
    plan_change_event,
    status_changed,
    subscription_event,
)

CHANGE_CREDIT_REASON = "Unused time a plan change credits beyond what the change charges."


@dataclass(frozen=True)
class Applied:
    quote: quote.Quote
    invoice: Invoice | None
    subscription: Subscription | None = None  # the row as written, when there is one


@dataclass(frozen=True)
class Scheduled:
    quote: quote.Quote
    subscription: Subscription | None = None


@dataclass(frozen=True)
class ActionRequired:
    quote: quote.Quote
    invoice: Invoice
    client_secret: str


@dataclass(frozen=True)
class Requested:
    request: AccountChangeRequest


Outcome = Applied | Scheduled | ActionRequired | Requested


@dataclass(frozen=True)
class Order:
    """A change as its caller confirmed it: what, at the amount previewed, asked by whom;
    `subscribing` for subscribe (from a trial or after a cancellation), not changePlan."""

    request: ChangeRequest
    confirm_amount_due: int
    user_id: UUID
    subscribing: bool = False
    promotion_code: str | None = None  # DSC-1: typed with the change


@dataclass
class _Prepared:
    loaded: LoadedSubscription
    terms: dict[int, ItemTerms]
    interval: BillingInterval
    quote: quote.Quote
    changed_product_id: int
    old_status: SubscriptionStatus | None  # None: there was no subscription yet
    card: PaymentMethod | None  # the default card as read under the lock, charged as read
    parties: Parties  # the issuer and billing information as read under the lock (INV-3, TAX-1)
    offered: discount_store.Offered | None = None  # a promotion code applied with the change


async def preview(
    organization: Organization,
    snapshot: CatalogSnapshot,
    request: ChangeRequest,
    base_now: datetime,
    promotion_code: str | None = None,
    *,
    read: hot_reads.OrganizationRows | None = None,
) -> quote.Quote:
    """`read`: the organization's rows as the caller read them (`organization` among them);
    the subscription is read here when not given."""
    now = offset(base_now, organization.clock_offset_seconds)
    if read is None:
        loaded = await load_subscription(organization, snapshot, lock=False)
    elif read.subscription is None:
        loaded = None
    else:
        loaded = await loaded_of(
            organization, read.subscription, read.items, read.add_ons, snapshot
        )
    prepared = await _prepare(
        organization, loaded, snapshot, request, now, lock=False, code=promotion_code
    )
    return prepared.quote


async def apply_change(
    organization_id: UUID,
    order: Order,
    base_now: datetime,
    processor: PaymentProcessor,
    snapshot: CatalogSnapshot | None = None,
    on_locked: Callable[[Organization], None] | None = None,
) -> Outcome:
    """`snapshot`: the request's catalog (the process keeps it while the catalog revision stays
    the same); read whole when not given. A catalog changed since the preview changes the amount
    or the terms, which the check below refuses (CHG-2). `on_locked` is given the organization's
    row as read under its lock (a request keeps it rather than read it again)."""
    request, confirm_amount_due = order.request, order.confirm_amount_due
    if snapshot is None:
        snapshot = await load_catalog_snapshot()
    async with in_transaction(), endpoints_kept():
        organization = await _locked(organization_id)
        if on_locked is not None:
            on_locked(organization)
        now = offset(base_now, organization.clock_offset_seconds)
        loaded = await load_subscription(organization, snapshot, lock=False)
        prepared = await _prepare(
            organization, loaded, snapshot, request, now, lock=True, code=order.promotion_code
        )
        _check_entry(prepared.loaded.row.status, order.subscribing)
        q = prepared.quote
        if q.blockers:
            raise BillingError(q.blockers[0].message, reason=q.blockers[0].code)
        if q.amount_due_now != confirm_amount_due:
            due = Money(q.amount_due_now, q.currency).formatted()
            raise BillingError(
                f"The amount due is now {due}, not the {confirm_amount_due} (cents) you confirmed: "
                "preview the change again.",
                field="confirmAmountDue",
                reason="AMOUNT_CHANGED",
            )
        if q.kind is quote.ChangeKind.NO_CHANGE:
            raise BillingError(
                "Nothing to change: the subscription already has these terms.",
                field="input",
                reason="NO_CHANGE",
            )
        if prepared.offered is not None:
            await discount_store.redeem(organization, prepared.offered, now)
        if q.timing is quote.ChangeTiming.BY_REQUEST:
            await mark_for_reschedule(organization_id)
            return Requested(await _file_request(prepared, request, order.user_id, now))
        if q.timing is quote.ChangeTiming.END_OF_PERIOD:
            await _schedule(prepared, request.product)
            await _recorded(prepared, request.product, EventType.PLAN_CHANGE_SCHEDULED, now)
            return Scheduled(q, prepared.loaded.row)
        outcome = await _apply_now(prepared, organization, processor, now)
        if isinstance(outcome, Applied):
            await _recorded(prepared, request.product, EventType.PLAN_CHANGE_APPLIED, now)
        return outcome


async def _locked(organization_id: UUID) -> Organization:
    """The organization under its lock, which covers its subscription's rows (resolvers/locks):
    the subscription is marked for the billing clock (MNY-4) where the change writes it."""
    try:
        return await lock_organization(organization_id, reschedule=False)
    except DoesNotExist:
        raise NotFoundError("No organization of yours is there any more.") from None


async def _recorded(prepared: _Prepared, product: str, type: EventType, now: datetime) -> None:
    """EVT-1: the change, and what it did to the subscription (created, status changed)."""
    row, old = prepared.loaded.row, prepared.old_status
    q = prepared.quote
    change = {
        "product": product,
        "kind": q.kind.value,
        "timing": q.timing.value,
        "effective_at": q.effective_at.isoformat(),
        "amount_due_now": q.amount_due_now,
        "currency": q.currency,
    }
    if old in (None, SubscriptionStatus.CANCELLED):  # SUB-3: a new subscription
        await subscription_event(row, EventType.SUBSCRIPTION_CREATED, now)
    await plan_change_event(row, type, change, now)
    if old is not None:
        await status_changed(row, old, now, "plan change")


async def has_valid_card(organization_id: UUID, now: datetime) -> bool:
    return _usable(await default_payment_method(organization_id), now)


def _usable(card: PaymentMethod | None, now: datetime) -> bool:
    return card is not None and not card_expired(card.exp_year, card.exp_month, now)


def _check_entry(status: SubscriptionStatus, subscribing: bool) -> None:
    if status is SubscriptionStatus.CANCELLED and not subscribing:
        raise BillingError(
            "The subscription is cancelled: subscribe to start a new one.",
            field="input",
            reason="SUBSCRIPTION_CANCELLED",
        )
    on_trial = status in (SubscriptionStatus.TRIALING, SubscriptionStatus.TRIAL_ENDED)
    if subscribing and not on_trial and status is not SubscriptionStatus.CANCELLED:
        raise BillingError(
            "This organization already has a paid subscription: use changePlan.", field="input"
        )
    if not subscribing and on_trial:
        raise BillingError(
            "The organization is on a trial: subscribe to start a paid plan.", field="input"
        )


async def _prepare(
    organization: Organization,
    loaded: LoadedSubscription | None,
    snapshot: CatalogSnapshot,
    request: ChangeRequest,
    now: datetime,
    *,
    lock: bool,
    code: str | None = None,
) -> _Prepared:
    """`loaded`: the organization's subscription (None: it has none)."""
    old_status = loaded.row.status if loaded is not None else None
    if loaded is None:
        loaded = _no_subscription(organization, snapshot, request, now)
    elif loaded.row.status is SubscriptionStatus.CANCELLED:
        # SUB-3: subscribing again starts a new subscription, from no items, at current prices.
        loaded = _no_subscription(
            organization, snapshot, request, now, SubscriptionStatus.CANCELLED
        )
    terms, interval = wanted_terms(loaded, request)
    await load_prices(loaded, [pid for t in terms.values() for pid in t.price_ids()])
    product_id = product_id_of(loaded, request.product)
    seats_in_use, stock = loaded.facts_for(product_id)
    scheduled = scheduled_changes(loaded.items.values())
    # Independent reads, side by side: on PostgreSQL outside a transaction each takes a pooled
    # connection; a transaction's connection (and SQLite's) runs them one after another.
    read, usage = await asyncio.gather(
        hot_reads.change_facts(organization.id, now), _usage_charges(loaded, snapshot)
    )
    card, issuing = read.card, read.issuing
    charge = (issuing.charge_found, issuing.charge_rate)
    facts = quote.Facts(
        stock=stock,
        seats_in_use=seats_in_use,
        has_payment_method=_usable(card, now),
        overdue_invoices=read.overdue,
        usage_charges=tuple(usage),
        payment_waiting=read.payment_waiting,
        interval_switch_pending=interval_switch(scheduled.values()) is not None,
        scheduled_downgrade=await _scheduled_downgrade(loaded, scheduled.get(product_id)),
        tax=rate_of(issuing.issuer, issuing.billing_info),  # TAX-1
        reversed_tax=reversed_rate_of(*charge) if loaded.row.id else None,
    )
    wanted = loaded.domain(terms, interval)
    offered, discount = await _discount(loaded, wanted, code, now, issuing.discount, lock=lock)
    facts = replace(facts, discount=discount)
    policy = snapshot.policies[product_id]
    rules = quote.Policy(policy.upgrade_proration, policy.downgrade_timing)
    line = quote.LineChange(request.product, rules, now)
    q = quote.quote(loaded.domain(), wanted, line, facts)
    parties = Parties(issuing.issuer, issuing.billing_info)
    return _Prepared(loaded, terms, interval, q, product_id, old_status, card, parties, offered)


async def _discount(
    loaded: LoadedSubscription,
    wanted: quote.Subscription,
    code: str | None,
    now: datetime,
    stored: SubscriptionDiscount | None,
    *,
    lock: bool,
) -> tuple[discount_store.Offered | None, discounts.InForce | None]:
    """DSC-1: the discount the change's invoice gets: a promotion code typed with it (checked
    here, so a refused code changes nothing), or the one in force (`stored`: its row)."""
    organization, row = loaded.organization, loaded.row
    if code is None:
        return None, await discount_store.in_force(stored, row) if row.id else None
    subscribed = [(item.product, item.plan) for item in wanted.items]
    offered = await discount_store.offer(organization, code, subscribed, now, lock=lock)
    if row.status in quote.STARTS_A_PAID_PERIOD:
        return offered, discount_store.starting_now(offered)
    return offered, discount_store.applied_mid_period(offered)


async def _usage_charges(loaded: LoadedSubscription, snapshot: CatalogSnapshot) -> list[Line]:
    if not loaded.row.id:
        return []
    organization_id = loaded.organization.id
    return await on_demand_charges(organization_id, loaded.row, snapshot, loaded.items.values())


def _no_subscription(
    organization: Organization,
    snapshot: CatalogSnapshot,
    request: ChangeRequest,
    now: datetime,
    status: SubscriptionStatus = SubscriptionStatus.TRIAL_ENDED,
) -> LoadedSubscription:
    row = Subscription(
        organization=organization,
        status=status,
        billing_interval=request.billing_interval or BillingInterval.MONTHLY,
        currency=organization.currency,
        billing_anchor=now,
        current_period_start=now,
        current_period_end=now,
    )
    return LoadedSubscription(organization, row, {}, {}, {}, snapshot)


async def _file_request(
    prepared: _Prepared, request: ChangeRequest, user_id: UUID, now: datetime
) -> AccountChangeRequest:
    new = prepared.quote.result.item(request.product) or prepared.quote.result.items[0]
    wanted = prepared.terms[product_id_of(prepared.loaded, request.product)]
    target = prepared.loaded.domain_item(wanted)
    return await AccountChangeRequest.create(
        organization_id=prepared.loaded.organization.id,
        requested_by_id=user_id,
        message=f"Change {new.product_name} to {target.describe()}.",
        wanted=wanted.to_json(),
        created_at=now,
    )


async def _schedule(prepared: _Prepared, product: str) -> None:
    # CHG-6: the downgrade belongs to its product line (replacing one scheduled for it before).
    row = prepared.loaded.row
    product_id = product_id_of(prepared.loaded, product)
    change = ScheduledChange(ScheduledKind.DOWNGRADE, prepared.terms[product_id].to_json())
    await set_scheduled_change(prepared.loaded.items[product_id], change)
    row.status = transition(row.status, Event.SCHEDULE_DOWNGRADE)
    row.next_due_at = RESCHEDULE  # MNY-4: the clock works the due time out again
    await row.save(update_fields=["status", "next_due_at", "updated_at"])


async def _scheduled_downgrade(
    loaded: LoadedSubscription, change: ScheduledChange | None
) -> quote.Item | None:
    """The line the changed product line is to become at the period end (CHG-6), if any."""
    if change is None or change.kind is not ScheduledKind.DOWNGRADE:
        return None
    terms = ItemTerms.from_json(dict(change.terms))
    await load_prices(loaded, terms.price_ids())
    return loaded.domain_item(terms)


async def _apply_now(
    prepared: _Prepared, organization: Organization, processor: PaymentProcessor, now: datetime
) -> Outcome:
    q = prepared.quote
    invoice = None
    if q.lines:
        period = (q.result.period_start, q.result.period_end)
        issued = q.issued  # CRN-1: a credit beyond the charges goes to a credit note
        corrected = await corrected_invoice(organization.id, now) if issued.credit_lines else None
        content = InvoiceContent(
            InvoiceKind.PLAN_CHANGE, issued.invoice_lines, q.currency, q.credit_applied, period
        )
        invoice = await issue_invoice(organization, content, now, prepared.parties)
        if issued.credit_lines:
            note = CreditNoteContent(
                invoice=corrected or invoice,
                lines=issued.credit_lines,
                destination=CreditDestination.CREDIT_BALANCE,
                reason=CHANGE_CREDIT_REASON,
            )
            await issue_credit_note(organization, note, now)
        pending = pending_change(prepared)
        # A new invoice: its first charge attempt, to the card read under this lock.
        known = Collecting(card=prepared.card, organization=organization, attempt=1)
        result = await collect(invoice, processor, now, pending_change=pending, known=known)
        if result is not None and result.status is ChargeStatus.FAILED:
            raise BillingError(
                _declined(result.failure_code, result.failure_message), reason="PAYMENT_DECLINED"
            )
        if result is not None and result.status is ChargeStatus.REQUIRES_ACTION:
            await mark_for_reschedule(organization.id)
            return ActionRequired(q, invoice, result.client_secret or "")
    if q.interval_switch_at is not None:
        await mark_for_reschedule(organization.id)
        await _schedule_interval_switch(prepared)
        return Applied(q, invoice)
    await apply_result(prepared.loaded, prepared.terms, q.result, q.credit_balance_after)
    if q.replaces_scheduled_change:
        await drop_replaced_downgrade(prepared.loaded, prepared.changed_product_id)
    return Applied(q, invoice, prepared.loaded.row)


async def _schedule_interval_switch(prepared: _Prepared) -> None:
    await schedule_interval_switch(prepared.loaded, prepared.interval, prepared.terms.values())
    await set_credit_balance(prepared.loaded.organization, prepared.quote.credit_balance_after)


def pending_change(prepared: _Prepared) -> dict[str, Any]:
    result = prepared.quote.result
    return {
        "terms": [t.to_json() for t in prepared.terms.values()],
        "status": result.status.value,
        "interval": result.interval.value,
        "anchor": result.anchor.isoformat(),
        "period_start": result.period_start.isoformat(),
        "period_end": result.period_end.isoformat(),
        "credit_balance_after": prepared.quote.credit_balance_after,
        "prepaid": {i.product: i.prepaid_periods for i in result.items},
        "interval_switch": prepared.quote.interval_switch_at is not None,
        # CHG-6: the line whose scheduled downgrade the change replaces once it is paid.
        "replaces_scheduled_change_of": prepared.changed_product_id
        if prepared.quote.replaces_scheduled_change
        else None,
    }


def _declined(code: str | None, message: str | None) -> str:
    reasons = {
        "card_declined": "The card was declined by the bank",
        "insufficient_funds": "The card was declined: insufficient funds",
        "expired_card": "The card has expired",
        "no_payment_method": "There is no payment method on file",
    }
    reason = reasons.get(code or "", message or "The payment failed")
    return f"{reason}. Nothing was changed or charged: use another card and try again."
