"""Billing workers (MNY-4, DUN-1): the due work is claimed from each subscription's stored due
time, in batches, by any number of workers at once; each renewal is done once, nothing is
visited before it is due, and changes made outside the clock are scheduled again."""

from __future__ import annotations

import asyncio
import importlib
from datetime import timedelta
from types import SimpleNamespace
from uuid import UUID

import pytest
from tortoise.transactions import in_transaction

from billing.schedule import RESCHEDULE, stored_due_at
from billing.subscription_status import SubscriptionStatus
from models import Invoice, Notification, Organization, Payment, Subscription, SubscriptionItem
from payments.port import ChargeRequest, ChargeResult
from payments.sandbox import SandboxProcessor
from resolvers.billing_clock import run_claimed_work
from resolvers.schedule_store import LEASE, claim_due, schedule_facts
from tests.conftest import SEEDED_AT, GraphQLClient, QueryCounter
from tests.factories import organization_with

pytestmark = pytest.mark.usefixtures("database")

# Far from the other tests' organizations' due times, so claims here find only this file's.
ENDED = (SEEDED_AT - timedelta(days=31), SEEDED_AT - timedelta(hours=1))
S = SubscriptionStatus


class CountingProcessor(SandboxProcessor):
    """The sandbox, counting every charge asked of it (a repeated key included)."""

    def __init__(self) -> None:
        super().__init__()
        self.charged: list[str] = []

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        self.charged.append(request.reference)
        return await super().charge(request)


async def _due_organizations(count: int, card: str = "pm_card_visa") -> list[UUID]:
    ids = []
    for _ in range(count):
        organization, _ = await organization_with(
            [{"product": "store", "plan": "business"}], period=ENDED, card=card
        )
        ids.append(organization.id)
    return ids


async def _stored_matches_schedule(organization_id: UUID) -> None:
    organization = await Organization.get(id=organization_id)
    row = await Subscription.get(organization_id=organization_id)
    items = await SubscriptionItem.filter(subscription_id=row.id)
    expected = stored_due_at(
        await schedule_facts(organization, row, items), organization.clock_offset_seconds
    )
    assert row.next_due_at == expected


async def test_two_workers_renew_each_subscription_exactly_once() -> None:
    # DUN-1 with two claimers at once, each on connections of its own (PostgreSQL: SKIP LOCKED).
    ids = await _due_organizations(12)
    processor = CountingProcessor()
    first, second = await asyncio.gather(
        run_claimed_work(SEEDED_AT, processor, batch=2, organization_ids=ids),
        run_claimed_work(SEEDED_AT, processor, batch=2, organization_ids=ids),
    )
    renewed = [e for e in first + second if "renewed to" in e]
    assert len(renewed) == 12, (first, second)
    assert first and second, "both workers claimed a share"
    assert len(processor.charged) == 12
    assert await Invoice.filter(organization_id__in=ids).count() == 12
    assert await Payment.filter(invoice__organization_id__in=ids).count() == 12
    for organization_id in ids:
        assert await Invoice.filter(organization_id=organization_id).count() == 1
        await _stored_matches_schedule(organization_id)
    # A third worker later finds nothing to do.
    assert await run_claimed_work(SEEDED_AT, processor, organization_ids=ids) == []
    assert len(processor.charged) == 12


async def test_nothing_is_claimed_before_it_is_due(sql_queries: QueryCounter) -> None:
    # NOT-1: inside the renewal-notice window, once the notice is sent, nothing is due until the
    # period ends: a tick neither visits nor locks these subscriptions.
    organization, _ = await organization_with(
        [{"product": "store", "plan": "business"}],
        period=(SEEDED_AT - timedelta(days=27), SEEDED_AT + timedelta(days=3)),
    )
    ids = [organization.id]
    events = await run_claimed_work(SEEDED_AT, CountingProcessor(), organization_ids=ids)
    assert len(events) == 1 and "renewal" in events[0].lower(), events
    row = await Subscription.get(organization_id=organization.id)
    assert row.next_due_at == SEEDED_AT + timedelta(days=3)  # the period end
    before = sql_queries.count
    assert (
        await run_claimed_work(
            SEEDED_AT + timedelta(days=2), SandboxProcessor(), organization_ids=ids
        )
        == []
    )
    assert sql_queries.count - before == 1, sql_queries.statements[before:]  # the claim
    assert await claim_due(SEEDED_AT + timedelta(days=2), 10, ids) == []


async def test_a_claimed_subscription_is_not_claimed_again_within_the_lease() -> None:
    [organization_id] = await _due_organizations(1)
    assert await claim_due(SEEDED_AT, 10, [organization_id]) == [organization_id]
    assert await claim_due(SEEDED_AT, 10, [organization_id]) == []
    row = await Subscription.get(organization_id=organization_id)
    assert row.next_due_at == SEEDED_AT + LEASE
    # A worker that died: its claim is taken again once the lease is over.
    later = SEEDED_AT + LEASE
    assert await claim_due(later, 10, [organization_id]) == [organization_id]


async def test_a_change_outside_the_clock_is_scheduled_again(gql: GraphQLClient) -> None:
    # CAN-1: cancelling changes what falls due; the subscription is looked at on the next tick,
    # which stores the schedule's time again.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=20)),
    )
    ids = [organization.id]
    await run_claimed_work(SEEDED_AT, SandboxProcessor(), organization_ids=ids)
    await _stored_matches_schedule(organization.id)
    body = await gql(
        'mutation { cancelSubscription(reason: "Closing") { __typename } }',
        as_user=owner,
    )
    assert "errors" not in body, body
    row = await Subscription.get(organization_id=organization.id)
    assert row.status is S.CANCELLING
    assert row.next_due_at == RESCHEDULE
    await run_claimed_work(SEEDED_AT, SandboxProcessor(), organization_ids=ids)
    await _stored_matches_schedule(organization.id)
    row = await Subscription.get(organization_id=organization.id)
    assert row.next_due_at == SEEDED_AT + timedelta(days=20)  # CANCELLING: no renewal notice


async def test_a_declined_renewal_waits_for_its_first_retry() -> None:
    # DUN-2, DUN-6: PENDING_PAYMENT, owners told; the next visit is the first retry, not sooner.
    [organization_id] = await _due_organizations(1, card="pm_card_chargeDeclined")
    events = await run_claimed_work(
        SEEDED_AT, SandboxProcessor(), organization_ids=[organization_id]
    )
    assert any("unpaid (card_declined)" in e for e in events), events
    row = await Subscription.get(organization_id=organization_id)
    assert row.status is S.PENDING_PAYMENT
    assert row.next_due_at is not None and row.next_due_at > SEEDED_AT
    await _stored_matches_schedule(organization_id)
    assert await Notification.filter(organization_id=organization_id).exists()


async def test_a_long_run_reports_its_events_without_keeping_them() -> None:
    ids = await _due_organizations(3)
    reported: list[str] = []
    kept = await run_claimed_work(
        SEEDED_AT, SandboxProcessor(), organization_ids=ids, report=reported.append
    )
    assert kept == []
    assert len([e for e in reported if "renewed to" in e]) == 3


async def test_statements_per_renewal(sql_queries: QueryCounter) -> None:
    # Measured, not timed (bench/billing_run.py times it): the SQL a claimed renewal costs.
    ids = await _due_organizations(10)
    before = sql_queries.count
    events = await run_claimed_work(SEEDED_AT, SandboxProcessor(), batch=10, organization_ids=ids)
    assert len([e for e in events if "renewed to" in e]) == 10
    per_renewal = (sql_queries.count - before) / 10
    assert per_renewal <= STATEMENTS_PER_RENEWAL, per_renewal


STATEMENTS_PER_RENEWAL = 40


class _RolledBack(Exception):
    pass


async def test_migration_0025_back_fills_a_time_no_later_than_the_schedule() -> None:
    # MNY-4: rows that existed before the column get a due time the clock cannot miss (run here
    # on this database's dialect, then rolled back: the other rows are left as they were).
    trialing, _ = await organization_with(
        [{"product": "store", "plan": "business"}],
        period=(SEEDED_AT, SEEDED_AT + timedelta(days=14)),
        status=S.TRIALING,
        trial_ends_at=SEEDED_AT + timedelta(days=14),
    )
    [active_id] = await _due_organizations(1)
    migration = importlib.import_module("models.migrations.0025_next_due_at")
    filled: dict[UUID, object] = {}
    try:
        async with in_transaction() as connection:
            await Subscription.all().using_db(connection).update(next_due_at=None)
            await migration.backfill_next_due(None, SimpleNamespace(client=connection))
            for organization_id in (trialing.id, active_id):
                row = await Subscription.get(organization_id=organization_id, using_db=connection)
                filled[organization_id] = row.next_due_at
            raise _RolledBack
    except _RolledBack:
        pass
    assert filled[trialing.id] == SEEDED_AT + timedelta(days=11)  # EVT-1: 3 days before the end
    assert filled[active_id] == ENDED[1] - timedelta(days=7)  # no later than the period end


async def test_a_stopping_worker_finishes_its_batch_and_claims_no_other() -> None:
    # Shutdown (SIGTERM): the batch under way is renewed whole; the rest stays due for others.
    ids = await _due_organizations(4)
    stop = asyncio.Event()
    reported: list[str] = []

    def report(event: str) -> None:
        reported.append(event)
        stop.set()  # asked to stop during the first batch

    await run_claimed_work(
        SEEDED_AT, SandboxProcessor(), batch=2, organization_ids=ids, report=report, stop=stop
    )
    assert len([e for e in reported if "renewed to" in e]) == 2
    assert len(await claim_due(SEEDED_AT, 10, ids)) == 2  # the other two, still due
