"""The billing clock inside `serve`: runs the due work on a schedule (and `tick` runs it once),
then reconciles charges, delivers the notification outbox and sends the webhooks (EVT-1)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from billing.clock import Clock
from billing.errors import BillingError
from payments.port import PaymentProcessor
from resolvers.availability import database_unavailable
from resolvers.billing_clock import run_due_work
from resolvers.idempotency import purge_expired
from resolvers.outbox import Mailer, deliver_pending
from resolvers.reconciliation import reconcile_charges
from resolvers.webhook_delivery import DeliveryOptions, deliver_webhooks

log = logging.getLogger("billing_gateway.worker")
DEFAULT_DELIVERY = DeliveryOptions()


async def tick(
    clock: Clock,
    processor: PaymentProcessor,
    mailer: Mailer | None = None,
    webhooks: DeliveryOptions = DEFAULT_DELIVERY,
) -> list[str]:
    events = await run_due_work(clock.now(), processor)
    for event in events:
        log.info("billing clock: %s", event)
    due_work = len(events)
    try:
        events += await reconcile_charges(processor, datetime.now(UTC))
    except BillingError as error:  # the processor is unreachable: look again on the next tick
        log.warning("billing clock: reconciliation postponed: %s", error.message)
    if expired := await purge_expired(clock.now()):
        events.append(f"idempotency keys expired: {expired}")
    if mailer is not None:
        delivered, postponed = await deliver_pending(mailer, datetime.now(UTC))
        if delivered or postponed:
            events.append(f"notices e-mailed: {delivered}, postponed: {postponed}")
    sent = await deliver_webhooks(clock.now(), webhooks)
    if sent.attempted:
        events.append(
            f"webhooks delivered: {sent.delivered}, postponed: {sent.postponed}, "
            f"failed: {sent.failed}"
        )
    for event in events[due_work:]:  # reconciliation, expired keys, the outboxes
        log.info("billing clock: %s", event)
    return events


async def run_periodically(
    clock: Clock,
    processor: PaymentProcessor,
    every_seconds: float,
    mailer: Mailer | None = None,
    webhooks: DeliveryOptions = DEFAULT_DELIVERY,
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """Until `stop` is set: a tick under way when it is set is finished first."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await tick(clock, processor, mailer, webhooks)
        except Exception as error:  # keep the clock running; the work is retried next tick
            if database_unavailable(error):
                log.warning("billing clock: postponed, the database is unavailable: %r", error)
            else:
                log.exception("billing clock: due work failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
