"""Entitlements (EVT-2): what the organization may use now. No amounts (ACC-3): any member, and a
partner key with the scope entitlements:read, may read them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from billing import entitlements as rules
from billing.subscription_status import SubscriptionStatus
from billing.usage import GateReason
from resolvers.entitlements import load_entitlements
from schema.context import Info


@strawberry.type(description="A feature of the product's plans, and whether the plan has it.")
class FeatureEntitlement:
    feature: str
    enabled: bool


@strawberry.type(description="A metered limit this billing month (USE-3, USE-5).")
class LimitEntitlement:
    metric: str
    limit: int | None = strawberry.field(description="Null: the plan does not limit it.")
    used: int
    remaining: int | None = strawberry.field(description="Never below 0; null when unlimited.")
    resets_at: datetime | None = strawberry.field(
        description="When the count starts again; null for what is stored (contacts, profiles)."
    )
    allowed: bool = strawberry.field(description="May one more be used now (the usage gate).")
    reason: GateReason = strawberry.field(description="Why not, when not allowed.")


@strawberry.type
class ProductEntitlements:
    product: str
    plan: str
    plan_name: str
    features: list[FeatureEntitlement]
    limits: list[LimitEntitlement]


@strawberry.type(description="EVT-2: every feature of the current plans and every metered limit.")
class Entitlements:
    status: SubscriptionStatus | None = strawberry.field(description="Null: no subscription.")
    products: list[ProductEntitlements]


def _product(p: rules.ProductEntitlements) -> ProductEntitlements:
    return ProductEntitlements(
        product=p.product,
        plan=p.plan,
        plan_name=p.plan_name,
        features=[FeatureEntitlement(feature=f.feature, enabled=f.enabled) for f in p.features],
        limits=[
            LimitEntitlement(
                metric=limit.metric,
                limit=limit.limit,
                used=limit.used,
                remaining=limit.remaining,
                resets_at=limit.resets_at,
                allowed=limit.allowed,
                reason=limit.reason,
            )
            for limit in p.limits
        ],
    )


async def entitlements_of(info: Info, organization_id: UUID) -> Entitlements:
    loaded = await load_entitlements(organization_id, await info.context.loaders.catalog())
    return Entitlements(status=loaded.status, products=[_product(p) for p in loaded.products])
