"""Per-request DataLoaders: every relationship field is batched into one query per kind."""

from __future__ import annotations

import asyncio
import enum
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import Final, Literal, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from billing.clock import Clock
from models import (
    Dispute,
    InvoiceLine,
    Membership,
    Organization,
    Payment,
    Price,
    Subscription,
    SubscriptionItem,
    SubscriptionItemAddOn,
    Workspace,
)
from resolvers import hot_reads
from resolvers.catalog import (
    CatalogSnapshot,
    current_catalog_snapshot,
    fresh_catalog_snapshot,
    price_rows,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Unknown(enum.Enum):
    UNKNOWN = "unknown"


UNKNOWN: Final = Unknown.UNKNOWN


def known(loader: DataLoader[K, V], key: K) -> V | Literal[Unknown.UNKNOWN]:
    """What `loader` already holds for `key` (primed, or loaded earlier in the request), without
    awaiting anything; UNKNOWN when it has still to read it (or its read failed: awaiting the
    load raises that error)."""
    future = loader.cache_map.get(key) if loader.cache else None
    if future is None or not future.done() or future.cancelled() or future.exception():
        return UNKNOWN
    return future.result()


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose futures survive one caller's cancellation.

    Fields that ask for the same key await the same cached future. graphql-core cancels a failed
    field's siblings (gather_with_cancel), and cancelling a task cancels the future it awaits:
    without the shield, a sibling's cancellation would cancel the shared future, and every other
    field awaiting it would get `CancelledError`, which escapes execution as a 500."""

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


def _one_each(
    fetch: Callable[[list[K]], Awaitable[list[V]]], key: Callable[[V], K]
) -> Callable[[list[K]], Awaitable[list[V | None]]]:
    async def load(keys: list[K]) -> list[V | None]:
        found = {key(row): row for row in await fetch(keys)}
        return [found.get(k) for k in keys]

    return load


def _many_each(
    fetch: Callable[[list[K]], Awaitable[list[V]]], key: Callable[[V], K]
) -> Callable[[list[K]], Awaitable[list[list[V]]]]:
    async def load(keys: list[K]) -> list[list[V]]:
        grouped: dict[K, list[V]] = defaultdict(list)
        for row in await fetch(keys):
            grouped[key(row)].append(row)
        return [grouped.get(k, []) for k in keys]

    return load


async def _members(org_ids: Sequence[UUID]) -> list[Membership]:
    return (
        await Membership.filter(organization_id__in=org_ids)
        .select_related("user")
        .order_by("created_at", "id")
    )


async def _workspaces(org_ids: Sequence[UUID]) -> list[Workspace]:
    return await Workspace.filter(organization_id__in=org_ids).order_by("name", "id")


async def _invoice_lines(invoice_ids: Sequence[UUID]) -> list[InvoiceLine]:
    return await InvoiceLine.filter(invoice_id__in=invoice_ids).order_by("invoice_id", "position")


async def _waiting_payments(invoice_ids: Sequence[UUID]) -> list[Payment]:
    return await Payment.filter(invoice_id__in=invoice_ids, status="REQUIRES_ACTION").order_by(
        "created_at"
    )


async def _disputes(invoice_ids: Sequence[UUID]) -> list[Dispute]:
    return await Dispute.filter(invoice_id__in=invoice_ids).order_by("opened_at", "id")


class Loaders:
    def __init__(self, clock: Clock | None = None, catalog_check: timedelta = timedelta(0)) -> None:
        """`catalog_check`: how long a process serves its catalog without reading the revision
        (GATEWAY_CATALOG_CHECK_SECONDS), measured on `clock`; without a clock, every request
        reads it."""
        self._clock = clock
        self._catalog_check = catalog_check
        self._catalog: asyncio.Future[CatalogSnapshot] | None = None

    # Each made when a field first asks for it: most requests use a few, some none.
    @cached_property
    def organization(self) -> SharedLoader[UUID, Organization | None]:
        return SharedLoader(_one_each(hot_reads.organizations, lambda o: o.id))

    @cached_property
    def subscription_by_organization(self) -> SharedLoader[UUID, Subscription | None]:
        return SharedLoader(_one_each(hot_reads.subscriptions, lambda s: s.organization_id))

    @cached_property
    def items_by_subscription(self) -> SharedLoader[UUID, list[SubscriptionItem]]:
        return SharedLoader(_many_each(hot_reads.items, lambda i: i.subscription_id))

    @cached_property
    def add_ons_by_item(self) -> SharedLoader[UUID, list[SubscriptionItemAddOn]]:
        return SharedLoader(_many_each(hot_reads.add_ons, lambda a: a.item_id))

    @cached_property
    def price(self) -> SharedLoader[int, Price | None]:
        return SharedLoader(_one_each(self._prices, lambda p: p.id))

    @cached_property
    def members_by_organization(self) -> SharedLoader[UUID, list[Membership]]:
        return SharedLoader(_many_each(_members, lambda m: m.organization_id))

    @cached_property
    def workspaces_by_organization(self) -> SharedLoader[UUID, list[Workspace]]:
        return SharedLoader(_many_each(_workspaces, lambda w: w.organization_id))

    @cached_property
    def lines_by_invoice(self) -> SharedLoader[UUID, list[InvoiceLine]]:
        return SharedLoader(_many_each(_invoice_lines, lambda line: line.invoice_id))

    @cached_property
    def waiting_payments_by_invoice(self) -> SharedLoader[UUID, list[Payment]]:
        return SharedLoader(_many_each(_waiting_payments, lambda payment: payment.invoice_id))

    @cached_property
    def disputes_by_invoice(self) -> SharedLoader[UUID, list[Dispute]]:
        return SharedLoader(_many_each(_disputes, lambda dispute: dispute.invoice_id))

    async def _prices(self, ids: Sequence[int]) -> list[Price]:
        # Kept by the process with the catalog snapshot: no query once each version was read.
        return await price_rows(await self.catalog(), ids)

    def known_catalog(self) -> CatalogSnapshot | None:
        """The request's snapshot when it needs no query (read already, or kept by the process
        and fresh); None when `catalog()` must be awaited."""
        if self._catalog is None:
            now = self._clock.now() if self._clock else None
            if (fresh := fresh_catalog_snapshot(now, self._catalog_check)) is None:
                return None
            # No query to wait for: the snapshot itself, with no task to run it.
            self._catalog = asyncio.get_running_loop().create_future()
            self._catalog.set_result(fresh)
            return fresh
        done = self._catalog.done() and not self._catalog.cancelled()
        return self._catalog.result() if done and not self._catalog.exception() else None

    async def catalog(self) -> CatalogSnapshot:
        # One snapshot per request, shared by every field that needs the catalog (and kept by
        # the process while the catalog revision stays the same).
        if (known_snapshot := self.known_catalog()) is not None:
            return known_snapshot
        if self._catalog is None:
            now = self._clock.now() if self._clock else None
            self._catalog = asyncio.ensure_future(
                current_catalog_snapshot(now, self._catalog_check)
            )
        return await asyncio.shield(self._catalog)  # shared, like SharedLoader's futures


__all__ = ["Loaders"]
