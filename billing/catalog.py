"""The catalog as plain frozen data (CAT-1 to CAT-7): what `billing/` reads of products, plans,
bundles, add-ons, ladders, policies and price versions, with lookups by id and by code. It is
built from the database once per catalog revision and shared by every request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar

from billing.periods import BillingInterval
from billing.policies import (
    CancellationNotice,
    DowngradeTiming,
    UpgradePreference,
    UpgradeProration,
)


class PriceKind(StrEnum):
    PLAN = "PLAN"
    SEAT = "SEAT"
    ADD_ON = "ADD_ON"
    CONTACT_LIMIT = "CONTACT_LIMIT"


@dataclass(frozen=True)
class Product:
    id: int
    code: str
    name: str
    position: int
    metrics: tuple[str, ...] = ()
    intervals: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductPolicy:
    # CAT-7: how one product upgrades, downgrades, cancels, alerts and handles its limits.
    product_id: int
    upgrade_proration: UpgradeProration
    downgrade_timing: DowngradeTiming
    cancellation_notice: CancellationNotice
    retention_days: int
    alert_thresholds: tuple[int, ...] = ()
    upgrade_preferences: tuple[str, ...] = ()
    default_preference: UpgradePreference | None = None
    auto_downgrade_available: bool = False
    autoscaling: bool = False
    billing_admin_may_cancel: bool = False
    on_demand_metric: str | None = None
    on_demand_block_size: int | None = None
    on_demand_block_price: int | None = None
    # CUR-1: the block's price in the catalog's other currencies, by currency.
    on_demand_block_prices: Mapping[str, int] = field(default_factory=dict)

    def in_currency(self, currency: str, default: str) -> ProductPolicy:
        """This policy with its on-demand block priced in `currency` (none if not priced)."""
        if currency == default:
            return self
        return replace(self, on_demand_block_price=self.on_demand_block_prices.get(currency))


@dataclass(frozen=True)
class Bundle:
    # CAT-5: plans of one product sold together with another product at their own price.
    id: int
    product_id: int
    code: str
    name: str
    includes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    id: int
    product_id: int
    bundle_id: int | None
    code: str
    name: str
    rank: int
    features: tuple[str, ...] = ()
    limits: Mapping[str, int] = field(default_factory=dict)
    seats_included: int | None = None
    max_seats: int | None = None


@dataclass(frozen=True)
class AddOn:
    id: int
    product_id: int
    code: str
    name: str
    min_plan_rank: int = 0


@dataclass(frozen=True)
class ContactLimitStep:
    # One step of a product's contact-limit ladder (CAT-3).
    id: int
    product_id: int
    contact_limit: int


@dataclass(frozen=True)
class Price:
    # One version of one price (CAT-6): `key` names what it prices, e.g. "plan:12:MONTHLY".
    id: int
    product_id: int
    kind: PriceKind
    interval: BillingInterval
    key: str
    version: int
    amount: int
    currency: str
    is_current: bool = True
    plan_id: int | None = None
    add_on_id: int | None = None
    contact_limit_step_id: int | None = None

    @property
    def key_prefix(self) -> str:
        """What it prices without the interval and currency, e.g. "plan:12"."""
        return ":".join(self.key.split(":", 2)[:2])


def price_key(key_prefix: str, interval: BillingInterval, currency: str, default: str) -> str:
    """CUR-1: "plan:12:MONTHLY" in the catalog's default currency, "plan:12:MONTHLY:EUR" in
    another, so the default currency's keys (and versions) are those of a one-currency catalog."""
    key = f"{key_prefix}:{interval.value}"
    return key if currency == default else f"{key}:{currency}"


_Row = TypeVar("_Row", Plan, Bundle, AddOn, ContactLimitStep)


def _by_product(rows: Iterable[_Row]) -> dict[int, list[_Row]]:
    grouped: dict[int, list[_Row]] = {}
    for row in rows:
        grouped.setdefault(row.product_id, []).append(row)
    return grouped


@dataclass(frozen=True)
class CatalogSnapshot:
    products: tuple[Product, ...]
    policies: Mapping[int, ProductPolicy]  # by product id
    plans: tuple[Plan, ...]
    bundles: tuple[Bundle, ...]
    add_ons: tuple[AddOn, ...]
    steps: tuple[ContactLimitStep, ...]
    current_price_list: tuple[Price, ...]
    currency: str  # the currency `prices_for` and `policies` answer in (CUR-1)
    default_currency: str = ""  # the catalog's own; "" means `currency`
    currencies: tuple[str, ...] = field(init=False)
    _own_policies: Mapping[int, ProductPolicy] = field(init=False)
    plans_by_id: Mapping[int, Plan] = field(init=False)
    plans_by_product: Mapping[int, list[Plan]] = field(init=False)
    bundles_by_id: Mapping[int, Bundle] = field(init=False)
    bundles_by_product: Mapping[int, list[Bundle]] = field(init=False)
    add_ons_by_id: Mapping[int, AddOn] = field(init=False)
    add_ons_by_product: Mapping[int, list[AddOn]] = field(init=False)
    steps_by_product: Mapping[int, list[ContactLimitStep]] = field(init=False)
    # Current price versions by what they price, e.g. "plan:12" -> [MONTHLY, ANNUAL]
    current_prices: Mapping[str, list[Price]] = field(init=False)
    current_prices_by_id: Mapping[int, Price] = field(init=False)
    _products_by_id: Mapping[int, Product] = field(init=False)
    _products_by_code: Mapping[str, Product] = field(init=False)

    def __post_init__(self) -> None:
        prices: dict[str, list[Price]] = {}
        for price in self.current_price_list:
            if price.currency == self.currency:
                prices.setdefault(price.key_prefix, []).append(price)
        default = self.default_currency or self.currency
        others = sorted({p.currency for p in self.current_price_list} - {default})
        derived = {
            "default_currency": default,
            "currencies": (default, *others),
            "_own_policies": self.policies,
            "policies": {
                product_id: policy.in_currency(self.currency, default)
                for product_id, policy in self.policies.items()
            },
            "plans_by_id": {p.id: p for p in self.plans},
            "plans_by_product": _by_product(sorted(self.plans, key=lambda p: (p.rank, p.id))),
            "bundles_by_id": {b.id: b for b in self.bundles},
            "bundles_by_product": _by_product(self.bundles),
            "add_ons_by_id": {a.id: a for a in self.add_ons},
            "add_ons_by_product": _by_product(self.add_ons),
            "steps_by_product": _by_product(sorted(self.steps, key=lambda s: s.contact_limit)),
            "current_prices": prices,
            "current_prices_by_id": {p.id: p for p in self.current_price_list},
            "_products_by_id": {p.id: p for p in self.products},
            "_products_by_code": {p.code: p for p in self.products},
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def in_currency(self, currency: str) -> CatalogSnapshot:
        """CUR-1: the same catalog answering its prices in `currency` (a view: ids unchanged)."""
        if currency == self.currency:
            return self
        views: dict[str, CatalogSnapshot] = self.__dict__.setdefault("_views", {})
        if currency not in views:
            views[currency] = CatalogSnapshot(
                self.products,
                self._own_policies,
                self.plans,
                self.bundles,
                self.add_ons,
                self.steps,
                self.current_price_list,
                currency,
                self.default_currency,
            )
        return views[currency]

    def product(self, product_id: int) -> Product:
        return self._products_by_id[product_id]

    def product_by_code(self, code: str) -> Product | None:
        return self._products_by_code.get(code)

    def prices_for(self, key_prefix: str) -> list[Price]:
        return self.current_prices.get(key_prefix, [])

    def next_tier(self, plan: Plan) -> Plan | None:
        """The plan one rank up in the same product and bundle, if there is one."""
        return min(
            (
                p
                for p in self.plans_by_product.get(plan.product_id, [])
                if p.bundle_id == plan.bundle_id and p.rank > plan.rank
            ),
            key=lambda p: p.rank,
            default=None,
        )
