"""The catalog as clients see it: products, plans, bundles, add-ons, ladders, policies, prices.
All of it is public, list prices included (ACC-3): a pricing page reads it before sign-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

from billing.catalog import AddOn as AddOnRow
from billing.catalog import Plan as PlanRow
from billing.catalog import Price as PriceRow
from billing.catalog import Product as ProductRow
from billing.currency import chosen_currency
from billing.periods import BillingInterval
from billing.policies import (
    CancellationNotice,
    DowngradeTiming,
    UpgradePreference,
    UpgradeProration,
)
from resolvers.catalog import CatalogSnapshot
from schema.common import Money

T = TypeVar("T")


@strawberry.type(description="One current price version of a plan, add-on, ladder step or seat.")
class Price:
    interval: BillingInterval
    amount: Money
    version: int

    @classmethod
    def of(cls, row: PriceRow) -> Price:
        return cls(
            interval=row.interval, amount=Money.of(row.amount, row.currency), version=row.version
        )


@strawberry.type
class Limit:
    metric: str
    value: int


@strawberry.type
class Plan:
    code: str
    name: str
    rank: int = strawberry.field(description="Tier order within the product: higher is bigger.")
    bundle: str | None = strawberry.field(
        description="The bundle's code for a bundle plan (CAT-5)."
    )
    features: list[str]
    limits: list[Limit]
    seats_included: int | None
    max_seats: int | None = strawberry.field(description="null: no maximum.")
    prices: list[Price] = strawberry.field(description="List prices: public (ACC-3).")


@strawberry.type
class AddOn:
    code: str
    name: str
    min_plan_rank: int = strawberry.field(description="Offered on plans of this rank and above.")
    prices: list[Price] = strawberry.field(description="List prices: public (ACC-3).")


@strawberry.type(description="One step of the contact-limit ladder; its price adds to the plan's.")
class ContactLimitStep:
    contact_limit: int
    prices: list[Price] = strawberry.field(description="List prices: public (ACC-3).")


@strawberry.type(
    description="CAT-5: plans that combine this product with others at their own price."
)
class Bundle:
    code: str
    name: str
    includes: list[str]
    plans: list[Plan]


@strawberry.type(description="ON_DEMAND: usage past the limit billed per block (USE-6).")
class OnDemandPricing:
    metric: str
    block_size: int
    block_price: Money = strawberry.field(description="A list price: public (ACC-3).")


@strawberry.type(description="CAT-7: how this product upgrades, downgrades, cancels and alerts.")
class ProductPolicy:
    upgrade_proration: UpgradeProration
    downgrade_timing: DowngradeTiming
    cancellation_notice: CancellationNotice
    retention_days: int
    alert_thresholds: list[int]
    upgrade_preferences: list[UpgradePreference]
    default_preference: UpgradePreference | None
    auto_downgrade_available: bool
    autoscaling: bool
    billing_admin_may_cancel: bool
    on_demand: OnDemandPricing | None


@strawberry.type
class Product:
    code: str
    name: str
    metrics: list[str]
    intervals: list[BillingInterval]
    plans: list[Plan]
    bundles: list[Bundle]
    add_ons: list[AddOn]
    contact_limit_ladder: list[ContactLimitStep]
    policy: ProductPolicy
    seat_prices: list[Price] = strawberry.field(
        description="Price of one seat beyond those included: a list price, public (ACC-3)."
    )


@strawberry.type
class Catalog:
    currency: str = strawberry.field(description="CUR-1: the currency its prices are in.")
    currencies: list[str] = strawberry.field(
        description="CUR-1: every currency the catalog prices in, its default first."
    )
    products: list[Product]

    @strawberry.field
    def product(self, code: str) -> Product | None:
        return next((p for p in self.products if p.code == code), None)


def build_catalog(snapshot: CatalogSnapshot, currency: str | None = None) -> Catalog:
    """The catalog in `currency` (CUR-1), its default one when None; another is refused."""
    if currency is not None:
        code = chosen_currency(currency, snapshot.currencies, snapshot.default_currency)
        snapshot = snapshot.in_currency(code)
    return Catalog(
        currency=snapshot.currency,
        currencies=list(snapshot.currencies),
        products=[build_product(snapshot, row) for row in snapshot.products],
    )


def _kept(snapshot: CatalogSnapshot, key: tuple[str, int], build: Callable[[], T]) -> T:
    """Built once per snapshot: a snapshot is one revision of the catalog in one currency and
    never changes, and these objects have no resolvers that depend on who asks, so every
    request of that revision shares them (the billing page builds its items' products and plans
    on every request otherwise)."""
    kept: dict[tuple[str, int], Any] = snapshot.__dict__.setdefault("_schema_objects", {})
    found = kept.get(key)
    if found is None:
        found = kept[key] = build()
    return found


def build_product(snapshot: CatalogSnapshot, row: ProductRow) -> Product:
    return _kept(snapshot, ("product", row.id), lambda: _build_product(snapshot, row))


def build_plan(snapshot: CatalogSnapshot, row: PlanRow) -> Plan:
    return _kept(snapshot, ("plan", row.id), lambda: _build_plan(snapshot, row))


def build_add_on(snapshot: CatalogSnapshot, row: AddOnRow) -> AddOn:
    return _kept(snapshot, ("add_on", row.id), lambda: _build_add_on(snapshot, row))


def _build_product(snapshot: CatalogSnapshot, row: ProductRow) -> Product:
    plans = snapshot.plans_by_product.get(row.id, [])
    policy = snapshot.policies[row.id]
    on_demand = None
    if (
        policy.on_demand_metric
        and policy.on_demand_block_size
        and policy.on_demand_block_price is not None
    ):
        on_demand = OnDemandPricing(
            metric=policy.on_demand_metric,
            block_size=policy.on_demand_block_size,
            block_price=Money.of(policy.on_demand_block_price, snapshot.currency),
        )
    return Product(
        code=row.code,
        name=row.name,
        metrics=list(row.metrics),
        intervals=[BillingInterval(i) for i in row.intervals],
        plans=[build_plan(snapshot, p) for p in plans if p.bundle_id is None],
        bundles=[
            Bundle(
                code=bundle.code,
                name=bundle.name,
                includes=list(bundle.includes),
                plans=[build_plan(snapshot, p) for p in plans if p.bundle_id == bundle.id],
            )
            for bundle in snapshot.bundles_by_product.get(row.id, [])
        ],
        add_ons=[build_add_on(snapshot, a) for a in snapshot.add_ons_by_product.get(row.id, [])],
        contact_limit_ladder=[
            ContactLimitStep(
                contact_limit=step.contact_limit,
                prices=_prices(snapshot, f"contact_limit:{step.id}"),
            )
            for step in snapshot.steps_by_product.get(row.id, [])
        ],
        policy=ProductPolicy(
            upgrade_proration=policy.upgrade_proration,
            downgrade_timing=policy.downgrade_timing,
            cancellation_notice=policy.cancellation_notice,
            retention_days=policy.retention_days,
            alert_thresholds=list(policy.alert_thresholds),
            upgrade_preferences=[UpgradePreference(p) for p in policy.upgrade_preferences],
            default_preference=policy.default_preference,
            auto_downgrade_available=policy.auto_downgrade_available,
            autoscaling=policy.autoscaling,
            billing_admin_may_cancel=policy.billing_admin_may_cancel,
            on_demand=on_demand,
        ),
        seat_prices=_prices(snapshot, f"seat:{row.id}"),
    )


def _build_plan(snapshot: CatalogSnapshot, row: PlanRow) -> Plan:
    bundle = snapshot.bundles_by_id[row.bundle_id] if row.bundle_id is not None else None
    return Plan(
        code=row.code,
        name=row.name,
        rank=row.rank,
        bundle=bundle.code if bundle else None,
        features=list(row.features),
        limits=[Limit(metric=m, value=v) for m, v in row.limits.items()],
        seats_included=row.seats_included,
        max_seats=row.max_seats,
        prices=_prices(snapshot, f"plan:{row.id}"),
    )


def _build_add_on(snapshot: CatalogSnapshot, row: AddOnRow) -> AddOn:
    return AddOn(
        code=row.code,
        name=row.name,
        min_plan_rank=row.min_plan_rank,
        prices=_prices(snapshot, f"add_on:{row.id}"),
    )


def _prices(snapshot: CatalogSnapshot, key_prefix: str) -> list[Price]:
    return [Price.of(row) for row in snapshot.prices_for(key_prefix)]
