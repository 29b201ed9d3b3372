"""The whole catalog read in a fixed number of queries, and kept by each gateway process until
the catalog revision changes (one row, rewritten by whatever writes the catalog), which each
process reads at most once per check interval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import uuid4

from billing import catalog
from billing.catalog import CatalogSnapshot
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

__all__ = [
    "CatalogSnapshot",
    "catalog_changed",
    "catalog_revision",
    "current_catalog_snapshot",
    "fresh_catalog_snapshot",
    "price_of",
    "price_rows",
]


_kept: tuple[str, CatalogSnapshot] | None = None
# When this process last read the revision (the caller's clock): within the check interval the
# kept snapshot is served without asking (GATEWAY_CATALOG_CHECK_SECONDS).
_checked_at: datetime | None = None


# Price versions read by id, kept with the snapshot they were read under (see price_rows).
_price_rows: tuple[CatalogSnapshot, dict[int, Price]] | None = None


async def price_rows(snapshot: CatalogSnapshot, ids: Sequence[int]) -> list[Price]:
    """The price versions with these ids (subscription items may point at versions no longer
    current). A version's amount and currency never change (CAT-6: a new amount is a new row),
    so the process reads each once per catalog revision: a new snapshot starts afresh."""
    global _price_rows
    if _price_rows is None or _price_rows[0] is not snapshot:
        _price_rows = (snapshot, {})
    kept = _price_rows[1]
    missing = [i for i in ids if i not in kept]
    if missing:
        for row in await Price.filter(id__in=missing):
            kept[row.id] = row
    return [kept[i] for i in ids if i in kept]


def kept_price_rows(snapshot: CatalogSnapshot, ids: Sequence[int]) -> list[Price] | None:
    """`price_rows` when the process already keeps every one of them for this snapshot (no
    statement, nothing to wait for); None when one must be read."""
    if _price_rows is None or _price_rows[0] is not snapshot:
        return None
    kept = _price_rows[1]
    try:
        return [kept[i] for i in ids]
    except KeyError:
        return None


async def catalog_changed() -> None:
    """Call in the transaction that writes the catalog: every process reloads its snapshot (this
    one at its next request, the others within their check interval). The revision is random,
    not a counter, so two databases never share one."""
    global _checked_at
    await CatalogRevision.update_or_create(id=1, defaults={"revision": str(uuid4())})
    _checked_at = None


async def catalog_revision() -> str | None:
    """The catalog's revision now; None for a catalog written before revisions were kept."""
    row = await CatalogRevision.get_or_none(id=1)
    return row.revision if row else None


def fresh_catalog_snapshot(now: datetime | None, check_every: timedelta) -> CatalogSnapshot | None:
    """The kept snapshot while its revision was read less than `check_every` before `now`."""
    checked = _checked_at
    if _kept is not None and now and checked and checked <= now < checked + check_every:
        return _kept[1]
    return None


async def current_catalog_snapshot(
    now: datetime | None = None, check_every: timedelta = timedelta(0)
) -> CatalogSnapshot:
    """The snapshot for this revision of the catalog: no query when the revision was read less
    than `check_every` before `now`, one when it is kept already."""
    global _kept, _checked_at
    if (fresh := fresh_catalog_snapshot(now, check_every)) is not None:
        return fresh
    revision = await catalog_revision()
    if revision is None:
        return await load_catalog_snapshot()
    if _kept is None or _kept[0] != revision:
        _kept = (revision, await load_catalog_snapshot())
    _checked_at = now
    return _kept[1]


async def load_catalog_snapshot() -> CatalogSnapshot:
    prices = await Price.filter(is_current=True).order_by("id")
    return CatalogSnapshot(
        products=tuple(_product(p) for p in await Product.all()),
        policies={p.product_id: _policy(p) for p in await ProductPolicy.all()},
        plans=tuple(_plan(p) for p in await Plan.all()),
        bundles=tuple(_bundle(b) for b in await Bundle.all().order_by("id")),
        add_ons=tuple(_add_on(a) for a in await AddOn.all().order_by("id")),
        steps=tuple(_step(s) for s in await ContactLimitStep.all()),
        current_price_list=tuple(price_of(p) for p in prices),
        currency=_default_currency(prices),
    )


def _default_currency(prices: list[Price]) -> str:
    """CUR-1: the catalog's default currency, the one whose keys carry no currency."""
    own = (p.currency for p in prices if p.key.count(":") == 2)
    return next(own, prices[0].currency if prices else "USD")


def _product(row: Product) -> catalog.Product:
    return catalog.Product(
        row.id, row.code, row.name, row.position, tuple(row.metrics), tuple(row.intervals)
    )


def _policy(row: ProductPolicy) -> catalog.ProductPolicy:
    return catalog.ProductPolicy(
        product_id=row.product_id,
        upgrade_proration=row.upgrade_proration,
        downgrade_timing=row.downgrade_timing,
        cancellation_notice=row.cancellation_notice,
        retention_days=row.retention_days,
        alert_thresholds=tuple(row.alert_thresholds),
        upgrade_preferences=tuple(row.upgrade_preferences),
        default_preference=row.default_preference,
        auto_downgrade_available=row.auto_downgrade_available,
        autoscaling=row.autoscaling,
        billing_admin_may_cancel=row.billing_admin_may_cancel,
        on_demand_metric=row.on_demand_metric,
        on_demand_block_size=row.on_demand_block_size,
        on_demand_block_price=row.on_demand_block_price,
        on_demand_block_prices=dict(row.on_demand_block_prices or {}),
    )


def _plan(row: Plan) -> catalog.Plan:
    return catalog.Plan(
        id=row.id,
        product_id=row.product_id,
        bundle_id=row.bundle_id,
        code=row.code,
        name=row.name,
        rank=row.rank,
        features=tuple(row.features),
        limits=dict(row.limits),
        seats_included=row.seats_included,
        max_seats=row.max_seats,
    )


def _bundle(row: Bundle) -> catalog.Bundle:
    return catalog.Bundle(row.id, row.product_id, row.code, row.name, tuple(row.includes))


def _add_on(row: AddOn) -> catalog.AddOn:
    return catalog.AddOn(row.id, row.product_id, row.code, row.name, row.min_plan_rank)


def _step(row: ContactLimitStep) -> catalog.ContactLimitStep:
    return catalog.ContactLimitStep(row.id, row.product_id, row.contact_limit)


def price_of(row: Price) -> catalog.Price:
    """One price version as plain data, current or held by a subscriber (CAT-6)."""
    return catalog.Price(
        id=row.id,
        product_id=row.product_id,
        kind=catalog.PriceKind(row.kind),
        interval=row.interval,
        key=row.key,
        version=row.version,
        amount=row.amount,
        currency=row.currency,
        is_current=row.is_current,
        plan_id=row.plan_id,
        add_on_id=row.add_on_id,
        contact_limit_step_id=row.contact_limit_step_id,
    )
