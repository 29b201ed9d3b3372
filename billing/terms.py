"""A product line's terms (plan, seats, contact limit, add-ons, and the price versions they are
billed at) and the wanted terms a change request describes, validated against the catalog
(CAT-1 to CAT-6). Pure: the catalog snapshot and the current terms in, the new terms out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from billing.catalog import AddOn, CatalogSnapshot, Plan
from billing.errors import BillingError
from billing.periods import BillingInterval


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
class TermsKey:
    """What a line is sold on. Two lines with equal keys have the same terms: a change between
    them is no change, and the line keeps the price versions it holds (CAT-6). Price versions,
    the upgrade preference and prepaid periods are not terms."""

    plan: object  # the plan's identity: its id, or its (bundle code, plan code)
    seats: int | None
    contact_limit: int | None
    add_ons: tuple[object, ...]  # sorted identities


class HasTerms(Protocol):
    def terms_key(self) -> TermsKey: ...


def same_terms(a: HasTerms, b: HasTerms) -> bool:
    return a.terms_key() == b.terms_key()


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

    def terms_key(self) -> TermsKey:
        add_ons = tuple(sorted(a for a, _ in self.add_ons))
        return TermsKey(self.plan_id, self.seats, self.contact_limit, add_ons)

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


def wanted_terms(
    snapshot: CatalogSnapshot,
    current_terms: Mapping[int, ItemTerms],
    current_interval: BillingInterval,
    request: ChangeRequest,
) -> tuple[dict[int, ItemTerms], BillingInterval]:
    """Every item's terms after the change, priced for the wanted interval; bad input raises."""
    product = next((p for p in snapshot.products if p.code == request.product), None)
    if product is None:
        codes = ", ".join(p.code for p in snapshot.products)
        raise BillingError(
            f"Unknown product {request.product!r}: expected one of {codes}.", field="product"
        )
    interval = request.billing_interval or current_interval
    for other in {*current_terms, product.id}:
        other_product = next(p for p in snapshot.products if p.id == other)
        if interval.value not in other_product.intervals:
            offered = ", ".join(other_product.intervals)
            raise BillingError(
                f"{other_product.name} is not sold {interval.value}: it is sold {offered}.",
                field="billingInterval",
            )
    current = current_terms.get(product.id)
    new = _product_terms(snapshot, product.id, current, request, interval)
    if current is not None and interval == current_interval:
        new = _held(current, new)
    result: dict[int, ItemTerms] = {}
    for product_id, terms in current_terms.items():
        result[product_id] = (
            terms if interval == current_interval else _repriced(snapshot, terms, interval)
        )
    result[product.id] = new
    return result, interval


def _product_terms(
    snapshot: CatalogSnapshot,
    product_id: int,
    current: ItemTerms | None,
    request: ChangeRequest,
    interval: BillingInterval,
) -> ItemTerms:
    """One line's wanted terms (CAT-1, CAT-3, CAT-4, CAT-5), priced at current versions."""
    plan = _plan(snapshot, product_id, current, request)
    seats = _seats(snapshot, product_id, plan, current, request)
    contact_limit = _contact_limit(snapshot, product_id, current, request)
    add_ons = _add_ons(snapshot, product_id, plan, current, request)
    steps = {s.contact_limit: s.id for s in snapshot.steps_by_product.get(product_id, [])}
    draft = ItemTerms(
        product_id=product_id,
        plan_id=plan.id,
        plan_price_id=_price_id(snapshot, f"plan:{plan.id}", interval),
        seats=seats,
        seat_price_id=_price_id(snapshot, f"seat:{product_id}", interval)
        if seats is not None
        else None,
        contact_limit=contact_limit,
        contact_limit_price_id=_price_id(
            snapshot, f"contact_limit:{steps[contact_limit]}", interval
        )
        if contact_limit is not None
        else None,
        add_ons=tuple(
            sorted((a.id, _price_id(snapshot, f"add_on:{a.id}", interval)) for a in add_ons)
        ),
        upgrade_preference=current.upgrade_preference
        if current
        else snapshot.policies[product_id].default_preference,
        prepaid_periods=current.prepaid_periods if current else 0,
        seats_in_use=current.seats_in_use if current else None,
        stock=current.stock if current else {},
    )
    return draft


def _held(current: ItemTerms, draft: ItemTerms) -> ItemTerms:
    """CAT-6: in the same interval, a line keeps the price versions it holds where nothing it
    keeps changed."""
    if same_terms(current, draft):
        return current  # unchanged: keeps every price version it holds
    return _keep_held_prices(current, draft)


def _plan(
    snapshot: CatalogSnapshot, product_id: int, current: ItemTerms | None, request: ChangeRequest
) -> Plan:
    current_plan = snapshot.plans_by_id[current.plan_id] if current else None
    bundle_id = _bundle_id(
        snapshot, product_id, request.bundle, current_plan.bundle_id if current_plan else None
    )
    plan_code = request.plan or (current_plan.code if current_plan else None)
    candidates = [
        p for p in snapshot.plans_by_product.get(product_id, []) if p.bundle_id == bundle_id
    ]
    plan = next((p for p in candidates if p.code == plan_code), None)
    if plan is None:
        codes = ", ".join(p.code for p in candidates)
        what = f"Unknown plan {plan_code!r}" if plan_code else "Choose a plan"
        raise BillingError(f"{what}: expected one of {codes}.", field="plan")
    return plan


def _seats(
    snapshot: CatalogSnapshot,
    product_id: int,
    plan: Plan,
    current: ItemTerms | None,
    request: ChangeRequest,
) -> int | None:
    """CAT-3: seats where the product prices them, the plan's included ones by default."""
    seat_prices = snapshot.prices_for(f"seat:{product_id}")
    seats = request.seats if request.seats is not None else (current.seats if current else None)
    if seats is None and seat_prices:
        seats = plan.seats_included or 1
    if seats is not None:
        if not seat_prices:
            raise BillingError("This product has no seats to buy.", field="seats")
        if seats < 1:
            raise BillingError(f"Seats must be at least 1, got {seats}.", field="seats")
    return seats


def _contact_limit(
    snapshot: CatalogSnapshot, product_id: int, current: ItemTerms | None, request: ChangeRequest
) -> int | None:
    """CAT-3: a step of the product's ladder, its first step by default."""
    ladder = [s.contact_limit for s in snapshot.steps_by_product.get(product_id, [])]
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
    return contact_limit


def _add_ons(
    snapshot: CatalogSnapshot,
    product_id: int,
    plan: Plan,
    current: ItemTerms | None,
    request: ChangeRequest,
) -> list[AddOn]:
    """CAT-4: the product's own add-ons, each offered from a plan rank up."""
    add_ons_by_code = {a.code: a for a in snapshot.add_ons_by_product.get(product_id, [])}
    if request.add_ons is not None:
        codes = list(dict.fromkeys(request.add_ons))
    else:
        codes = [snapshot.add_ons_by_id[a].code for a, _ in (current.add_ons if current else ())]
    chosen: list[AddOn] = []
    for code in codes:
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
                p.name
                for p in snapshot.plans_by_product.get(product_id, [])
                if p.bundle_id is None and p.rank == add_on.min_plan_rank
            )
            raise BillingError(
                f"{add_on.name} is offered on {minimum} and above, not on {plan.name}.",
                field="addOns",
            )
        chosen.append(add_on)
    return chosen


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
