"""From rows to the billing domain and back: a subscription's terms, priced at the versions it
holds (CAT-6), and the wanted terms a PlanChangeInput describes, validated against the catalog."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from billing import currency, quote, terms
from billing.catalog import Price
from billing.money import Money
from billing.periods import BillingInterval
from billing.pricing import ItemPriceParts, item_recurring_amount
from billing.terms import UNSET as UNSET
from billing.terms import ChangeRequest as ChangeRequest
from billing.terms import ItemTerms as ItemTerms
from models import Organization, Subscription, SubscriptionItem, SubscriptionItemAddOn
from models import Price as PriceRow
from resolvers import hot_reads
from resolvers.catalog import CatalogSnapshot, price_of


@dataclass
class LoadedSubscription:
    organization: Organization
    row: Subscription
    items: dict[int, SubscriptionItem]  # by product id
    terms: dict[int, ItemTerms]  # by product id
    prices: dict[int, Price]
    snapshot: CatalogSnapshot

    def __post_init__(self) -> None:
        # CUR-1: everything this subscription is billed is priced in its own currency.
        self.snapshot = self.snapshot.in_currency(self.row.currency)

    def domain(
        self, terms: dict[int, ItemTerms] | None = None, interval: BillingInterval | None = None
    ) -> quote.Subscription:
        terms = self.terms if terms is None else terms
        return quote.Subscription(
            status=self.row.status,
            interval=interval or self.row.billing_interval,
            anchor=self.row.billing_anchor,
            period_start=self.row.current_period_start,
            period_end=self.row.current_period_end,
            currency=self.row.currency,
            items=tuple(self.domain_item(t) for t in sorted(terms.values(), key=self._position)),
            credit_balance=self.organization.credit_balance,
        )

    def _position(self, terms: ItemTerms) -> int:
        return next(p.position for p in self.snapshot.products if p.id == terms.product_id)

    def domain_item(self, terms: ItemTerms) -> quote.Item:
        product = next(p for p in self.snapshot.products if p.id == terms.product_id)
        plan = self.snapshot.plans_by_id[terms.plan_id]
        bundle = self.snapshot.bundles_by_id[plan.bundle_id] if plan.bundle_id else None
        add_on_codes = tuple(self.snapshot.add_ons_by_id[a].code for a, _ in terms.add_ons)
        # CUR-1: an item is billed in its subscription's currency only, never a mix.
        currency.check_one_currency(
            self.row.currency, (self.prices[i].currency for i in terms.price_ids())
        )
        parts = ItemPriceParts(
            plan=self._money(terms.plan_price_id),
            contact_limit_step=self._money(terms.contact_limit_price_id)
            if terms.contact_limit_price_id
            else None,
            seat_unit=self._money(terms.seat_price_id) if terms.seat_price_id else None,
            seats=terms.seats,
            seats_included=plan.seats_included or 0,
            add_ons=[self._money(p) for _, p in terms.add_ons],
        )
        return quote.Item(
            product=product.code,
            product_name=product.name,
            plan=plan.code,
            plan_name=f"{bundle.name} {plan.name}" if bundle else plan.name,
            amount=item_recurring_amount(parts).amount,
            features=frozenset(plan.features),
            limits=dict(plan.limits),
            bundle=bundle.code if bundle else None,
            seats=terms.seats,
            max_seats=plan.max_seats,
            contact_limit=terms.contact_limit,
            add_ons=add_on_codes,
            prepaid_periods=terms.prepaid_periods,
        )

    def _money(self, price_id: int) -> Money:
        price = self.prices[price_id]
        return Money(price.amount, price.currency)

    def facts_for(self, product_id: int) -> tuple[int | None, dict[str, int]]:
        terms = self.terms.get(product_id)
        return (terms.seats_in_use, terms.stock) if terms else (None, {})


async def load_subscription(
    organization: Organization, snapshot: CatalogSnapshot, *, lock: bool
) -> LoadedSubscription | None:
    """`lock`: the subscription's row locked too (FOR UPDATE); without, the subscription, its
    items and their add-ons are read in one statement (a holder of the organization's lock,
    which covers them, needs no row lock: resolvers/locks.py)."""
    if lock:
        row = await Subscription.filter(organization_id=organization.id).select_for_update().first()
        if row is None:
            return None
        items = await SubscriptionItem.filter(subscription_id=row.id).order_by("product_id")
        add_ons = await SubscriptionItemAddOn.filter(item_id__in=[i.id for i in items])
    else:
        found = await hot_reads.subscription_items_and_add_ons(organization.id)
        if found is None:
            return None
        row, items, add_ons = found
    return await loaded_of(organization, row, items, add_ons, snapshot)


async def loaded_of(
    organization: Organization,
    row: Subscription,
    items: Sequence[SubscriptionItem],
    add_ons: Sequence[SubscriptionItemAddOn],
    snapshot: CatalogSnapshot,
) -> LoadedSubscription:
    """As `load_subscription` builds it, from the rows already read (`items` in product order),
    its prices loaded."""
    loaded = loaded_from_rows(organization, row, items, add_ons, {}, snapshot)
    await load_prices(loaded, [pid for t in loaded.terms.values() for pid in t.price_ids()])
    return loaded


def item_terms(item: SubscriptionItem, add_ons: Iterable[SubscriptionItemAddOn]) -> ItemTerms:
    """One item's terms from its row and its add-ons' rows (the item's own or more)."""
    return ItemTerms(
        product_id=item.product_id,
        plan_id=item.plan_id,
        plan_price_id=item.plan_price_id,
        seats=item.seats,
        seat_price_id=item.seat_price_id,
        contact_limit=item.contact_limit,
        contact_limit_price_id=item.contact_limit_price_id,
        add_ons=tuple(sorted((a.add_on_id, a.price_id) for a in add_ons if a.item_id == item.id)),
        upgrade_preference=item.upgrade_preference,
        prepaid_periods=item.prepaid_periods,
        seats_in_use=item.seats_in_use,
        stock=dict(item.stock),
    )


def loaded_from_rows(
    organization: Organization,
    row: Subscription,
    items: Sequence[SubscriptionItem],
    add_ons: Sequence[SubscriptionItemAddOn],
    prices: dict[int, Price],
    snapshot: CatalogSnapshot,
) -> LoadedSubscription:
    """The subscription as load_subscription builds it, from rows already read (`items` in
    product order; `prices` holding at least the versions the items hold)."""
    return LoadedSubscription(
        organization,
        row,
        {i.product_id: i for i in items},
        {i.product_id: item_terms(i, add_ons) for i in items},
        prices,
        snapshot,
    )


async def load_prices(loaded: LoadedSubscription, ids: list[int]) -> None:
    """The price versions these ids name: current ones from the catalog snapshot, the versions
    only subscribers hold (CAT-6) in one statement."""
    current = loaded.snapshot.current_prices_by_id
    missing = []
    for i in ids:
        if i not in loaded.prices:
            if i in current:
                loaded.prices[i] = current[i]
            else:
                missing.append(i)
    if missing:
        loaded.prices.update({p.id: price_of(p) for p in await PriceRow.filter(id__in=missing)})


def wanted_terms(
    loaded: LoadedSubscription, request: ChangeRequest
) -> tuple[dict[int, ItemTerms], BillingInterval]:
    """Every item's terms after the change (billing.terms); bad input raises."""
    return terms.wanted_terms(loaded.snapshot, loaded.terms, loaded.row.billing_interval, request)


def product_id_of(loaded: LoadedSubscription, code: str) -> int:
    return next(p.id for p in loaded.snapshot.products if p.code == code)


async def subscribed_product_ids(subscription_id: Any) -> list[int]:
    return [
        item.product_id for item in await SubscriptionItem.filter(subscription_id=subscription_id)
    ]
