"""An organization's subscription and its items."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from uuid import UUID

import strawberry

from billing import money
from billing import scheduled_change as scheduled
from billing.catalog import Plan as PlanRow
from billing.periods import BillingInterval
from billing.policies import UpgradePreference
from billing.pricing import ItemPriceParts, item_recurring_amount
from billing.subscription_status import SubscriptionStatus, next_billing_date
from models import Organization as OrganizationRow
from models import Price as PriceRow
from models import Subscription as SubscriptionRow
from models import SubscriptionItem as ItemRow
from models import SubscriptionItemAddOn as ItemAddOnRow
from resolvers.catalog import CatalogSnapshot, kept_price_rows
from resolvers.discounts import current_discount
from resolvers.lifecycle import cancellation_notice_date
from resolvers.loaders import UNKNOWN, known
from resolvers.renewal import upcoming_renewal
from schema.catalog import AddOn, Plan, Product, build_add_on, build_plan, build_product
from schema.common import Money
from schema.context import Info
from schema.discount import Discount
from schema.flexible_overage import FlexibleOverage, flexible_overages
from schema.invoice import UpcomingInvoice
from schema.permissions import CanReadBilling


@strawberry.type
class SubscriptionItem:
    product: Product
    plan: Plan
    seats: int | None
    contact_limit: int | None
    add_ons: list[AddOn]
    upgrade_preference: UpgradePreference | None = strawberry.field(
        description="null where the product offers no preference (PREF-2)."
    )
    auto_downgrade: bool
    automatic_charges_paused: bool = strawberry.field(
        description=(
            "DUN-5: true while a failed card payment keeps the organization's automatic charges "
            "(AUTO_UPGRADE, FLEXIBLE_OVERAGE) off; upgradePreference still shows the choice, "
            "which acts again once a billing manager sets it with a new valid card."
        )
    )
    scheduled_change: ScheduledChange | None = strawberry.field(
        description="This product line's change waiting for the period end (CHG-6, INT-1)."
    )
    prepaid_periods: int = strawberry.field(
        description="Whole periods a downgrade's credit paid for; renewals skip them (CHG-7)."
    )
    organization_id: strawberry.Private[UUID]
    costs: strawberry.Private[ItemCosts]
    pause_reason: strawberry.Private[str | None]

    @property
    def amount(self) -> money.Money:
        return self.costs.amount

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="DUN-5: why automatic charges are paused (the failed payment); null if not.",
    )
    def automatic_charges_pause_reason(self) -> str | None:
        return self.pause_reason

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description=(
            "What this item costs per period, at the price versions it signed up on (CAT-6)."
        ),
    )
    def recurring_amount(self) -> Money | None:
        return Money.from_domain(self.amount)

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description=(
            "PREF-1: what one flexible-overage purchase buys and costs, per limited metric; "
            "empty unless the product offers FLEXIBLE_OVERAGE and a higher tier exists."
        ),
    )
    def flexible_overages(self) -> list[FlexibleOverage] | None:
        return self.costs.overages


@strawberry.type(description="A change waiting for the end of the period (CHG-6, INT-1).")
class ScheduledChange:
    effective_at: datetime
    billing_interval: BillingInterval | None = strawberry.field(
        description="Set when a switch to a longer interval, already paid, starts then (INT-1)."
    )
    change: strawberry.Private[scheduled.ScheduledChange]

    @strawberry.field(description="The plan a scheduled downgrade moves to.")
    async def plan(self, info: Info) -> Plan | None:
        if self.change.kind is not scheduled.ScheduledKind.DOWNGRADE:
            return None
        snapshot = await info.context.loaders.catalog()
        return build_plan(snapshot, snapshot.plans_by_id[self.change.plan_id])


@strawberry.type
class Subscription:
    id: strawberry.ID
    status: SubscriptionStatus
    billing_interval: BillingInterval
    current_period_start: datetime
    current_period_end: datetime
    next_billing_date: datetime | None
    trial_ends_at: datetime | None
    cancel_at: datetime | None
    cancel_reason: str | None
    organization_id: strawberry.Private[UUID]
    subscription_id: strawberry.Private[UUID]
    currency: strawberry.Private[str]

    @classmethod
    def of(cls, row: SubscriptionRow) -> Subscription:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            billing_interval=row.billing_interval,
            current_period_start=row.current_period_start,
            current_period_end=row.current_period_end,
            next_billing_date=_next_billing_date(row),
            trial_ends_at=row.trial_ends_at,
            cancel_at=row.cancel_at,
            cancel_reason=row.cancel_reason,
            organization_id=row.organization_id,
            subscription_id=row.id,
            currency=row.currency,
        )

    @strawberry.field(graphql_type=list[SubscriptionItem])
    def items(self, info: Info) -> list[SubscriptionItem] | Awaitable[list[SubscriptionItem]]:
        # At once when the request already holds all they are made of (the billing page: its
        # one statement primed the loaders), with no coroutine for graphql-core to await.
        items = _known_items(info, self)
        return _load_items(info, self) if items is None else items

    @strawberry.field(
        description="The earliest of the items' scheduled changes (CHG-6, INT-1); see the items."
    )
    async def scheduled_change(self, info: Info) -> ScheduledChange | None:
        items = await _load_items(info, self)
        return next((i.scheduled_change for i in items if i.scheduled_change), None)

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="The sum of the items' recurring amounts (ACC-3: billing roles only).",
    )
    async def recurring_amount(self, info: Info) -> Money | None:
        items = await _load_items(info, self)
        return Money.from_domain(money.total([item.amount for item in items], self.currency))

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description=(
            "What the next renewal will bill, line by line, as a DRAFT (INV-1; ACC-3: billing "
            "roles only); null when the subscription does not renew at the end of this period."
        ),
    )
    async def upcoming_invoice(self, info: Info) -> UpcomingInvoice | None:
        snapshot = await info.context.loaders.catalog()
        renewal = await upcoming_renewal(self.organization_id, snapshot)
        return UpcomingInvoice.of(renewal) if renewal else None

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="DSC-1: the discount in force (ACC-3: billing roles only); null for none.",
    )
    async def discount(self) -> Discount | None:
        view = await current_discount(self.organization_id)
        return Discount.of(view, self.currency) if view else None

    @strawberry.field(
        description=(
            "CAN-1, CAN-2: when a cancellation requested now would take effect (the end of its "
            "notice); null when the subscription cannot be cancelled now."
        )
    )
    async def cancellation_date(self, info: Info) -> datetime | None:
        return await cancellation_notice_date(self.subscription_id, info.context.clock.now())


def _next_billing_date(row: SubscriptionRow) -> datetime | None:
    # CAN-2: a cancellation with a month's notice can let one more renewal happen.
    if (
        row.status is SubscriptionStatus.CANCELLING
        and row.cancel_at
        and row.cancel_at > row.current_period_end
    ):
        return row.current_period_end
    return next_billing_date(row.status, row.current_period_end)


async def _load_items(info: Info, subscription: Subscription) -> list[SubscriptionItem]:
    loaders = info.context.loaders
    rows = await loaders.items_by_subscription.load(subscription.subscription_id)
    add_on_rows = await loaders.add_ons_by_item.load_many([row.id for row in rows])
    snapshot = await loaders.catalog()
    price_ids = _all_price_ids(rows, add_on_rows)
    # Kept by the process with the snapshot (resolvers/catalog.py): then no loader's batch to
    # wait for; the loader reads those it does not keep, once for the request's fields.
    kept = kept_price_rows(snapshot, price_ids)
    if kept is None:
        kept = [p for p in await loaders.price.load_many(price_ids) if p is not None]
    organization = await loaders.organization.load(subscription.organization_id)
    return _items_of(subscription, rows, add_on_rows, snapshot, kept, organization)


def _known_items(info: Info, subscription: Subscription) -> list[SubscriptionItem] | None:
    """`_load_items`' answer when the request's loaders already hold all it needs; None when
    something must be read."""
    loaders = info.context.loaders
    rows = known(loaders.items_by_subscription, subscription.subscription_id)
    if rows is UNKNOWN:
        return None
    add_on_rows = []
    for row in rows:
        add_ons = known(loaders.add_ons_by_item, row.id)
        if add_ons is UNKNOWN:
            return None
        add_on_rows.append(add_ons)
    snapshot = loaders.known_catalog()
    if snapshot is None:
        return None
    kept = kept_price_rows(snapshot, _all_price_ids(rows, add_on_rows))
    organization = known(loaders.organization, subscription.organization_id)
    if kept is None or organization is UNKNOWN:
        return None
    return _items_of(subscription, rows, add_on_rows, snapshot, kept, organization)


def _all_price_ids(rows: list[ItemRow], add_on_rows: list[list[ItemAddOnRow]]) -> list[int]:
    price_ids = {pid for row in rows for pid in _price_ids(row)}
    price_ids |= {a.price_id for add_ons in add_on_rows for a in add_ons}
    return sorted(price_ids)


def _items_of(
    subscription: Subscription,
    rows: list[ItemRow],
    add_on_rows: list[list[ItemAddOnRow]],
    snapshot: CatalogSnapshot,
    price_rows: list[PriceRow],
    organization: OrganizationRow | None,
) -> list[SubscriptionItem]:
    prices = {p.id: p for p in price_rows}
    paused = organization is not None and organization.automatic_charges_paused
    reason = organization.automatic_charges_pause_reason if organization and paused else None
    pause = (reason, paused)
    position = {product.id: product.position for product in snapshot.products}
    pairs = sorted(
        zip(rows, add_on_rows, strict=True), key=lambda pair: position[pair[0].product_id]
    )
    context = _ItemContext(snapshot, prices, subscription, pause)
    return [_build_item(row, add_ons, context) for row, add_ons in pairs]


def _price_ids(row: ItemRow) -> list[int]:
    ids = [row.plan_price_id, row.seat_price_id, row.contact_limit_price_id]
    return [i for i in ids if i is not None]


@dataclass(frozen=True)
class _ItemContext:
    """What every item of one subscription is built with."""

    snapshot: CatalogSnapshot
    prices: dict[int, PriceRow]
    subscription: Subscription
    pause: tuple[str | None, bool]  # the organization's pause reason, and whether paused


def _build_item(
    row: ItemRow, add_ons: list[ItemAddOnRow], context: _ItemContext
) -> SubscriptionItem:
    snapshot, prices, pause = context.snapshot, context.prices, context.pause
    subscription = context.subscription
    organization_id, period_end = subscription.organization_id, subscription.current_period_end
    product_row = next(p for p in snapshot.products if p.id == row.product_id)
    plan_row = snapshot.plans_by_id[row.plan_id]
    parts = ItemPriceParts(
        plan=_money(prices[row.plan_price_id]),
        contact_limit_step=_money(prices[row.contact_limit_price_id])
        if row.contact_limit_price_id
        else None,
        seat_unit=_money(prices[row.seat_price_id]) if row.seat_price_id else None,
        seats=row.seats,
        seats_included=plan_row.seats_included or 0,
        add_ons=[_money(prices[a.price_id]) for a in add_ons],
    )
    return SubscriptionItem(
        product=build_product(snapshot, product_row),
        plan=build_plan(snapshot, plan_row),
        seats=row.seats,
        contact_limit=row.contact_limit,
        add_ons=[build_add_on(snapshot, snapshot.add_ons_by_id[a.add_on_id]) for a in add_ons],
        upgrade_preference=row.upgrade_preference,
        auto_downgrade=row.auto_downgrade,
        automatic_charges_paused=pause[1],
        scheduled_change=_scheduled(row, period_end),
        prepaid_periods=row.prepaid_periods,
        organization_id=organization_id,
        costs=ItemCosts(parts, snapshot, plan_row),
        pause_reason=pause[0],
    )


class ItemCosts:
    """An item's recurring amount and flexible overages, worked out from its prices when a field
    first asks for them: the billing page's items ask for neither."""

    def __init__(self, parts: ItemPriceParts, snapshot: CatalogSnapshot, plan: PlanRow) -> None:
        self._parts = parts
        self._snapshot = snapshot
        self._plan = plan

    @cached_property
    def amount(self) -> money.Money:
        return item_recurring_amount(self._parts)

    @cached_property
    def overages(self) -> list[FlexibleOverage]:
        return flexible_overages(self._snapshot, self._plan, self._parts.plan)


def _scheduled(row: ItemRow, period_end: datetime) -> ScheduledChange | None:
    if not row.scheduled_change:
        return None
    change = scheduled.ScheduledChange.from_json(row.scheduled_change)
    return ScheduledChange(effective_at=period_end, billing_interval=change.interval, change=change)


def _money(row: PriceRow) -> money.Money:
    return money.Money(row.amount, row.currency)
