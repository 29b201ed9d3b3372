"""advanceTestClock (sandbox only): moves one organization's billing time forward and runs its
due work in between, in order, as Stripe's test clocks do for a customer (MNY-4)."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.clock import offset
from billing.errors import BillingError
from models import Organization
from payments.port import PaymentProcessor
from resolvers.billing_clock import next_due, run_due_work
from resolvers.locks import lock_organization

log = logging.getLogger("billing_gateway.sandbox_clock")
MAX_ADVANCE = timedelta(days=800)


async def advance_test_clock(
    organization_id: UUID, base_now: datetime, processor: PaymentProcessor, days: int, hours: int
) -> tuple[datetime, list[str]]:
    if days < 0 or hours < 0:
        raise BillingError(
            "The test clock only moves forward: days and hours must be 0 or more.", field="days"
        )
    # Compared as numbers first: timedelta itself overflows past 999,999,999 days.
    if days > MAX_ADVANCE.days or hours > MAX_ADVANCE.days * 24:
        raise BillingError("Move the test clock at most 800 days at a time.", field="days")
    delta = timedelta(days=days, hours=hours)
    if delta > MAX_ADVANCE:
        raise BillingError("Move the test clock at most 800 days at a time.", field="days")
    organization = await Organization.get(id=organization_id)
    target = offset(base_now, organization.clock_offset_seconds) + delta
    events: list[str] = []
    while (due := await next_due(organization_id)) is not None and due <= target:
        now = await _move_to(
            organization_id, base_now, max(due, offset(base_now, organization.clock_offset_seconds))
        )
        done = await run_due_work(base_now, processor, organization_id)
        events += [f"{now:%Y-%m-%d %H:%M} {event}" for event in done]
        if not done:
            break
        organization = await Organization.get(id=organization_id)
    now = await _move_to(organization_id, base_now, target)
    events += [
        f"{now:%Y-%m-%d %H:%M} {e}"
        for e in await run_due_work(base_now, processor, organization_id)
    ]
    for event in events:
        log.info("test clock of %s: %s", organization_id, event)
    return now, events


async def _move_to(organization_id: UUID, base_now: datetime, at: datetime) -> datetime:
    """Moves the organization's billing time to `at`, never backwards (two calls may race)."""
    async with in_transaction():
        organization = await lock_organization(organization_id)
        seconds = max(organization.clock_offset_seconds, math.ceil((at - base_now).total_seconds()))
        organization.clock_offset_seconds = seconds
        await organization.save(update_fields=["clock_offset_seconds"])
    return offset(base_now, seconds)
