"""The whole catalog read in a fixed number of queries, and kept by each gateway process until
the catalog revision changes (one row, rewritten by whatever writes the catalog)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TypeVar
from uuid import uuid4

from models import (
    AddOn,
    Bundle,
    CatalogRevision,
    ContactLimitStep,
    Plan,
    Price,
    Product,
    ProductPolicy,
)

_Row = TypeVar("_Row", Plan, Bundle, AddOn, ContactLimitStep)


@dataclass(frozen=True)
class CatalogSnapshot:
    products: list[Product]
    policies: dict[int, ProductPolicy]
    plans_by_product: dict[int, list[Plan]]
    plans_by_id: dict[int, Plan]
    bundles_by_product: dict[int, list[Bundle]]
    bundles_by_id: dict[int, Bundle]
    add_ons_by_product: dict[int, list[AddOn]]
    add_ons_by_id: dict[int, AddOn]
    steps_by_product: dict[int, list[ContactLimitStep]]
    # Current price versions by what they price, e.g. "plan:12" -> [MONTHLY, ANNUAL]
    current_prices: dict[str, list[Price]]
    currency: str

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


_kept: tuple[str, CatalogSnapshot] | None = None


async def catalog_changed() -> None:
    """Call in the transaction that writes the catalog: every process reloads its snapshot.
    The revision is random, not a counter, so two databases never share one."""
    await CatalogRevision.update_or_create(id=1, defaults={"revision": str(uuid4())})


async def current_catalog_snapshot() -> CatalogSnapshot:
    """The snapshot for this revision of the catalog: one query when it is kept already."""
    global _kept
    row = await CatalogRevision.get_or_none(id=1)
    if row is None:  # a catalog written before revisions were kept
        return await load_catalog_snapshot()
    if _kept is None or _kept[0] != row.revision:
        _kept = (row.revision, await load_catalog_snapshot())
    return _kept[1]


async def load_catalog_snapshot() -> CatalogSnapshot:

    products = await Product.all()
    policies = await ProductPolicy.all()
    bundles = await Bundle.all().order_by("id")
    plans = await Plan.all()
    add_ons = await AddOn.all().order_by("id")
    steps = await ContactLimitStep.all()
    prices = await Price.filter(is_current=True).order_by("id")
    current_prices: dict[str, list[Price]] = defaultdict(list)
    for price in prices:
        current_prices[price.key.rsplit(":", 1)[0]].append(price)
    return CatalogSnapshot(
        products=products,
        policies={p.product_id: p for p in policies},
        plans_by_product=_group(plans),
        plans_by_id={p.id: p for p in plans},
        bundles_by_product=_group(bundles),
        bundles_by_id={b.id: b for b in bundles},
        add_ons_by_product=_group(add_ons),
        add_ons_by_id={a.id: a for a in add_ons},
        steps_by_product=_group(steps),
        current_prices=dict(current_prices),
        currency=prices[0].currency if prices else "USD",
    )


def _group(rows: list[_Row]) -> dict[int, list[_Row]]:
    grouped: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[row.product_id].append(row)
    return dict(grouped)
