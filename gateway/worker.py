"""The billing clock: `billing-gateway worker` runs the due work on a schedule (any number of
workers share it, see resolvers/schedule_store.py), as does `serve` on the embedded default, and
`tick` runs it once; each tick then reconciles charges, delivers the notification outbox and
sends the webhooks (EVT-1)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from datetime import UTC, datetime

from tortoise.exceptions import OperationalError

from billing.clock import Clock, SystemClock
from billing.errors import BillingError
from gateway.cli_errors import CommandError
from gateway.db import close_database, open_database
from gateway.document_mail import render_document
from gateway.processor import build_mailer, build_processor
from gateway.settings import Settings
from gateway.worker_metrics import serve_metrics, worker_metrics_app
from models import Subscription
from payments.port import PaymentProcessor
from resolvers.availability import database_unavailable
from resolvers.billing_clock import CLAIM_BATCH, run_claimed_work
from resolvers.document_mail import DocumentMailer, deliver_documents
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
    stop: asyncio.Event | None = None,
    *,
    keep_events: bool = False,
    batch: int = CLAIM_BATCH,
) -> list[str]:
    """One tick. Its due work is logged as it happens and returned only with `keep_events` (the
    `tick` command prints it): a worker's memory stays flat however many renewals a tick makes."""
    events: list[str] = []

    def done(event: str) -> None:
        log.info("billing clock: %s", event)
        if keep_events:
            events.append(event)

    await run_claimed_work(clock.now(), processor, batch=batch, report=done, stop=stop)
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
        if isinstance(mailer, DocumentMailer):
            delivered, postponed = await deliver_documents(
                mailer, render_document, datetime.now(UTC)
            )
            if delivered or postponed:
                events.append(f"documents e-mailed: {delivered}, postponed: {postponed}")
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
    batch: int = CLAIM_BATCH,
) -> None:
    """Until `stop` is set: a tick under way when it is set is finished first."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await tick(clock, processor, mailer, webhooks, stop, batch=batch)
        except Exception as error:  # keep the clock running; the work is retried next tick
            if database_unavailable(error):
                log.warning("billing clock: postponed, the database is unavailable: %r", error)
            else:
                log.exception("billing clock: due work failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)


def clock_in_serve(database_url: str, processes: int) -> bool:
    """Only the embedded default runs the billing clock inside `serve` (one process, SQLite), so
    `make serve` works alone; any other layout runs `billing-gateway worker` processes."""
    return processes == 1 and database_url.startswith("sqlite")


async def run_worker(
    settings: Settings,
    every_seconds: float,
    *,
    batch: int = CLAIM_BATCH,
    metrics_listener: socket.socket | None = None,
) -> None:
    """`billing-gateway worker`: ticks until stopped, claiming `batch` subscriptions at a time;
    with `metrics_listener`, serves its own /metrics and /health on it (gateway/worker_metrics.py)
    until the clock has stopped."""
    await open_database(settings.database_url)
    try:
        try:
            await Subscription.filter(next_due_at__isnull=True).exists()
        except OperationalError as error:
            if database_unavailable(error):
                raise
            raise CommandError(
                f"worker: the database's schema is missing or older than this version ({error}); "
                "run 'billing-gateway migrate' first"
            ) from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for stopping in (signal.SIGTERM, signal.SIGINT):  # the batch under way is finished first
            loop.add_signal_handler(stopping, stop.set)
        clock = SystemClock()
        metrics = None
        if metrics_listener is not None:
            app = worker_metrics_app(settings.ops.metrics_token, clock)
            metrics = asyncio.create_task(serve_metrics(metrics_listener, app, stop))
        try:
            await run_periodically(
                clock,
                build_processor(settings),
                every_seconds,
                build_mailer(settings),
                DeliveryOptions(allow_private=settings.webhooks_allow_private),
                stop=stop,
                batch=batch,
            )
        finally:  # the clock has stopped: then the metrics server
            if metrics is not None:
                stop.set()
                await metrics
    finally:
        await close_database()
