"""Charges the processor made that the gateway never recorded: a process that died between the
charge and its database write. Found again by their metadata on a later tick and refunded once,
so no customer pays for a change that was not applied (the change's transaction rolled back)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.exceptions import DoesNotExist
from tortoise.transactions import in_transaction

from billing.money import Money
from billing.notifications import NotificationKind
from models import OrphanCharge, Payment
from payments.port import PaymentProcessor
from resolvers.locks import lock_organization
from resolvers.notices import notify

LOOK_BACK = timedelta(days=2)
# A charge younger than this may belong to a request still writing its result.
SETTLING_TIME = timedelta(minutes=5)


async def reconcile_charges(processor: PaymentProcessor, wall_now: datetime) -> list[str]:
    """`wall_now` is real time: processors date their charges by the wall clock."""
    events: list[str] = []
    records = await processor.recent_charges(wall_now - LOOK_BACK)
    # Only the gateway's own charges (they carry its reference and key): an account shared with
    # another system has charges that are none of ours.
    candidates = [
        r
        for r in records
        if r.succeeded
        and r.reference
        and r.idempotency_key
        and r.created <= wall_now - SETTLING_TIME
    ]
    if not candidates:
        return events
    ids = [r.charge_id for r in candidates]
    known = {p.processor_charge_id for p in await Payment.filter(processor_charge_id__in=ids)}
    known |= {o.charge_id for o in await OrphanCharge.filter(charge_id__in=ids)}
    for record in candidates:
        if record.charge_id in known:
            continue
        organization_id = _uuid(record.reference)
        if organization_id is None:
            continue
        async with in_transaction():
            # Under the organization's lock, so a request recording this very charge right now
            # (a retry that found it by its key) is seen before anything is refunded.
            with contextlib.suppress(DoesNotExist):  # a charge of no organization is refunded
                await lock_organization(organization_id)
            if await OrphanCharge.exists(charge_id=record.charge_id) or await Payment.exists(
                processor_charge_id=record.charge_id
            ):
                continue
            refund = await processor.refund(
                record.charge_id, record.amount, f"orphan:{record.charge_id}"
            )
            await OrphanCharge.create(
                charge_id=record.charge_id,
                idempotency_key=record.idempotency_key,
                organization_id=organization_id,
                amount=record.amount,
                currency=record.currency,
                refund_id=refund.id,
                found_at=wall_now,
            )
            amount = Money(record.amount, record.currency).formatted()
            if organization_id:
                await notify(
                    organization_id,
                    NotificationKind.PAYMENT_REFUNDED,
                    f"A charge of {amount} was taken for a change that failed: refunded.",
                    wall_now,
                )
            events.append(f"refunded an unrecorded charge {record.charge_id} of {amount}")
    return events


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
