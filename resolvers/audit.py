"""The audit log: who did what to an organization's billing, when, from where, and the amounts
before and after. Entries are only ever added; nothing here changes or deletes one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import TransactionContext
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import AuditEntry

MAX_PAGE = 100


@dataclass(frozen=True)
class Actor:
    kind: str  # USER or API_KEY
    id: UUID
    label: str  # the user's e-mail, or the key's id
    client_address: str | None


@dataclass(frozen=True)
class Amounts:
    subject: str  # what they measure, e.g. AMOUNT_DUE or CREDIT_BALANCE
    currency: str
    before: int | None
    after: int | None


@dataclass(frozen=True)
class Action:
    name: str  # the mutation's name, e.g. changePlan or grantCredit
    summary: str
    amounts: Amounts | None = None
    details: dict[str, Any] = field(default_factory=dict)


def action_transaction() -> TransactionContext:
    """The transaction an action and its entry commit in: inside it, the action's own
    transactions are savepoints, so the action is applied exactly when its entry is written."""
    return in_transaction()


async def record(organization_id: UUID, actor: Actor, action: Action, now: datetime) -> None:
    """Call inside the action's own transaction where there is one: the entry commits with it."""
    amounts = action.amounts
    await AuditEntry.create(
        organization_id=organization_id,
        occurred_at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:254],
        client_address=(actor.client_address or None) and actor.client_address[:64],
        action=action.name,
        summary=action.summary,
        currency=amounts.currency if amounts else None,
        amount_subject=amounts.subject if amounts else None,
        amount_before=amounts.before if amounts else None,
        amount_after=amounts.after if amounts else None,
        details=action.details,
    )


async def audit_page(
    organization_id: UUID, first: int, before_id: int | None
) -> tuple[list[AuditEntry], bool]:
    """Newest first; `before_id` is the last id of the previous page. One query."""
    return await _page(AuditEntry.filter(organization_id=organization_id), first, before_id)


async def platform_audit_page(
    organization_id: UUID | None, first: int, before_id: int | None
) -> tuple[list[AuditEntry], bool]:
    """Every organization's log (or one's), newest first, each entry with its organization joined
    in: one query whatever the page's size."""
    query = AuditEntry.all().select_related("organization")
    if organization_id is not None:
        query = query.filter(organization_id=organization_id)
    return await _page(query, first, before_id)


async def _page(
    query: QuerySet[AuditEntry], first: int, before_id: int | None
) -> tuple[list[AuditEntry], bool]:
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    size = max(1, min(first, MAX_PAGE))
    rows = await query.order_by("-id").limit(size + 1)
    return rows[:size], len(rows) > size
