"""From rows to the billing domain and back: a subscription's terms, priced at the versions it
holds (CAT-6), and the wanted terms a PlanChangeInput describes, validated against the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from billing import quote
from billing.catalog import Price
from billing.errors import BillingError
from billing.money import Money
from billing.periods import BillingInterval
from billing.pricing import ItemPriceParts, item_recurring_amount
from models import Organization, Subscription, SubscriptionItem, SubscriptionItemAddOn
from models import Price as PriceRow
from resolvers.catalog import CatalogSnapshot, price_of


class _Unset:
    pass


UNSET: Any = _Unset()


@dataclass(frozen=True)
class ChangeRequest:
    """What a client asked for: one product line; anything UNSET stays as it is."""

    product: str
    plan: str | None = None
    bundle: Any = UNSET  # str, or None for the product's own plans
    billing_interval: BillingInterval | None = None
    seats: int | None = None
    contact_limit: int | None = None
    add_ons: list[str] | None = None


@dataclass(frozen=True)
class ItemTerms:
    product_id: int
    plan_id: int
    plan_price_id: int
    seats: int | None = None
    seat_price_id: int | None = None
    contact_limit: int | None = None
    contact_limit_price_id: int | None = None
    add_ons: tuple[tuple[int, int], ...] = ()  # (add-on id, price id)
    upgrade_preference: str | None = None
    prepaid_periods: int = 0
    seats_in_use: int | None = None
    stock: dict[str, int] = field(default_factory=dict)

    def price_ids(self) -> list[int]:
        ids = [self.plan_price_id, self.seat_price_id, self.contact_limit_price_id]
        return [i for i in ids if i is not None] + [price for _, price in self.add_ons]

    def same_terms(self, other: ItemTerms) -> bool:
        return (
            self.plan_id,
            self.seats,
            self.contact_limit,
            sorted(a for a, _ in self.add_ons),
        ) == (
            other.plan_id,
            other.seats,
            other.contact_limit,
            sorted(a for a, _ in other.add_ons),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "plan_id": self.plan_id,
            "plan_price_id": self.plan_price_id,
            "seats": self.seats,
            "seat_price_id": self.seat_price_id,
            "contact_limit": self.contact_limit,
            "contact_limit_price_id": self.contact_limit_price_id,
            "add_ons": [list(pair) for pair in self.add_ons],
            "upgrade_preference": self.upgrade_preference,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemTerms:
        return cls(**{**data, "add_ons": tuple((a, p) for a, p in data["add_ons"])})


@dataclass
class LoadedSubscription:
    organization: Organization
    row: Subscription
    items: dict[int, SubscriptionItem]  # by product id
    terms: dict[int, ItemTerms]  # by product id
    prices: dict[int, Price]
    snapshot: CatalogSnapshot

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
    query = Subscription.filter(organization_id=organization.id)
    row = await (query.select_for_update() if lock else query).first()
    if row is None:
        return None
    items = await SubscriptionItem.filter(subscription_id=row.id)
    add_ons = await SubscriptionItemAddOn.filter(item_id__in=[i.id for i in items])
    terms = {
        item.product_id: ItemTerms(
            product_id=item.product_id,
            plan_id=item.plan_id,
            plan_price_id=item.plan_price_id,
            seats=item.seats,
            seat_price_id=item.seat_price_id,
            contact_limit=item.contact_limit,
            contact_limit_price_id=item.contact_limit_price_id,
            add_ons=tuple(
                sorted((a.add_on_id, a.price_id) for a in add_ons if a.item_id == item.id)
            ),
            upgrade_preference=item.upgrade_preference,
            prepaid_periods=item.prepaid_periods,
            seats_in_use=item.seats_in_use,
            stock=dict(item.stock),
        )
        for item in items
    }
    loaded = LoadedSubscription(
        organization, row, {i.product_id: i for i in items}, terms, {}, snapshot
    )
    await load_prices(loaded, [pid for t in terms.values() for pid in t.price_ids()])
    return loaded


async def load_prices(loaded: LoadedSubscription, ids: list[int]) -> None:
    missing = [i for i in ids if i not in loaded.prices]
    if missing:
        loaded.prices.update({p.id: price_of(p) for p in await PriceRow.filter(id__in=missing)})


def wanted_terms(
    loaded: LoadedSubscription, request: ChangeRequest
) -> tuple[dict[int, ItemTerms], BillingInterval]:
    """Every item's terms after the change, priced for the wanted interval; bad input raises."""
    snapshot = loaded.snapshot
    product = next((p for p in snapshot.products if p.code == request.product), None)
    if product is None:
        codes = ", ".join(p.code for p in snapshot.products)
        raise BillingError(
            f"Unknown product {request.product!r}: expected one of {codes}.", field="product"
        )
    interval = request.billing_interval or loaded.row.billing_interval
    for other in {*loaded.terms, product.id}:
        other_product = next(p for p in snapshot.products if p.id == other)
        if interval.value not in other_product.intervals:
            offered = ", ".join(other_product.intervals)
            raise BillingError(
                f"{other_product.name} is not sold {interval.value}: it is sold {offered}.",
                field="billingInterval",
            )
    current = loaded.terms.get(product.id)
    new = _product_terms(
        snapshot, product.id, current, request, interval, loaded.row.billing_interval
    )
    result: dict[int, ItemTerms] = {}
    for product_id, terms in loaded.terms.items():
        result[product_id] = (
            terms
            if interval == loaded.row.billing_interval
            else _repriced(snapshot, terms, interval)
        )
    result[product.id] = new
    return result, interval


def _product_terms(
    snapshot: CatalogSnapshot,
    product_id: int,
    current: ItemTerms | None,
    request: ChangeRequest,
    interval: BillingInterval,
    current_interval: BillingInterval,
) -> ItemTerms:
    plans = snapshot.plans_by_product.get(product_id, [])
    current_plan = snapshot.plans_by_id[current.plan_id] if current else None
    bundle_id = _bundle_id(
        snapshot, product_id, request.bundle, current_plan.bundle_id if current_plan else None
    )
    plan_code = request.plan or (current_plan.code if current_plan else None)
    candidates = [p for p in plans if p.bundle_id == bundle_id]
    plan = next((p for p in candidates if p.code == plan_code), None)
    if plan is None:
        codes = ", ".join(p.code for p in candidates)
        what = f"Unknown plan {plan_code!r}" if plan_code else "Choose a plan"
        raise BillingError(f"{what}: expected one of {codes}.", field="plan")
    seat_prices = snapshot.prices_for(f"seat:{product_id}")
    seats = request.seats if request.seats is not None else (current.seats if current else None)
    if seats is None and seat_prices:
        seats = plan.seats_included or 1
    if seats is not None:
        if not seat_prices:
            raise BillingError("This product has no seats to buy.", field="seats")
        if seats < 1:
            raise BillingError(f"Seats must be at least 1, got {seats}.", field="seats")
    steps = snapshot.steps_by_product.get(product_id, [])
    ladder = [s.contact_limit for s in steps]
    contact_limit = (
        request.contact_limit
        if request.contact_limit is not None
        else (current.contact_limit if current else None)
    )
    if contact_limit is None and ladder:
        contact_limit = ladder[0]
    if contact_limit is not None and contact_limit not in ladder:
        offered = ", ".join(f"{step:,}" for step in ladder)
        raise BillingError(
            f"Contact limit {contact_limit:,} is not on the ladder: choose one of {offered}."
            if ladder
            else "This product has no contact-limit ladder: leave contactLimit out.",
            field="contactLimit",
        )
    add_ons_by_code = {a.code: a for a in snapshot.add_ons_by_product.get(product_id, [])}
    if request.add_ons is not None:
        add_on_codes = list(dict.fromkeys(request.add_ons))
    else:
        add_on_codes = [
            snapshot.add_ons_by_id[a].code for a, _ in (current.add_ons if current else ())
        ]
    for code in add_on_codes:
        add_on = add_ons_by_code.get(code)
        if add_on is None:
            offered = ", ".join(add_ons_by_code)
            raise BillingError(
                f"Unknown add-on {code!r}: expected one of {offered}."
                if add_ons_by_code
                else "This product has no add-ons: leave addOns out or send an empty list.",
                field="addOns",
            )
        if add_on.min_plan_rank > plan.rank:
            minimum = next(
                p.name for p in plans if p.bundle_id is None and p.rank == add_on.min_plan_rank
            )
            raise BillingError(
                f"{add_on.name} is offered on {minimum} and above, not on {plan.name}.",
                field="addOns",
            )
    policy = snapshot.policies[product_id]
    draft = ItemTerms(
        product_id=product_id,
        plan_id=plan.id,
        plan_price_id=_price_id(snapshot, f"plan:{plan.id}", interval),
        seats=seats,
        seat_price_id=_price_id(snapshot, f"seat:{product_id}", interval)
        if seats is not None
        else None,
        contact_limit=contact_limit,
        contact_limit_price_id=(
            _price_id(
                snapshot,
                f"contact_limit:{next(s.id for s in steps if s.contact_limit == contact_limit)}",
                interval,
            )
            if contact_limit is not None
            else None
        ),
        add_ons=tuple(
            sorted(
                (
                    add_ons_by_code[c].id,
                    _price_id(snapshot, f"add_on:{add_ons_by_code[c].id}", interval),
                )
                for c in add_on_codes
            )
        ),
        upgrade_preference=current.upgrade_preference if current else policy.default_preference,
        prepaid_periods=current.prepaid_periods if current else 0,
        seats_in_use=current.seats_in_use if current else None,
        stock=current.stock if current else {},
    )
    if current is None or interval != current_interval:
        return draft
    if current.same_terms(draft):
        return current  # unchanged: keeps the price versions it holds (CAT-6)
    return _keep_held_prices(current, draft)


def _keep_held_prices(current: ItemTerms, draft: ItemTerms) -> ItemTerms:
    """CAT-6: a subscriber keeps the price version it signed up on until it changes plan; adding
    a seat or an add-on does not move the plan, or anything else it keeps, to a newer price."""
    if draft.plan_id != current.plan_id:
        return draft
    held_add_ons = dict(current.add_ons)
    return replace(
        draft,
        plan_price_id=current.plan_price_id,
        seat_price_id=current.seat_price_id or draft.seat_price_id,
        contact_limit_price_id=(
            current.contact_limit_price_id
            if draft.contact_limit == current.contact_limit
            else draft.contact_limit_price_id
        ),
        add_ons=tuple((a, held_add_ons.get(a, price)) for a, price in draft.add_ons),
    )


def _bundle_id(
    snapshot: CatalogSnapshot, product_id: int, requested: Any, current: int | None
) -> int | None:
    if requested is UNSET:
        return current
    if requested is None:
        return None
    bundle = next(
        (b for b in snapshot.bundles_by_product.get(product_id, []) if b.code == requested), None
    )
    if bundle is None:
        offered = ", ".join(b.code for b in snapshot.bundles_by_product.get(product_id, []))
        raise BillingError(
            f"Unknown bundle {requested!r}: expected one of {offered}."
            if offered
            else "This product is not sold in a bundle: leave bundle out.",
            field="bundle",
        )
    return bundle.id


def _price_id(snapshot: CatalogSnapshot, key_prefix: str, interval: BillingInterval) -> int:
    for price in snapshot.prices_for(key_prefix):
        if price.interval == interval:
            return price.id
    raise BillingError(f"No {interval.value} price for {key_prefix}.", field="billingInterval")


def _repriced(snapshot: CatalogSnapshot, terms: ItemTerms, interval: BillingInterval) -> ItemTerms:
    step_id = None
    if terms.contact_limit is not None:
        step_id = next(
            s.id
            for s in snapshot.steps_by_product.get(terms.product_id, [])
            if s.contact_limit == terms.contact_limit
        )
    return replace(
        terms,
        plan_price_id=_price_id(snapshot, f"plan:{terms.plan_id}", interval),
        seat_price_id=_price_id(snapshot, f"seat:{terms.product_id}", interval)
        if terms.seat_price_id
        else None,
        contact_limit_price_id=_price_id(snapshot, f"contact_limit:{step_id}", interval)
        if step_id
        else None,
        add_ons=tuple((a, _price_id(snapshot, f"add_on:{a}", interval)) for a, _ in terms.add_ons),
    )


def product_id_of(loaded: LoadedSubscription, code: str) -> int:
    return next(p.id for p in loaded.snapshot.products if p.code == code)


async def subscribed_product_ids(subscription_id: Any) -> list[int]:
    return [
        item.product_id for item in await SubscriptionItem.filter(subscription_id=subscription_id)
    ]
