"""What a usage batch reads under the organization's lock (USE-1): the organization's clock
offset and pause, the subscription with its items, and the live workspaces (PRV-1). On
PostgreSQL a batch sharing the lock reads them in one statement after taking it (ingestion's
hot path: one round trip instead of three, bench/README.md); otherwise as before, the
workspaces only when an event names one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from billing.errors import NotFoundError
from models import Subscription, SubscriptionItem
from resolvers import hot_reads
from resolvers.locks import (
    UsageLock,
    is_postgres,
    lock_for_usage,
    take_shared_usage_lock,
)
from resolvers.usage_charges import no_subscription, subscription_and_items


class _Named(Protocol):
    @property
    def workspace(self) -> str | None: ...


@dataclass(frozen=True)
class BatchReads:
    lock: UsageLock
    subscription: Subscription
    items: dict[int, SubscriptionItem]  # by product id
    workspaces: set[str]  # the live workspaces' slugs (empty when no event names one)


async def read_under_lock(
    connection: BaseDBAsyncClient,
    organization_id: UUID,
    events: Sequence[_Named],
    *,
    exclusive: bool,
) -> BatchReads:
    """Takes the lock (shared, or `exclusive`) and reads; NotFoundError for an unknown
    organization, BillingError for one without a subscription."""
    if not exclusive and is_postgres(connection):
        # The lock first, in a statement of its own: a statement reads what was committed when
        # it started, and an exclusive holder may commit while this one waits for the lock.
        await take_shared_usage_lock(connection, organization_id)
        found = await hot_reads.usage_batch(connection, organization_id)
        if found is None:
            raise NotFoundError("No such organization.")
        if found.subscription is None:
            raise no_subscription()
        return BatchReads(
            UsageLock(found.clock_offset_seconds, found.automatic_charges_paused),
            found.subscription,
            {item.product_id: item for item in found.items},
            found.workspaces,
        )
    locked = await lock_for_usage(organization_id, exclusive=exclusive)
    if locked is None:
        raise NotFoundError("No such organization.")
    subscription, items = await subscription_and_items(organization_id)
    return BatchReads(
        locked, subscription, items, await _workspaces(connection, organization_id, events)
    )


async def _workspaces(
    connection: BaseDBAsyncClient, organization_id: UUID, events: Sequence[_Named]
) -> set[str]:
    """The organization's live workspace slugs, read only when an event names a workspace."""
    if all(e.workspace is None for e in events):
        return set()
    if is_postgres(connection):
        rows = await connection.execute_query_dict(_LIVE_WORKSPACES + "$1", [organization_id])
    else:
        rows = await connection.execute_query_dict(_LIVE_WORKSPACES + "?", [str(organization_id)])
    return {str(row["slug"]) for row in rows}


_LIVE_WORKSPACES = "SELECT slug FROM workspace WHERE archived_at IS NULL AND organization_id = "
