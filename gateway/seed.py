"""Writes the catalog and the demo organizations into the database, idempotently.

Catalog rows are matched by code and updated in place; a price whose amount changed gets a new
version (CAT-6) and subscribers keep the version they signed up on. Organizations are matched by
slug and left alone when they already exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from billing.catalog import price_key
from billing.clock import Clock
from billing.invoices import InvoiceKind
from billing.periods import BillingInterval, period_containing, shift_months
from billing.quote import Line
from billing.subscription_status import SubscriptionStatus
from billing.tax import TaxRate, TaxTable
from gateway.catalog_spec import (
    CatalogSpec,
    DemoSpec,
    ItemSpec,
    OrganizationSpec,
    PlanSpec,
    PolicySpec,
    ProductSpec,
    SubscriptionSpec,
    UsageSpec,
)
from gateway.coupon_checks import coupon_of
from models import (
    AddOn,
    Bundle,
    ContactLimitStep,
    FeatureSetting,
    Issuer,
    Membership,
    Organization,
    PaymentMethod,
    Plan,
    Price,
    PriceKind,
    Product,
    ProductPolicy,
    Subscription,
    SubscriptionItem,
    SubscriptionItemAddOn,
    User,
    Workspace,
)
from payments.sandbox import SandboxProcessor
from resolvers.catalog import catalog_changed, load_catalog_snapshot
from resolvers.coupon_store import upsert_catalog_coupon, upsert_catalog_promotion_code
from resolvers.invoicing import InvoiceContent, issue_invoice, mark_paid
from resolvers.subscription_state import load_subscription
from resolvers.usage import MAX_BATCH, EventInput, record_usage


@dataclass
class SeedReport:
    products: int = 0
    new_prices: int = 0
    organizations_created: int = 0


async def database_is_empty() -> bool:
    return not await Product.exists()


async def seed(catalog: CatalogSpec, demo: DemoSpec | None, clock: Clock) -> SeedReport:
    report = SeedReport()
    async with in_transaction():
        issuer = catalog.issuer
        await Issuer.update_or_create(
            id=1,
            defaults={
                "name": issuer.name,
                "address": list(issuer.address),
                "email": issuer.email,
                "tax_id": issuer.tax_id,
                "country": issuer.country,
                "taxes": tax_table(catalog).to_json(),
                "email_documents": issuer.email_documents,
            },
        )
        for position, product in enumerate(catalog.products):
            report.new_prices += await _upsert_product(
                product, position, catalog.currency, catalog.all_currencies[1:]
            )
            report.products += 1
        await _upsert_coupons(catalog)
        await catalog_changed()

        if demo is not None:
            for organization in demo.organizations:
                if await _create_organization(organization, catalog.currency, clock.now()):
                    report.organizations_created += 1
    return report


async def _upsert_coupons(catalog: CatalogSpec) -> None:
    """DSC-1: the catalog file's coupons and promotion codes (checked on load)."""
    rows = {}
    for spec in catalog.coupons:
        rows[spec.code] = await upsert_catalog_coupon(coupon_of(spec))
    for promotion in catalog.promotion_codes:
        await upsert_catalog_promotion_code(
            promotion.code,
            rows[promotion.coupon],
            first_subscription_only=promotion.first_subscription_only,
            once_per_organization=promotion.once_per_organization,
            max_redemptions=promotion.max_redemptions,
            expires_at=promotion.expires_at,
        )


def tax_table(catalog: CatalogSpec) -> TaxTable:
    """TAX-1: the catalog's rates, each inclusive or exclusive of the price."""
    taxes = catalog.taxes
    rates = tuple(
        TaxRate(
            name=rate.name,
            percent=rate.percent,
            inclusive=taxes.prices_include_tax if rate.inclusive is None else rate.inclusive,
            country=rate.country,
            region=rate.region,
        )
        for rate in taxes.rates
    )
    return TaxTable(
        rates=rates,
        seller_country=catalog.issuer.country,
        eu_reverse_charge=taxes.eu_reverse_charge,
        prices_include_tax=taxes.prices_include_tax,
    )


async def _upsert_product(
    spec: ProductSpec, position: int, currency: str, others: list[str]
) -> int:
    product, _ = await Product.update_or_create(
        code=spec.code,
        defaults={
            "name": spec.name,
            "position": position,
            "metrics": list(spec.metrics),
            "intervals": [i.value for i in spec.intervals],
        },
    )
    await _upsert_policy(product, spec.policy)
    prices = _PriceWriter(product, currency, others)
    ranks = await _upsert_plans(product, spec, prices)
    for add_on_spec in spec.add_ons:
        add_on, _ = await AddOn.update_or_create(
            product=product,
            code=add_on_spec.code,
            defaults={
                "name": add_on_spec.name,
                "min_plan_rank": ranks[add_on_spec.min_plan] if add_on_spec.min_plan else 0,
            },
        )
        await prices.write_all(
            PriceKind.ADD_ON,
            f"add_on:{add_on.id}",
            add_on_spec.prices,
            add_on,
            add_on_spec.prices_in,
        )
    for step_spec in spec.contact_limit_ladder:
        step, _ = await ContactLimitStep.get_or_create(
            product=product, contact_limit=step_spec.contact_limit
        )
        key = f"contact_limit:{step.id}"
        await prices.write_all(
            PriceKind.CONTACT_LIMIT, key, step_spec.prices, step, step_spec.prices_in
        )
    if spec.seat_prices is not None:
        await prices.write_all(
            PriceKind.SEAT, f"seat:{product.id}", spec.seat_prices, None, spec.seat_prices_in
        )
    return prices.created


async def _upsert_policy(product: Product, policy: PolicySpec) -> None:
    on_demand = policy.on_demand
    await ProductPolicy.update_or_create(
        product=product,
        defaults={
            "upgrade_proration": policy.upgrade_proration,
            "downgrade_timing": policy.downgrade_timing,
            "cancellation_notice": policy.cancellation_notice,
            "retention_days": policy.retention_days,
            "alert_thresholds": list(policy.alert_thresholds),
            "upgrade_preferences": [p.value for p in policy.upgrade_preferences],
            "default_preference": policy.default_preference,
            "auto_downgrade_available": policy.auto_downgrade_available,
            "autoscaling": policy.autoscaling,
            "billing_admin_may_cancel": policy.billing_admin_may_cancel,
            "on_demand_metric": on_demand.metric if on_demand else None,
            "on_demand_block_size": on_demand.block_size if on_demand else None,
            "on_demand_block_price": on_demand.block_price if on_demand else None,
            "on_demand_block_prices": dict(on_demand.block_prices_in) if on_demand else {},
        },
    )


async def _upsert_plans(
    product: Product, spec: ProductSpec, prices: _PriceWriter
) -> dict[str, int]:
    """The product's own plans, ranked in file order, then its bundles' plans, which rank as
    the product's plan of the same code; returns the ranks by plan code."""
    ranks: dict[str, int] = {}
    for rank, plan_spec in enumerate(spec.plans, start=1):
        ranks[plan_spec.code] = rank
        plan = await _upsert_plan(product, None, plan_spec, rank)
        await prices.write_all(
            PriceKind.PLAN, f"plan:{plan.id}", plan_spec.prices, plan, plan_spec.prices_in
        )
    for bundle_spec in spec.bundles:
        bundle, _ = await Bundle.update_or_create(
            product=product,
            code=bundle_spec.code,
            defaults={"name": bundle_spec.name, "includes": list(bundle_spec.includes)},
        )
        for index, plan_spec in enumerate(bundle_spec.plans, start=1):
            plan = await _upsert_plan(product, bundle, plan_spec, ranks.get(plan_spec.code, index))
            await prices.write_all(
                PriceKind.PLAN, f"plan:{plan.id}", plan_spec.prices, plan, plan_spec.prices_in
            )
    return ranks


async def _upsert_plan(product: Product, bundle: Bundle | None, spec: PlanSpec, rank: int) -> Plan:
    plan = await Plan.filter(product=product, bundle=bundle, code=spec.code).first()
    if plan is None:
        plan = Plan(product=product, bundle=bundle, code=spec.code)
    plan.name = spec.name
    plan.rank = rank
    plan.features = list(spec.features)
    plan.limits = dict(spec.limits)
    plan.seats_included = spec.seats_included
    plan.max_seats = spec.max_seats
    await plan.save()
    return plan


class _PriceWriter:
    def __init__(self, product: Product, currency: str, others: list[str]) -> None:
        self.product = product
        self.currency = currency
        self.others = others
        self.created = 0

    async def write_all(
        self,
        kind: PriceKind,
        key_prefix: str,
        amounts: dict[BillingInterval, int],
        owner: Plan | AddOn | ContactLimitStep | None = None,
        amounts_in: dict[str, dict[BillingInterval, int]] | None = None,
    ) -> None:
        """A new price version where an amount changed; `owner` is what the price is of. The
        default currency's keys are "plan:12:MONTHLY", another's "plan:12:MONTHLY:EUR" (CUR-1)."""
        await self._write(kind, key_prefix, amounts, owner, self.currency)
        for currency in self.others:
            await self._write(kind, key_prefix, (amounts_in or {})[currency], owner, currency)

    async def _write(
        self,
        kind: PriceKind,
        key_prefix: str,
        amounts: dict[BillingInterval, int],
        owner: Plan | AddOn | ContactLimitStep | None,
        currency: str,
    ) -> None:
        for interval, amount in amounts.items():
            key = price_key(key_prefix, interval, currency, self.currency)
            current = await Price.filter(key=key, is_current=True).first()
            if current is not None and (current.amount, current.currency) == (amount, currency):
                continue
            version = 1
            if current is not None:
                current.is_current = False
                await current.save(update_fields=["is_current"])
                version = current.version + 1
            await Price.create(
                product=self.product,
                kind=kind,
                key=key,
                version=version,
                interval=interval,
                amount=amount,
                currency=currency,
                plan=owner if isinstance(owner, Plan) else None,
                add_on=owner if isinstance(owner, AddOn) else None,
                contact_limit_step=owner if isinstance(owner, ContactLimitStep) else None,
            )
            self.created += 1


async def _create_organization(spec: OrganizationSpec, currency: str, now: datetime) -> bool:
    if await Organization.exists(slug=spec.slug):
        return False
    organization = await Organization.create(slug=spec.slug, name=spec.name, currency=currency)
    for user_spec in spec.users:
        user, _ = await User.get_or_create(email=user_spec.email, defaults={"name": user_spec.name})
        await Membership.create(organization=organization, user=user, role=user_spec.role)
    for workspace in spec.workspaces:
        await Workspace.create(organization=organization, slug=workspace.slug, name=workspace.name)
    for setting in spec.feature_settings:
        await FeatureSetting.create(
            organization=organization,
            feature=setting.feature,
            key=setting.key,
            value=str(setting.value),
        )
    for position, payment_method_id in enumerate(spec.payment_methods):
        card = await SandboxProcessor().attach_payment_method("", payment_method_id)
        await PaymentMethod.create(
            organization=organization,
            processor_id=card.payment_method_id,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            is_default=position == 0,
        )
    if spec.subscription is not None:
        subscription = await _create_subscription(organization, spec.subscription, currency, now)
        await _paid_history(organization, subscription, spec.paid_invoices)
        await _record_usage(organization, spec.usage, now)
    return True


async def _record_usage(organization: Organization, usage: list[UsageSpec], now: datetime) -> None:
    """USE-1: the demo's usage goes through the API's own recording, events and counters alike."""
    events: list[EventInput] = []
    for spec in usage:
        if spec.contacts is not None:
            events += [
                EventInput(
                    event_id=f"seed-{spec.product}-{spec.metric}-{spec.workspace}-{n}",
                    product=spec.product,
                    metric=spec.metric,
                    contact_id=f"{spec.workspace or 'contact'}-{n}",
                    workspace=spec.workspace,
                )
                for n in range(1, spec.contacts + 1)
            ]
        else:
            events.append(
                EventInput(
                    event_id=f"seed-{spec.product}-{spec.metric}-{spec.workspace}",
                    product=spec.product,
                    metric=spec.metric,
                    quantity=spec.quantity,
                    workspace=spec.workspace,
                )
            )
    snapshot = await load_catalog_snapshot()
    for first in range(0, len(events), MAX_BATCH):
        batch = events[first : first + MAX_BATCH]
        await record_usage(organization.id, batch, snapshot, now, SandboxProcessor())


async def _paid_history(
    organization: Organization, subscription: Subscription, periods: int
) -> None:
    """Earlier periods' renewal invoices and, once paying (DUN-1), the current period's: paid,
    oldest first (the demo's invoice history)."""
    snapshot = await load_catalog_snapshot()
    loaded = await load_subscription(organization, snapshot, lock=False)
    assert loaded is not None
    items = [loaded.domain_item(terms) for terms in loaded.terms.values()]
    last = 0 if subscription.status is not SubscriptionStatus.TRIALING else 1
    for back in range(periods, last - 1, -1):
        start = shift_months(
            subscription.billing_anchor, -back * subscription.billing_interval.months
        )
        end = shift_months(
            subscription.billing_anchor, -(back - 1) * subscription.billing_interval.months
        )
        lines = [
            Line(
                f"{item.describe()}, {start:%-d %b %Y} to {end:%-d %b %Y}", item.amount, start, end
            )
            for item in items
        ]
        content = InvoiceContent(
            InvoiceKind.SUBSCRIPTION, lines, subscription.currency, period=(start, end)
        )
        invoice = await issue_invoice(organization, content, start)
        await mark_paid(invoice, start)


async def _create_subscription(
    organization: Organization, spec: SubscriptionSpec, currency: str, now: datetime
) -> Subscription:
    now = now.replace(microsecond=0)
    trial_ends_at = None
    if spec.status is SubscriptionStatus.TRIALING:
        assert (
            spec.trial_days is not None and spec.trial_ends_in_days is not None
        )  # checked on load
        trial_ends_at = now + timedelta(days=spec.trial_ends_in_days)
        period_start = trial_ends_at - timedelta(days=spec.trial_days)
        period_end = trial_ends_at
    else:
        anchor = now - timedelta(days=spec.period_started_days_ago)
        period_start, period_end = period_containing(anchor, spec.billing_interval, now)
    subscription = await Subscription.create(
        organization=organization,
        status=spec.status,
        billing_interval=spec.billing_interval,
        currency=currency,
        billing_anchor=period_start,
        current_period_start=period_start,
        current_period_end=period_end,
        trial_ends_at=trial_ends_at,
    )
    for item in spec.items:
        await create_item(subscription, item, spec.billing_interval)
    return subscription


async def create_item(
    subscription: Subscription, spec: ItemSpec, interval: BillingInterval
) -> None:
    product = await Product.get(code=spec.product).prefetch_related("policy")
    bundle = await Bundle.get(product=product, code=spec.bundle) if spec.bundle else None
    plan = await Plan.get(product=product, bundle=bundle, code=spec.plan)
    contact_limit_price = None
    if spec.contact_limit is not None:
        step = await ContactLimitStep.get(product=product, contact_limit=spec.contact_limit)
        contact_limit_price = await _current_price(f"contact_limit:{step.id}", interval)
    seat_price = None
    if spec.seats is not None and await Price.exists(key=f"seat:{product.id}:{interval.value}"):
        seat_price = await _current_price(f"seat:{product.id}", interval)
    item = await SubscriptionItem.create(
        subscription=subscription,
        product=product,
        plan=plan,
        plan_price=await _current_price(f"plan:{plan.id}", interval),
        seats=spec.seats,
        seat_price=seat_price,
        contact_limit=spec.contact_limit,
        contact_limit_price=contact_limit_price,
        upgrade_preference=spec.upgrade_preference or product.policy.default_preference,
        seats_in_use=spec.seats_in_use,
        stock=dict(spec.stock),
    )
    for code in spec.add_ons:
        add_on = await AddOn.get(product=product, code=code)
        await SubscriptionItemAddOn.create(
            item=item, add_on=add_on, price=await _current_price(f"add_on:{add_on.id}", interval)
        )


async def _current_price(key_prefix: str, interval: BillingInterval) -> Price:
    return await Price.get(key=f"{key_prefix}:{interval.value}", is_current=True)
