"""What happens when usage reaches a limit, per the product's preference (PREF-1, USE-6):
AUTO_UPGRADE moves to the next tier, charged as an upgrade; FLEXIBLE_OVERAGE buys the next tier's
extra volume as a one-time charge, as often as needed; ON_DEMAND bills blocks on the usage
invoice; NONE only stops the gate. A failed automatic charge never loses the usage recorded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.catalog import Plan
from billing.clock import offset
from billing.errors import BillingError
from billing.invoices import InvoiceKind, InvoiceStatus, invoice_transition
from billing.limits import LimitAction, LimitFacts, action_at_limit, buys_at_month_close
from billing.money import Money
from billing.notifications import NotificationKind
from billing.quote import Line
from billing.usage import Overage, flexible_overage
from billing.webhooks import EventType
from models import (
    ALL_WORKSPACES,
    Organization,
    OveragePurchase,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    UsageCounter,
)
from payments.port import ChargeStatus, PaymentProcessor
from resolvers import plan_change
from resolvers.catalog import CatalogSnapshot
from resolvers.invoice_payments import card_failed
from resolvers.invoicing import InvoiceContent, collect, issue_invoice
from resolvers.locks import lock_organization
from resolvers.notices import notify
from resolvers.subscription_state import ChangeRequest
from resolvers.usage_charges import open_usage_month, subscription_and_items, used_in_period
from resolvers.webhook_events import record_event

log = logging.getLogger("billing_gateway.usage")
SYSTEM = UUID(int=0)  # automatic actions are nobody's request


@dataclass(frozen=True)
class LimitsTouched:
    """The (product id, metric) pairs usage touched, and the billing month [start, end) it was
    recorded in."""

    pairs: set[tuple[int, str]]
    month: tuple[datetime, datetime]


@dataclass(frozen=True)
class _Acting:
    """An automatic action's organization (read under its exclusive lock), catalog and time:
    `base_now` is the server's, `now` the organization's (its test clock's offset applied)."""

    organization: Organization
    snapshot: CatalogSnapshot
    base_now: datetime
    now: datetime
    processor: PaymentProcessor


@dataclass(frozen=True)
class _PastLimit:
    """One line past its limit and the volume bought, with the next tier to buy from."""

    item: SubscriptionItem
    plan: Plan
    following: Plan
    metric: str
    used: int
    allowance: int  # the plan's limit and the volume bought this billing month
    month: tuple[datetime, datetime]


async def bought_volume(
    organization_id: UUID, product_id: int, metric: str, period_start: datetime
) -> int:
    purchases = await OveragePurchase.filter(
        organization_id=organization_id,
        product_id=product_id,
        metric=metric,
        period_start=period_start,
    )
    return sum(p.volume for p in purchases)


async def act_on_limits_recorded(
    organization_id: UUID,
    touched: LimitsTouched,
    snapshot: CatalogSnapshot,
    base_now: datetime,
    processor: PaymentProcessor,
) -> None:
    """Acts on usage already recorded in the billing month, under the organization's exclusive
    lock: what another batch or the billing clock did meanwhile is seen, so a limit is acted on
    once."""
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        subscription, items = await subscription_and_items(organization_id)
        acting = _Acting(organization, snapshot, base_now, now, processor)
        await act_on_limits(acting, subscription, items, touched)


async def settle_flexible_overage(
    organization: Organization,
    subscription: Subscription,
    snapshot: CatalogSnapshot,
    now: datetime,
    processor: PaymentProcessor,
) -> None:
    """At the close of a billing month, under the exclusive lock: volume past the limit and not
    yet bought is bought now (PREF-1). Batches buy it as they pass the limit; this catches a
    purchase that never ran, say the process stopped right after a batch was recorded."""
    items = {
        i.product_id: i for i in await SubscriptionItem.filter(subscription_id=subscription.id)
    }
    pairs = {
        (product_id, metric)
        for product_id, item in items.items()
        if buys_at_month_close(item.upgrade_preference)
        for metric in snapshot.plans_by_id[item.plan_id].limits
    }
    if pairs:
        touched = LimitsTouched(pairs, open_usage_month(subscription))
        acting = _Acting(organization, snapshot, now, now, processor)
        await act_on_limits(acting, subscription, items, touched)


async def act_on_limits(
    acting: _Acting,
    subscription: Subscription,
    items: dict[int, SubscriptionItem],
    touched: LimitsTouched,
) -> None:
    """`items` are the subscription's items by product id, read under the organization's lock.
    The billing month may have closed since the usage was recorded: volume bought is still owed
    for it, but a move to a higher tier no longer serves it (billing.limits)."""
    organization = acting.organization
    if organization.automatic_charges_paused:
        return  # DUN-5: nothing automatic until a billing manager restarts it
    month_start, _ = touched.month
    month_open = touched.month == open_usage_month(subscription)
    for product_id, metric in sorted(touched.pairs):
        item = items.get(product_id)
        if item is None:
            continue
        plan = acting.snapshot.plans_by_id[item.plan_id]
        limit = plan.limits.get(metric)
        following = acting.snapshot.next_tier(plan)
        used = await used_in_period(organization.id, product_id, metric, month_start)
        extra = await bought_volume(organization.id, product_id, metric, month_start)
        facts = LimitFacts(
            item.upgrade_preference, used, limit, extra, following is not None, month_open
        )
        action = action_at_limit(facts)
        if action is LimitAction.TELL_HIGHEST_TIER:
            await _tell_highest_tier_passed(organization.id, plan, metric, month_start, acting.now)
        elif following is not None and limit is not None and action is not LimitAction.NOTHING:
            line = _PastLimit(item, plan, following, metric, used, limit + extra, touched.month)
            await _act(acting, action, line)


async def _act(acting: _Acting, action: LimitAction, line: _PastLimit) -> None:
    try:
        async with in_transaction():  # a savepoint: a failed charge rolls back only itself
            if action is LimitAction.AUTO_UPGRADE:
                await _auto_upgrade(acting, line.item.product_id, line.following)
            else:
                await _buy_overage(acting, line)
    except BillingError as error:
        organization = acting.organization
        log.info("automatic action for %s failed: %s", organization.id, error.message)
        message = f"{line.plan.name}: the automatic charge failed ({error.message})"
        await card_failed(organization, message, acting.now)


async def _tell_highest_tier_passed(
    organization_id: UUID, plan: Plan, metric: str, month_start: datetime, now: datetime
) -> None:
    """Once per billing month: nothing higher can be bought, so the gate now blocks (USE-5)."""
    told = await UsageCounter.filter(
        organization_id=organization_id,
        product_id=plan.product_id,
        metric=metric,
        period_start=month_start,
        workspace=ALL_WORKSPACES,
        limit_notified=False,
    ).update(limit_notified=True)
    if told:
        await notify(
            organization_id,
            NotificationKind.LIMIT_REACHED,
            f"{plan.name} is the highest tier and its {plan.limits[metric]:,} {metric} are used "
            "this billing month: more waits for the next month.",
            now,
        )
        product = await Product.get(id=plan.product_id)
        usage = {"product": product.code, "plan": plan.code, "metric": metric}
        data = {**usage, "limit": plan.limits[metric], "outbound_blocked": True}
        await record_event(organization_id, EventType.USAGE_LIMIT_REACHED, data, now)  # EVT-1


async def _auto_upgrade(acting: _Acting, product_id: int, following: Plan) -> None:
    organization, base_now = acting.organization, acting.base_now
    product = acting.snapshot.product(product_id)
    request = ChangeRequest(product=product.code, plan=following.code)
    quote = await plan_change.preview(organization, acting.snapshot, request, base_now)
    order = plan_change.Order(request, quote.amount_due_now, SYSTEM)
    outcome = await plan_change.apply_change(
        organization.id, order, base_now, acting.processor, acting.snapshot
    )
    if not isinstance(outcome, plan_change.Applied):
        raise BillingError("the upgrade waits for the customer's authentication")
    amount = Money(quote.amount_due_now, quote.currency).formatted()
    await notify(
        organization.id,
        NotificationKind.AUTO_UPGRADE,
        f"{product.name}: moved to {following.name} at the limit, {amount} charged.",
        acting.now,
    )


async def _buy_overage(acting: _Acting, line: _PastLimit) -> None:
    price = await Price.get(id=line.item.plan_price_id)
    plan, metric = line.plan, line.metric
    limit, next_limit = plan.limits[metric], line.following.limits.get(metric)
    if not next_limit or next_limit <= limit:
        raise BillingError(f"{line.following.name} has no more {metric} to sell")
    overage = flexible_overage(limit, next_limit, price.amount)
    allowance, purchases = line.allowance, 0
    while line.used > allowance:  # as often as needed, each a one-time charge (PREF-1)
        await _buy_once(acting, line, overage, price.currency)
        allowance += overage.volume
        purchases += 1
    amount = Money(overage.amount * purchases, price.currency).formatted()
    await notify(
        acting.organization.id,
        NotificationKind.FLEXIBLE_OVERAGE,
        f"{plan.name}: {purchases} x {overage.volume:,} more {metric}, {amount} charged.",
        acting.now,
    )


async def _buy_once(acting: _Acting, line: _PastLimit, overage: Overage, currency: str) -> None:
    """One purchase of the next tier's extra volume: invoiced, charged, and recorded once paid;
    a declined charge voids its invoice."""
    organization, now = acting.organization, acting.now
    month_start, month_end = line.month
    description = (
        f"{line.plan.name}: {overage.volume:,} more {line.metric} this month (flexible overage)"
    )
    charge = Line(description, overage.amount, month_start, month_end)
    invoice = await issue_invoice(
        organization, InvoiceContent(InvoiceKind.USAGE, [charge], currency), now
    )
    result = await collect(invoice, acting.processor, now)
    if result is not None and result.status is not ChargeStatus.SUCCEEDED:
        invoice.status = invoice_transition(invoice.status, InvoiceStatus.VOID)
        await invoice.save(update_fields=["status"])
        raise BillingError(result.failure_message or "the card was not charged")
    await OveragePurchase.create(
        organization_id=organization.id,
        product_id=line.item.product_id,
        metric=line.metric,
        period_start=month_start,
        volume=overage.volume,
        amount=overage.amount,
        invoice_id=invoice.id,
        created_at=now,
    )
