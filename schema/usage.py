"""Usage: recording events (USE-1), meters against limits (USE-3) and the usage gate (USE-5)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types.arguments import InputContext

from billing.periods import billing_month_starting_in, parse_month, shift_months
from billing.policies import UpgradePreference
from billing.usage import GateReason, gate, on_demand_blocks, percent_used
from models import Organization as OrganizationRow
from models import Subscription as SubscriptionRow
from models import SubscriptionItem as ItemRow
from models import UsageCounter
from resolvers.catalog import CatalogSnapshot
from resolvers.usage import EventInput, usage_in_period
from resolvers.usage_charges import open_usage_month
from schema.common import Money
from schema.permissions import CanReadBilling
from schema.plan_change import UserError

strawberry.enum(GateReason, description="Why more usage is allowed or not (USE-5, CAN-4, DUN-5).")


@strawberry.input
class UsageEventInput:
    id: str = strawberry.field(description="Unique per organization: a resent event counts once.")
    product: str
    metric: str
    quantity: int | None = strawberry.field(default=None, description="Required except for mac.")
    contact_id: str | None = strawberry.field(default=None, description="Required for mac (USE-2).")
    workspace: str | None = strawberry.field(default=None, description="A workspace's slug.")
    occurred_at: datetime | None = None

    def to_event(self) -> EventInput:
        return EventInput(
            event_id=self.id,
            product=self.product,
            metric=self.metric,
            quantity=self.quantity,
            contact_id=self.contact_id,
            workspace=self.workspace,
            occurred_at=self.occurred_at,
        )


def _event_from_input(
    cls: type[UsageEventInput], value: Mapping[str, Any], _: InputContext
) -> UsageEventInput:
    """Ingestion's hot path: graphql-core has already coerced every field of the event (the
    DateTime scalar included), so it is built at once instead of field by field through
    Strawberry's generic conversion, which cost about 80 µs per event (bench/README.md)."""
    return cls(
        id=value["id"],
        product=value["product"],
        metric=value["metric"],
        quantity=value.get("quantity"),
        contact_id=value.get("contactId"),
        workspace=value.get("workspace"),
        occurred_at=value.get("occurredAt"),
    )


UsageEventInput.__strawberry_definition__.from_input = _event_from_input  # type: ignore[attr-defined]


@strawberry.type
class UsageRecorded:
    accepted: int
    duplicates: int = strawberry.field(
        description="Events already recorded (resent), counted once."
    )


RecordUsageResult = Annotated[UsageRecorded | UserError, strawberry.union("RecordUsageResult")]


@strawberry.type
class UsageMeter:
    product: str
    metric: str
    used: int
    limit: int | None
    percent: int | None = strawberry.field(description="Whole percent of the limit, rounded down.")
    period_start: datetime
    workspace: str | None
    organization_id: strawberry.Private[UUID]
    blocks: strawberry.Private[int | None]
    block_cost: strawberry.Private[Money | None]

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="USE-6: blocks past the limit so far this billing month (ON_DEMAND only).",
    )
    def on_demand_blocks(self) -> int | None:
        return self.blocks

    @strawberry.field(
        permission_classes=[CanReadBilling], description="What those blocks cost (ACC-3)."
    )
    def on_demand_cost(self) -> Money | None:
        return self.block_cost


@strawberry.type
class UsageGate:
    allowed: bool
    reason: GateReason
    used: int
    limit: int | None


async def meters(
    organization_id: UUID, snapshot: CatalogSnapshot, month: str | None, workspace: str | None
) -> list[UsageMeter]:
    subscription = await SubscriptionRow.get_or_none(organization_id=organization_id)
    if subscription is None:
        return []
    if month is None:
        period_start, _ = open_usage_month(subscription)
    else:
        period_start = await _period_in_month(organization_id, subscription, month)
    used = await usage_in_period(organization_id, period_start, workspace)
    items = await ItemRow.filter(subscription_id=subscription.id)
    result = []
    for item in sorted(items, key=lambda i: i.product_id):
        product = next(p for p in snapshot.products if p.id == item.product_id)
        limits = snapshot.plans_by_id[item.plan_id].limits
        for metric in product.metrics:
            value = used.get((product.id, metric), 0)
            limit = limits.get(metric)
            result.append(
                UsageMeter(
                    product=product.code,
                    metric=metric,
                    used=value,
                    limit=limit,
                    percent=percent_used(value, limit),
                    period_start=period_start,
                    workspace=workspace,
                    organization_id=organization_id,
                    **_on_demand(snapshot, item, metric, value, limit),
                )
            )
    return result


def _on_demand(
    snapshot: CatalogSnapshot, item: ItemRow, metric: str, used: int, limit: int | None
) -> dict[str, Any]:
    policy = snapshot.policies[item.product_id]
    size, price = policy.on_demand_block_size, policy.on_demand_block_price
    if (
        item.upgrade_preference is not UpgradePreference.ON_DEMAND
        or policy.on_demand_metric != metric
        or limit is None
        or not size
        or price is None
    ):
        return {"blocks": None, "block_cost": None}
    blocks = on_demand_blocks(used, limit, size)
    return {"blocks": blocks, "block_cost": Money.of(blocks * price, snapshot.currency)}


async def _period_in_month(
    organization_id: UUID, subscription: SubscriptionRow, month: str
) -> datetime:
    """USE-3: the billing month that started in that calendar month: the one its counters were
    kept under, or, where nothing was counted, the one the anchor steps to (all meters zero)."""
    year, number = parse_month(month)
    start = datetime(year, number, 1, tzinfo=UTC)
    counter = (
        await UsageCounter.filter(
            organization_id=organization_id,
            period_start__gte=start,
            period_start__lt=shift_months(start, 1),
        )
        .order_by("period_start")
        .first()
    )
    if counter is not None:
        return counter.period_start
    return billing_month_starting_in(subscription.billing_anchor, year, number)


async def usage_gate(
    organization: OrganizationRow,
    snapshot: CatalogSnapshot,
    product: str,
    metric: str,
    quantity: int,
) -> UsageGate:
    subscription = await SubscriptionRow.get_or_none(organization_id=organization.id)
    product_row = next((p for p in snapshot.products if p.code == product), None)
    item = (
        await ItemRow.get_or_none(subscription_id=subscription.id, product_id=product_row.id)
        if subscription and product_row
        else None
    )
    if subscription is None or item is None or product_row is None:
        decision = gate(
            None, 0, None, quantity, None, organization.automatic_charges_paused, higher_tier=False
        )
        return UsageGate(allowed=decision.allowed, reason=decision.reason, used=0, limit=None)
    month_start, _ = open_usage_month(subscription)
    used = (await usage_in_period(organization.id, month_start, None)).get(
        (product_row.id, metric), 0
    )

    plan = snapshot.plans_by_id[item.plan_id]
    limit = plan.limits.get(metric)
    decision = gate(
        subscription.status,
        used,
        limit,
        quantity,
        item.upgrade_preference,
        organization.automatic_charges_paused,
        higher_tier=snapshot.next_tier(plan) is not None,
    )

    return UsageGate(allowed=decision.allowed, reason=decision.reason, used=used, limit=limit)


@strawberry.type(
    description="A product's upgrade preference and auto-downgrade (PREF-1 to PREF-3)."
)
class ProductPreferences:
    product: str
    preference: UpgradePreference | None
    auto_downgrade: bool


SetUpgradePreferenceResult = Annotated[
    ProductPreferences | UserError, strawberry.union("SetUpgradePreferenceResult")
]
SetAutoDowngradeResult = Annotated[
    ProductPreferences | UserError, strawberry.union("SetAutoDowngradeResult")
]
