"""The organization lock. Whatever changes an organization's billing (the billing clock, a plan
change, a payment, a preference) holds it exclusively; usage batches of counted metrics share it
(USE-1), so they run side by side and meet only at the rows they write.

On PostgreSQL it is an advisory lock keyed by the organization. Advisory locks queue in order, so
a waiting exclusive holder is not overtaken by later batches: with `FOR SHARE` row locks a steady
stream of batches could hold the billing clock off indefinitely. The organization's row is still
locked `FOR UPDATE` by exclusive holders. SQLite runs one write transaction at a time."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import DoesNotExist

from billing.schedule import RESCHEDULE
from models import Organization, Subscription

_USAGE_ROW = "SELECT clock_offset_seconds, automatic_charges_paused FROM organization WHERE id = "
_USAGE_ROW_POSTGRES = _USAGE_ROW + "$1"
_USAGE_ROW_SQLITE = _USAGE_ROW + "?"


@dataclass(frozen=True)
class UsageLock:
    """What a usage batch reads of its organization under the lock."""

    clock_offset_seconds: int
    automatic_charges_paused: bool


def _transaction() -> BaseDBAsyncClient:
    connection: BaseDBAsyncClient = connections.get("default")
    return connection  # inside in_transaction(): the transaction's connection


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


def lock_key(organization_id: UUID) -> int:
    # Two organizations sharing a key only wait on each other more than they need to.
    return int.from_bytes(organization_id.bytes[:8], "big", signed=True)


async def lock_organization(organization_id: UUID, *, reschedule: bool = True) -> Organization:
    """Exclusive until the transaction ends; raises DoesNotExist for an unknown organization.

    Whoever holds it may change what the billing clock's schedule reads, so the subscription is
    marked for the next tick to work its due time out again (MNY-4), in the same transaction;
    the clock itself stores the exact time instead (`reschedule=False`)."""
    connection = _transaction()
    if is_postgres(connection):
        await connection.execute_query(
            "SELECT pg_advisory_xact_lock($1)", [lock_key(organization_id)]
        )
    organization = await Organization.filter(id=organization_id).select_for_update().get()
    if reschedule:
        await mark_for_reschedule(organization_id)
    return organization


async def mark_for_reschedule(organization_id: UUID) -> None:
    """The next tick works the subscription's due time out again (MNY-4). A holder of the lock
    that writes the subscription row anyway may set `next_due_at = RESCHEDULE` in that write
    instead (taking the lock with `reschedule=False`)."""
    await Subscription.filter(organization_id=organization_id).update(next_due_at=RESCHEDULE)


async def take_shared_usage_lock(connection: BaseDBAsyncClient, organization_id: UUID) -> None:
    """PostgreSQL: the advisory lock usage batches share, until the transaction ends."""
    await connection.execute_query(
        "SELECT pg_advisory_xact_lock_shared($1)", [lock_key(organization_id)]
    )


async def lock_for_usage(organization_id: UUID, *, exclusive: bool) -> UsageLock | None:
    """Shared with other usage batches, or `exclusive`, until the transaction ends; None for an
    unknown organization."""
    if exclusive:
        try:
            organization = await lock_organization(organization_id)
        except DoesNotExist:
            return None
        return UsageLock(organization.clock_offset_seconds, organization.automatic_charges_paused)
    connection = _transaction()
    # Written out rather than built by the ORM: ingestion's hot path (bench/README.md).
    if is_postgres(connection):
        await take_shared_usage_lock(connection, organization_id)
        rows = await connection.execute_query_dict(_USAGE_ROW_POSTGRES, [organization_id])
    else:
        rows = await connection.execute_query_dict(_USAGE_ROW_SQLITE, [str(organization_id)])
    if not rows:
        return None
    row = rows[0]
    return UsageLock(int(row["clock_offset_seconds"]), bool(row["automatic_charges_paused"]))
