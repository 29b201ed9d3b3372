"""Counters of the work the use cases do, exposed by GET /metrics (gateway/metrics.py).

Each process counts its own; under `serve --workers N` (and for workers sharing a host) the
counts of all processes are added up through PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

from prometheus_client import Counter

from payments.port import ChargeRequest, ChargeResult, PaymentProcessor

RENEWALS = Counter(
    "billing_gateway_renewals", "Subscriptions renewed by the billing clock (a new period billed)"
)
USAGE_EVENTS = Counter(
    "billing_gateway_usage_events_recorded", "Usage events recorded (duplicates not counted)"
)
EMAILS = Counter(
    "billing_gateway_notice_emails",
    "Notice e-mails handed to the SMTP server, by outcome",
    ["outcome"],
)
CHARGES = Counter(
    "billing_gateway_charges",
    "Charges asked of the payment processor, by outcome (or error: no answer)",
    ["outcome"],
)


async def counted_charge(processor: PaymentProcessor, request: ChargeRequest) -> ChargeResult:
    try:
        result = await processor.charge(request)
    except Exception:
        CHARGES.labels("error").inc()
        raise
    CHARGES.labels(result.status.value.lower()).inc()
    return result
