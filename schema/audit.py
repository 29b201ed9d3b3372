"""The audit log as GraphQL (read only: no mutation writes or changes an entry), the caller as an
audit actor, and `Audited`, the field extension that records a billing mutation's outcome in the
action's own transaction."""

from __future__ import annotations

import base64
import binascii
import enum
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension

from billing.clock import offset
from billing.errors import BillingError
from billing.invoices import InvoiceStatus
from models import AuditEntry as AuditEntryRow
from resolvers import audit
from resolvers.refunds import refunded_amount, refunded_amount_locked
from schema.common import Money
from schema.context import Context, Info
from schema.invoice import Invoice, PageInfo
from schema.plan_change import PlanChangeApplied, PlanChangeScheduled, UserError

SETTLED = (InvoiceStatus.PAID, InvoiceStatus.REFUNDED, InvoiceStatus.PARTIALLY_REFUNDED)


@strawberry.type
class AuditActor:
    kind: str = strawberry.field(description="USER or API_KEY.")
    id: strawberry.ID
    label: str = strawberry.field(description="The user's e-mail, or the API key's id.")


@strawberry.type
class AuditDetail:
    key: str
    value: str


@strawberry.type(description="One billing or staff action; entries are never changed.")
class AuditEntry:
    occurred_at: datetime
    actor: AuditActor
    client_address: str | None
    action: str = strawberry.field(description="The mutation, e.g. changePlan or grantCredit.")
    summary: str
    amount_subject: str | None = strawberry.field(
        description="What the amounts measure: AMOUNT_DUE, CREDIT_BALANCE, AMOUNT_REFUNDED."
    )
    amount_before: Money | None
    amount_after: Money | None
    details: list[AuditDetail]

    @classmethod
    def of(cls, row: AuditEntryRow) -> AuditEntry:
        def money(amount: int | None) -> Money | None:
            return Money.of(amount, row.currency) if amount is not None and row.currency else None

        return cls(
            occurred_at=row.occurred_at,
            actor=AuditActor(
                kind=row.actor_kind, id=strawberry.ID(str(row.actor_id)), label=row.actor_label
            ),
            client_address=row.client_address,
            action=row.action,
            summary=row.summary,
            amount_subject=row.amount_subject,
            amount_before=money(row.amount_before),
            amount_after=money(row.amount_after),
            details=[AuditDetail(key=k, value=str(v)) for k, v in sorted(row.details.items())],
        )


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type(description="Newest first.")
class AuditLogConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo


def entry_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"audit:{row_id}".encode()).decode()


def entry_id(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix == "audit" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BillingError(f"Unknown cursor {cursor!r}: use a pageInfo.endCursor.", field="after")


async def audit_log(organization_id: UUID, first: int, after: str | None) -> AuditLogConnection:
    rows, more = await audit.audit_page(organization_id, first, entry_id(after) if after else None)
    edges = [AuditEntryEdge(cursor=entry_cursor(r.id), node=AuditEntry.of(r)) for r in rows]
    end = edges[-1].cursor if edges else None
    return AuditLogConnection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end))


def actor_of(context: Context) -> audit.Actor:
    address = context.client_address
    if context.api_key is not None:
        key_id = context.api_key.key_id
        return audit.Actor("API_KEY", key_id, f"API key {key_id}", address)
    viewer = context.require_viewer()
    return audit.Actor("USER", viewer.user_id, viewer.email, address)


class Audited(FieldExtension):
    """Records a billing mutation that changed something (a UserError changed nothing) in one
    transaction with the action: the resolver's own transactions become savepoints of it, so an
    entry that cannot be written takes the action back with it."""

    def __init__(self, action: str) -> None:
        self.action = action

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        failure: Exception | None = None
        async with audit.action_transaction():
            refunded_before = await self._refunded_before(info.context, kwargs)
            try:
                result = await next_(source, info, **kwargs)
            except Exception as error:
                # Raised once the block commits: what the resolver committed before failing
                # (its own transactions, now savepoints) is kept exactly as before.
                failure = error
            else:
                await self._record(info.context, result, kwargs, refunded_before)
        if failure is not None:
            raise failure
        return result

    async def _refunded_before(self, context: Context, kwargs: dict[str, Any]) -> int:
        if self.action != "refundInvoice":
            return 0
        organization_id = _organization_of(context)
        if organization_id is None:
            return 0  # the permission classes refuse the call
        # Under the organization's lock until the transaction ends, so a concurrent refund of the
        # same invoice cannot land between this read and the refund's own.
        return await refunded_amount_locked(organization_id, str(kwargs.get("invoice_id")))

    async def _record(
        self, context: Context, result: Any, kwargs: dict[str, Any], refunded_before: int
    ) -> None:
        organization_id = _organization_of(context)
        if isinstance(result, UserError) or organization_id is None:
            return
        action = audit.Action(
            self.action,
            _summary(self.action, result),
            await _amounts(self.action, result, refunded_before),
            {k: _plain(v) for k, v in kwargs.items()} | {"outcome": type(result).__name__},
        )
        # The organization's own time (a sandbox test clock may have moved it), as its records.
        organization = await context.loaders.organization.load(organization_id)
        shift = organization.clock_offset_seconds if organization else 0
        now = offset(context.clock.now(), shift)
        await audit.record(organization_id, actor_of(context), action, now)


def _organization_of(context: Context) -> UUID | None:
    if context.api_key is not None:
        return context.api_key.organization_id
    return context.viewer.default_organization_id if context.viewer else None


def _summary(action: str, result: Any) -> str:
    invoice = getattr(result, "invoice", None)
    if isinstance(invoice, Invoice):
        return f"{action}: {type(result).__name__}, invoice {invoice.number} {invoice.status.value}"
    return f"{action}: {type(result).__name__}"


async def _amounts(action: str, result: Any, refunded_before: int) -> audit.Amounts | None:
    preview = getattr(result, "preview", None)
    invoice = getattr(result, "invoice", None)
    if preview is not None:  # a plan change: what it charged now, and what is left due
        due = preview.amount_due_now
        settled = isinstance(result, PlanChangeApplied | PlanChangeScheduled)
        return audit.Amounts("AMOUNT_DUE", due.currency, due.amount, 0 if settled else due.amount)
    if not isinstance(invoice, Invoice):
        return None
    if action == "refundInvoice":
        after = await refunded_amount(str(invoice.invoice_id))
        return audit.Amounts("AMOUNT_REFUNDED", invoice.currency, refunded_before, after)
    due = invoice.amount_due.amount
    return audit.Amounts(
        "AMOUNT_DUE", invoice.currency, due, 0 if invoice.status in SETTLED else due
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)
