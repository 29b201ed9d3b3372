"""Usage batches for one organization at once (USE-1, USE-2, PREF-1). Batches of counted metrics
share the organization's lock, so on PostgreSQL they really run side by side; on SQLite they run
one after another. Either way every event counts once and a limit is acted on once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from models import Invoice, Notification, UsageCounter, UsageEvent, Workspace
from resolvers.locks import lock_for_usage, lock_organization
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
RECORD = """mutation ($events: [UsageEventInput!]!) { recordUsage(events: $events) {
  __typename ... on UsageRecorded { accepted duplicates } ... on UserError { message } } }"""


async def _record_at_once(
    gql: GraphQLClient, owner: str, batches: list[list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    bodies = await asyncio.gather(
        *(gql(RECORD, {"events": batch}, as_user=owner) for batch in batches)
    )
    return [body["data"]["recordUsage"] for body in bodies]


async def test_batches_at_once_count_every_event_and_contact_once(gql: GraphQLClient) -> None:
    # USE-1, USE-2: eight batches at once. Each resends half of the previous batch's event ids,
    # in the opposite order, and contacts recur across batches and workspaces.
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}], period=PERIOD
    )
    for slug in ("support", "sales"):
        await Workspace.create(organization=organization, slug=slug, name=slug.title())

    def event(number: int) -> dict[str, Any]:
        return {
            "id": f"e{number}",
            "product": "messaging",
            "metric": "mac",
            "contactId": f"c{number % 70}",
            "workspace": ("support", "sales")[number % 3 % 2],
        }

    batches = [
        [event(n) for n in range(b * 40, b * 40 + 40)]
        + [event(n) for n in reversed(range(b * 40 - 20, b * 40)) if n >= 0]
        for b in range(8)
    ]
    results = await _record_at_once(gql, owner, batches)

    assert {r["__typename"] for r in results} == {"UsageRecorded"}, results
    assert sum(r["accepted"] for r in results) == 320
    assert sum(r["duplicates"] for r in results) == 140
    assert await UsageEvent.filter(organization_id=organization.id).count() == 320
    expected = {
        "*": len({n % 70 for n in range(320)}),
        "support": len({n % 70 for n in range(320) if n % 3 % 2 == 0}),
        "sales": len({n % 70 for n in range(320) if n % 3 % 2 == 1}),
    }
    counters = await UsageCounter.filter(organization_id=organization.id, metric="mac")
    assert {c.workspace: c.value for c in counters} == expected


async def test_batches_past_the_limit_at_once_upgrade_once(gql: GraphQLClient) -> None:
    # PREF-1 AUTO_UPGRADE: six batches cross email-1000's 10,000 emails together; the plan moves
    # one tier up, charged once, and every email is counted.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "AUTO_UPGRADE"}],
        period=PERIOD,
    )
    first = await _record_at_once(
        gql,
        owner,
        [[{"id": "start", "product": "email", "metric": "emails", "quantity": 9_990}]],
    )
    assert first[0]["__typename"] == "UsageRecorded"
    results = await _record_at_once(
        gql,
        owner,
        [
            [{"id": f"b{b}", "product": "email", "metric": "emails", "quantity": 10}]
            for b in range(6)
        ],
    )

    assert {r["__typename"] for r in results} == {"UsageRecorded"}, results
    counter = await UsageCounter.get(
        organization_id=organization.id, metric="emails", workspace="*"
    )
    assert counter.value == 10_050
    upgrades = await Invoice.filter(organization_id=organization.id, kind="PLAN_CHANGE")
    assert [(i.amount_due, i.status) for i in upgrades] == [(1016, "PAID")]
    assert (
        await Notification.filter(organization_id=organization.id, kind="AUTO_UPGRADE").count() == 1
    )


async def test_one_batch_sent_twice_at_once_in_opposite_orders_counts_once(
    gql: GraphQLClient,
) -> None:
    # USE-1: a client retrying while its first attempt is still running, its events reordered.
    # Both attempts claim the same event ids; they must not wait on each other (a deadlock), and
    # the events count once.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-2500"}], period=PERIOD
    )
    batch = [
        {"id": f"r{n:03}", "product": "email", "metric": "emails", "quantity": 1}
        for n in range(200)
    ]
    results = await _record_at_once(gql, owner, [batch, batch[::-1]])

    assert sorted((r["accepted"], r["duplicates"]) for r in results) == [(0, 200), (200, 0)]
    counter = await UsageCounter.get(
        organization_id=organization.id, metric="emails", workspace="*"
    )
    assert counter.value == 200


@pytest.mark.usefixtures("database")
async def test_a_waiting_billing_clock_is_not_overtaken_by_later_batches() -> None:
    # USE-1 and the billing clock: batches share the organization's lock, but once the clock (or
    # a plan change) waits for it exclusively, a batch arriving later waits behind it. Otherwise a
    # steady stream of batches could keep the clock from ever closing the month.
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    order: list[str] = []
    holding, release = asyncio.Event(), asyncio.Event()

    async def batch(name: str) -> None:
        async with in_transaction():
            await lock_for_usage(organization.id, exclusive=False)
            order.append(name)
            if name == "first":
                holding.set()
                await release.wait()

    async def clock() -> None:
        async with in_transaction():
            await lock_organization(organization.id)
            order.append("clock")

    first = asyncio.create_task(batch("first"))
    await holding.wait()
    waiting_clock = asyncio.create_task(clock())
    await asyncio.sleep(0.2)  # time for the clock to queue behind the first batch
    later = asyncio.create_task(batch("later"))
    await asyncio.sleep(0.2)
    assert order == ["first"]
    release.set()
    await asyncio.gather(first, waiting_clock, later)
    assert order == ["first", "clock", "later"]
