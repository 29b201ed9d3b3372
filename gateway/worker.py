"""The billing clock inside `serve`: runs the due work on a schedule (and `tick` runs it once)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from billing.clock import Clock
from billing.errors import BillingError
from payments.port import PaymentProcessor
from resolvers.billing_clock import run_due_work
from resolvers.reconciliation import reconcile_charges

log = logging.getLogger("billing_gateway.worker")


async def tick(clock: Clock, processor: PaymentProcessor) -> list[str]:
    events = await run_due_work(clock.now(), processor)
    try:
        events += await reconcile_charges(processor, datetime.now(UTC))
    except BillingError as error:  # the processor is unreachable: look again on the next tick
        log.warning("billing clock: reconciliation postponed: %s", error.message)
    for event in events:
        log.info("billing clock: %s", event)
    return events


async def run_periodically(clock: Clock, processor: PaymentProcessor, every_seconds: float) -> None:
    while True:
        try:
            await tick(clock, processor)
        except Exception:  # keep the clock running; the failed work is retried on the next tick
            log.exception("billing clock: due work failed")
        await asyncio.sleep(every_seconds)
