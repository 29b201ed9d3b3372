"""Usage: recording events (USE-1), meters against limits (USE-3) and the usage gate (USE-5)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types.arguments import InputContext

from billing.policies import UpgradePreference
from billing.usage import GateReason
from models import Organization as OrganizationRow
from resolvers import usage_meters
from resolvers.catalog import CatalogSnapshot
from resolvers.usage import EventInput
from schema.common import Money
from schema.context import Info
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
    info: Info, organization_id: UUID, month: str | None, workspace: str | None
) -> list[UsageMeter]:
    loaders = info.context.loaders
    snapshot = await loaders.catalog()
    subscription = await loaders.subscription_by_organization.load(organization_id)
    items = await loaders.items_by_subscription.load(subscription.id) if subscription else []
    readings = await usage_meters.read_meters(
        organization_id, snapshot, subscription, items, month, workspace
    )
    return [
        UsageMeter(
            product=r.product,
            metric=r.metric,
            used=r.used,
            limit=r.limit,
            percent=r.percent,
            period_start=r.period_start,
            workspace=r.workspace,
            organization_id=organization_id,
            blocks=r.blocks,
            block_cost=Money.of(r.block_cost, subscription.currency if subscription else "USD")
            if r.block_cost is not None
            else None,
        )
        for r in readings
    ]


async def usage_gate(
    organization: OrganizationRow,
    snapshot: CatalogSnapshot,
    product: str,
    metric: str,
    quantity: int,
) -> UsageGate:
    answer = await usage_meters.gate_usage(organization, snapshot, product, metric, quantity)
    return UsageGate(
        allowed=answer.allowed, reason=answer.reason, used=answer.used, limit=answer.limit
    )


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
