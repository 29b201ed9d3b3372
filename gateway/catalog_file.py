"""The catalog and demo-organization data files: read, validated, and explained when broken.

A broken file fails naming the file, the path to the field and what was expected, e.g.
``catalog.toml: products[1].plans[0].prices.MONTHLY: input should be a valid
integer, got '20.00'``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from billing.access import Role
from billing.money import MINOR_UNIT_DIGITS
from billing.periods import BillingInterval
from billing.policies import (
    CancellationNotice,
    DowngradeTiming,
    UpgradePreference,
    UpgradeProration,
)
from billing.subscription_status import SubscriptionStatus
from payments.sandbox import TEST_CARDS

Code = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Cents = Annotated[StrictInt, Field(ge=0)]
Count = Annotated[StrictInt, Field(ge=0)]
PositiveCount = Annotated[StrictInt, Field(ge=1)]
Percent = Annotated[StrictInt, Field(ge=1, le=100)]
PriceMap = dict[BillingInterval, Cents]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanSpec(Spec):
    code: Code
    name: StrictStr
    features: list[StrictStr] = []
    limits: dict[StrictStr, Count] = {}
    seats_included: Count | None = None
    max_seats: PositiveCount | None = None
    prices: PriceMap


class AddOnSpec(Spec):
    code: Code
    name: StrictStr
    min_plan: Code | None = None
    prices: PriceMap


class LadderStepSpec(Spec):
    contact_limit: PositiveCount
    prices: PriceMap


class BundleSpec(Spec):
    code: Code
    name: StrictStr
    includes: list[StrictStr] = []
    plans: Annotated[list[PlanSpec], Field(min_length=1)]


class OnDemandSpec(Spec):
    metric: StrictStr
    block_size: PositiveCount
    block_price: Cents


class PolicySpec(Spec):
    upgrade_proration: UpgradeProration
    downgrade_timing: DowngradeTiming
    cancellation_notice: CancellationNotice
    retention_days: Count
    alert_thresholds: list[Percent] = []
    upgrade_preferences: list[UpgradePreference] = []
    default_preference: UpgradePreference | None = None
    auto_downgrade_available: StrictBool = False
    autoscaling: StrictBool = False
    billing_admin_may_cancel: StrictBool = False
    on_demand: OnDemandSpec | None = None


class ProductSpec(Spec):
    code: Code
    name: StrictStr
    metrics: list[StrictStr] = []
    intervals: Annotated[list[BillingInterval], Field(min_length=1)]
    seat_prices: PriceMap | None = None
    policy: PolicySpec
    plans: Annotated[list[PlanSpec], Field(min_length=1)]
    add_ons: list[AddOnSpec] = []
    contact_limit_ladder: list[LadderStepSpec] = []
    bundles: list[BundleSpec] = []


class IssuerSpec(Spec):
    name: StrictStr
    address: list[StrictStr] = []
    email: StrictStr = ""
    tax_id: StrictStr = ""


class CatalogSpec(Spec):
    currency: StrictStr
    issuer: IssuerSpec
    products: Annotated[list[ProductSpec], Field(min_length=1)]

    def product(self, code: str) -> ProductSpec | None:
        return next((p for p in self.products if p.code == code), None)


class UserSpec(Spec):
    email: Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    name: StrictStr
    role: Role


class WorkspaceSpec(Spec):
    slug: Code
    name: StrictStr


class ItemSpec(Spec):
    product: Code
    plan: Code
    bundle: Code | None = None
    seats: PositiveCount | None = None
    contact_limit: PositiveCount | None = None
    add_ons: list[Code] = []
    upgrade_preference: UpgradePreference | None = None
    seats_in_use: Count | None = None
    stock: dict[StrictStr, Count] = {}


class FeatureSettingSpec(Spec):
    feature: StrictStr
    key: StrictStr
    value: StrictStr | StrictInt | StrictBool


class UsageSpec(Spec):
    """Usage this billing month, recorded as events through the API's own store (USE-1)."""

    product: Code
    metric: StrictStr
    workspace: Code | None = None
    quantity: Count | None = None  # counted and stock metrics
    contacts: Count | None = None  # mac: this many distinct contacts (USE-2)


class SubscriptionSpec(Spec):
    status: SubscriptionStatus
    billing_interval: BillingInterval
    period_started_days_ago: Count = 0
    trial_days: PositiveCount | None = None
    trial_ends_in_days: Count | None = None
    items: Annotated[list[ItemSpec], Field(min_length=1)]


class OrganizationSpec(Spec):
    slug: Code
    name: StrictStr
    users: Annotated[list[UserSpec], Field(min_length=1)]
    workspaces: list[WorkspaceSpec] = []
    subscription: SubscriptionSpec | None = None
    payment_methods: list[StrictStr] = []
    paid_invoices: Count = 0
    feature_settings: list[FeatureSettingSpec] = []
    usage: list[UsageSpec] = []


class DemoSpec(Spec):
    organizations: list[OrganizationSpec]


S = TypeVar("S", bound=Spec)


class CatalogFileError(ValueError):
    """A data file that cannot be used; the message lists every problem found."""

    def __init__(self, path: Path, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [
            f"{path.name}: {where}: {what}" if where else f"{path.name}: {what}"
            for where, what in problems
        ]
        super().__init__(f"invalid data file {path}:\n  " + "\n  ".join(lines))


def load_catalog(path: Path) -> CatalogSpec:
    spec = _parse(path, CatalogSpec)
    problems = _catalog_problems(spec)
    if problems:
        raise CatalogFileError(path, problems)
    return spec


def load_demo(path: Path, catalog: CatalogSpec) -> DemoSpec:
    spec = _parse(path, DemoSpec)
    problems = _demo_problems(spec, catalog)
    if problems:
        raise CatalogFileError(path, problems)
    return spec


def _parse(path: Path, model: type[S]) -> S:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogFileError(path, [("", f"cannot read the file ({error.strerror})")]) from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogFileError(path, [("", f"not valid TOML: {error}")]) from None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise CatalogFileError(path, [_explain(e) for e in error.errors()]) from None


def _explain(error: Any) -> tuple[str, str]:
    where = _path(error["loc"])
    got = error.get("input")
    if error["type"] == "missing":
        return where, "required field is missing"
    if error["type"] == "extra_forbidden":
        return where, "unknown field (check its spelling)"
    return where, f"{error['msg'].lower()}, got {got!r}"


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _catalog_problems(spec: CatalogSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if spec.currency not in MINOR_UNIT_DIGITS:
        problems.append(
            ("currency", f"expected one of {sorted(MINOR_UNIT_DIGITS)}, got {spec.currency!r}")
        )
    problems += _duplicates("products", [p.code for p in spec.products])
    for i, product in enumerate(spec.products):
        problems += _product_problems(f"products[{i}]", product)
    return problems


def _product_problems(at: str, product: ProductSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    intervals = set(product.intervals)
    plan_codes = [plan.code for plan in product.plans]
    problems += _duplicates(f"{at}.plans", plan_codes)
    problems += _duplicates(f"{at}.add_ons", [a.code for a in product.add_ons])
    problems += _duplicates(f"{at}.bundles", [b.code for b in product.bundles])
    problems += _duplicates(
        f"{at}.contact_limit_ladder", [s.contact_limit for s in product.contact_limit_ladder]
    )
    all_plans = [(f"{at}.plans[{j}]", plan) for j, plan in enumerate(product.plans)]
    for b, bundle in enumerate(product.bundles):
        problems += _duplicates(f"{at}.bundles[{b}].plans", [plan.code for plan in bundle.plans])
        all_plans += [
            (f"{at}.bundles[{b}].plans[{j}]", plan) for j, plan in enumerate(bundle.plans)
        ]
    for where, plan in all_plans:
        problems += _price_problems(f"{where}.prices", plan.prices, intervals)
        for metric in plan.limits:
            if metric not in product.metrics:
                problems.append(
                    (
                        f"{where}.limits.{metric}",
                        f"expected one of the product's metrics {product.metrics}",
                    )
                )
        if (
            plan.seats_included is not None
            and plan.max_seats is not None
            and plan.seats_included > plan.max_seats
        ):
            problems.append(
                (f"{where}.seats_included", f"expected at most max_seats ({plan.max_seats})")
            )
    for j, add_on in enumerate(product.add_ons):
        problems += _price_problems(f"{at}.add_ons[{j}].prices", add_on.prices, intervals)
        if add_on.min_plan is not None and add_on.min_plan not in plan_codes:
            problems.append(
                (f"{at}.add_ons[{j}].min_plan", f"expected one of the plans {plan_codes}")
            )
    for j, step in enumerate(product.contact_limit_ladder):
        problems += _price_problems(
            f"{at}.contact_limit_ladder[{j}].prices", step.prices, intervals
        )
    if product.seat_prices is not None:
        problems += _price_problems(f"{at}.seat_prices", product.seat_prices, intervals)
    problems += _policy_problems(f"{at}.policy", product)
    return problems


def _policy_problems(at: str, product: ProductSpec) -> list[tuple[str, str]]:
    policy = product.policy
    problems: list[tuple[str, str]] = []
    offered = policy.upgrade_preferences
    if offered and policy.default_preference not in offered:
        problems.append(
            (
                f"{at}.default_preference",
                f"expected one of upgrade_preferences {[p.value for p in offered]}",
            )
        )
    if not offered and policy.default_preference is not None:
        problems.append(
            (
                f"{at}.default_preference",
                "expected no default: the product offers no upgrade preference",
            )
        )
    if policy.alert_thresholds != sorted(set(policy.alert_thresholds)):
        problems.append(
            (f"{at}.alert_thresholds", "expected distinct percentages in ascending order")
        )
    has_on_demand = UpgradePreference.ON_DEMAND in offered
    if has_on_demand and policy.on_demand is None:
        problems.append(
            (
                f"{at}.on_demand",
                "required when ON_DEMAND is offered (metric, block_size, block_price)",
            )
        )
    if policy.on_demand is not None:
        if not has_on_demand:
            problems.append(
                (f"{at}.on_demand", "expected only when upgrade_preferences offers ON_DEMAND")
            )
        if policy.on_demand.metric not in product.metrics:
            problems.append(
                (
                    f"{at}.on_demand.metric",
                    f"expected one of the product's metrics {product.metrics}",
                )
            )
    return problems


def _price_problems(
    at: str, prices: dict[BillingInterval, int], intervals: set[BillingInterval]
) -> list[tuple[str, str]]:
    problems = [
        (at, f"missing the {i.value} price (the product is sold {i.value})")
        for i in sorted(intervals - set(prices))
    ]
    problems += [
        (f"{at}.{i.value}", f"unexpected: the product is not sold {i.value}")
        for i in sorted(set(prices) - intervals)
    ]
    return problems


def _duplicates(at: str, values: list[Any]) -> list[tuple[str, str]]:
    seen: set[Any] = set()
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append((f"{at}[{index}]", f"duplicate {value!r}"))
        seen.add(value)
    return problems


def _demo_problems(spec: DemoSpec, catalog: CatalogSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = _duplicates(
        "organizations", [o.slug for o in spec.organizations]
    )
    for i, org in enumerate(spec.organizations):
        at = f"organizations[{i}]"
        owners = [u for u in org.users if u.role is Role.OWNER]
        if len(owners) != 1:
            problems.append(
                (f"{at}.users", f"expected exactly one OWNER (ACC-1), found {len(owners)}")
            )
        problems += _duplicates(f"{at}.users", [u.email for u in org.users])
        problems += _duplicates(f"{at}.workspaces", [w.slug for w in org.workspaces])
        if org.subscription is not None:
            problems += _subscription_problems(f"{at}.subscription", org.subscription, catalog)
        problems += _usage_problems(at, org, catalog)
        for k, payment_method in enumerate(org.payment_methods):
            if payment_method not in TEST_CARDS:
                problems.append(
                    (
                        f"{at}.payment_methods[{k}]",
                        f"expected a sandbox test card {sorted(TEST_CARDS)}",
                    )
                )
    return problems


def _usage_problems(at: str, org: OrganizationSpec, catalog: CatalogSpec) -> list[tuple[str, str]]:
    subscribed = [item.product for item in org.subscription.items] if org.subscription else []
    workspaces = [w.slug for w in org.workspaces]
    problems: list[tuple[str, str]] = []
    for k, usage in enumerate(org.usage):
        where = f"{at}.usage[{k}]"
        product = catalog.product(usage.product)
        if product is None or usage.product not in subscribed:
            problems.append((f"{where}.product", f"expected a subscribed product {subscribed}"))
            continue
        if usage.metric not in product.metrics:
            problems.append((f"{where}.metric", f"expected one of {product.metrics}"))
        given = (usage.contacts is not None, usage.quantity is not None)
        if given != ((True, False) if usage.metric == "mac" else (False, True)):
            problems.append((where, "mac takes contacts; every other metric takes quantity"))
        if usage.workspace is not None and usage.workspace not in workspaces:
            problems.append((f"{where}.workspace", f"expected one of the workspaces {workspaces}"))
    return problems


def _subscription_problems(
    at: str, sub: SubscriptionSpec, catalog: CatalogSpec
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if sub.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        problems.append(
            (
                f"{at}.status",
                f"expected ACTIVE or TRIALING for seeded data, got {sub.status.value!r}",
            )
        )
    if sub.status is SubscriptionStatus.TRIALING and (
        sub.trial_days is None or sub.trial_ends_in_days is None
    ):
        problems.append((at, "a TRIALING subscription needs trial_days and trial_ends_in_days"))
    if (
        sub.trial_days is not None
        and sub.trial_ends_in_days is not None
        and sub.trial_ends_in_days > sub.trial_days
    ):
        problems.append(
            (f"{at}.trial_ends_in_days", f"expected at most trial_days ({sub.trial_days})")
        )
    problems += _duplicates(f"{at}.items", [item.product for item in sub.items])
    for j, item in enumerate(sub.items):
        problems += _item_problems(f"{at}.items[{j}]", item, sub.billing_interval, catalog)
    return problems


def _item_problems(
    at: str, item: ItemSpec, interval: BillingInterval, catalog: CatalogSpec
) -> list[tuple[str, str]]:
    product = catalog.product(item.product)
    if product is None:
        return [
            (
                f"{at}.product",
                f"expected one of the catalog's products {[p.code for p in catalog.products]}",
            )
        ]
    problems: list[tuple[str, str]] = []
    if interval not in product.intervals:
        problems.append((at, f"{product.code} is not sold {interval.value}"))
    plans = product.plans
    if item.bundle is not None:
        bundle = next((b for b in product.bundles if b.code == item.bundle), None)
        if bundle is None:
            return [
                *problems,
                (
                    f"{at}.bundle",
                    f"expected one of {[b.code for b in product.bundles]}"
                    if product.bundles
                    else f"{product.code} is not sold in a bundle: leave bundle out",
                ),
            ]
        plans = bundle.plans
    if item.plan not in [p.code for p in plans]:
        problems.append((f"{at}.plan", f"expected one of {[p.code for p in plans]}"))
    ladder = [s.contact_limit for s in product.contact_limit_ladder]
    if item.contact_limit is not None and item.contact_limit not in ladder:
        problems.append(
            (
                f"{at}.contact_limit",
                f"expected a step of the ladder {ladder}"
                if ladder
                else f"{product.code} has no contact-limit ladder: leave contact_limit out",
            )
        )
    for k, code in enumerate(item.add_ons):
        if code not in [a.code for a in product.add_ons]:
            problems.append(
                (
                    f"{at}.add_ons[{k}]",
                    f"expected one of {[a.code for a in product.add_ons]}"
                    if product.add_ons
                    else f"{product.code} has no add-ons: leave add_ons out",
                )
            )
    offered = product.policy.upgrade_preferences
    if item.upgrade_preference is not None and item.upgrade_preference not in offered:
        problems.append(
            (f"{at}.upgrade_preference", f"expected one of {[p.value for p in offered]}")
        )
    return problems
