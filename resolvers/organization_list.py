"""Organizations as a platform key sees them (PRV-1): status, plans and amounts due, filtered
and paginated by cursor. A page costs the same few statements however long the list is."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from tortoise.expressions import Subquery

from billing.errors import BillingError
from billing.invoices import InvoiceStatus
from billing.subscription_status import SubscriptionStatus
from models import Invoice, Organization, Subscription, SubscriptionItem

MAX_PAGE = 100


@dataclass(frozen=True)
class OrganizationFilter:
    status: SubscriptionStatus | None = None
    overdue: bool | None = None  # True: only those with an overdue invoice (DUN-2)


@dataclass(frozen=True)
class HeldPlan:
    product: str
    plan: str
    plan_name: str


@dataclass
class OrganizationSummary:
    organization: Organization
    status: SubscriptionStatus | None = None
    trial_ends_at: datetime | None = None
    plans: list[HeldPlan] = field(default_factory=list)
    amount_due: int = 0  # open invoices (INV-1), minor units
    overdue_amount: int = 0  # of which past their due date (DUN-2)


@dataclass(frozen=True)
class OrganizationPage:
    summaries: list[OrganizationSummary]
    end_cursor: str | None
    has_next_page: bool


_CURSOR_PREFIX = "slug:"


def _cursor(slug: str) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{slug}".encode()).decode()


def _after(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not decoded.startswith(_CURSOR_PREFIX):
        raise BillingError(
            "Not a cursor of this list: send pageInfo.endCursor of the previous page.",
            field="after",
        )
    return decoded.removeprefix(_CURSOR_PREFIX)


def _owed(now: datetime) -> Subquery:
    overdue = Invoice.filter(
        status=InvoiceStatus.OPEN, pending_change__isnull=True, due_at__lte=now
    )
    return Subquery(overdue.values("organization_id"))


async def list_organizations(
    wanted: OrganizationFilter, first: int, after: str | None, now: datetime
) -> OrganizationPage:
    if not 1 <= first <= MAX_PAGE:
        raise BillingError(f"first is 1 to {MAX_PAGE}, not {first}.", field="first")
    query = Organization.all().order_by("slug")
    if after is not None:
        query = query.filter(slug__gt=_after(after))
    if wanted.status is not None:
        query = query.filter(subscription__status=wanted.status)
    if wanted.overdue is True:
        query = query.filter(id__in=_owed(now))
    elif wanted.overdue is False:
        query = query.exclude(id__in=_owed(now))
    rows = await query.limit(first + 1)
    page = rows[:first]
    summaries = await summarize(page, now)
    end = _cursor(page[-1].slug) if page else None
    return OrganizationPage(summaries, end, has_next_page=len(rows) > first)


async def summarize(organizations: list[Organization], now: datetime) -> list[OrganizationSummary]:
    """Three statements for any number of organizations."""
    summaries = {o.id: OrganizationSummary(o) for o in organizations}
    if not summaries:
        return []
    ids = list(summaries)
    for subscription in await Subscription.filter(organization_id__in=ids):
        summary = summaries[subscription.organization_id]
        summary.status = subscription.status
        summary.trial_ends_at = subscription.trial_ends_at
    await _add_plans(summaries, ids)
    await _add_amounts(summaries, ids, now)
    return list(summaries.values())


async def _add_plans(summaries: dict[UUID, OrganizationSummary], ids: list[UUID]) -> None:
    items = (
        await SubscriptionItem.filter(subscription__organization_id__in=ids)
        .select_related("subscription", "plan", "product")
        .order_by("product__position", "id")
    )
    for item in items:
        summaries[item.subscription.organization_id].plans.append(
            HeldPlan(item.product.code, item.plan.code, item.plan.name)
        )


async def _add_amounts(
    summaries: dict[UUID, OrganizationSummary], ids: list[UUID], now: datetime
) -> None:
    open_invoices = await Invoice.filter(
        organization_id__in=ids, status=InvoiceStatus.OPEN, pending_change__isnull=True
    ).values_list("organization_id", "amount_due", "due_at")
    for organization_id, amount, due_at in open_invoices:
        summaries[organization_id].amount_due += amount
        if due_at <= now:
            summaries[organization_id].overdue_amount += amount
