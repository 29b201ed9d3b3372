"""Checks of the demo-organization file against the catalog: one owner each (ACC-1), subscribed
products, plans, ladder steps and add-ons the catalog sells, usage of the right kind, and sandbox
test cards for payment methods."""

from __future__ import annotations

from billing.access import Role
from billing.metrics import MetricKind, metric_kind
from billing.periods import BillingInterval
from billing.subscription_status import SubscriptionStatus
from gateway.catalog_checks import duplicates
from gateway.catalog_spec import CatalogSpec, DemoSpec, ItemSpec, OrganizationSpec, SubscriptionSpec
from payments.sandbox import TEST_CARDS


def demo_problems(spec: DemoSpec, catalog: CatalogSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = duplicates(
        "organizations", [o.slug for o in spec.organizations]
    )
    for i, org in enumerate(spec.organizations):
        at = f"organizations[{i}]"
        owners = [u for u in org.users if u.role is Role.OWNER]
        if len(owners) != 1:
            problems.append(
                (f"{at}.users", f"expected exactly one OWNER (ACC-1), found {len(owners)}")
            )
        problems += duplicates(f"{at}.users", [u.email for u in org.users])
        problems += duplicates(f"{at}.workspaces", [w.slug for w in org.workspaces])
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
        counts_contacts = metric_kind(usage.metric) is MetricKind.DISTINCT_CONTACTS
        if given != ((True, False) if counts_contacts else (False, True)):
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
    problems += duplicates(f"{at}.items", [item.product for item in sub.items])
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
