"""The hot reads written out: the billing page's, the plan-change preview's, ingestion's and
the caller's.

Each statement is SQL text per dialect, and its rows become the model instances Tortoise itself
builds, every column converted as a queryset's read does (UUIDs, time zones, JSON, enums; see
resolvers/hot_statements.py). Building the statements through pypika and the querysets cost
several times the statements themselves (bench/README.md).

Every read names its columns; tests/test_hot_reads.py fails when a model gains a field that a
read here does not select (its instances would lack that attribute)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from billing.access import Role
from billing.invoices import InvoiceStatus
from models import (
    ALL_WORKSPACES,
    BillingInfo,
    Invoice,
    InvoiceLine,
    Issuer,
    Organization,
    PaymentMethod,
    Subscription,
    SubscriptionDiscount,
    SubscriptionItem,
    SubscriptionItemAddOn,
)
from resolvers.hot_columns import (
    ADD_ON_COLUMNS,
    BILLING_INFO_COLUMNS,
    DISCOUNT_COLUMNS,
    INVOICE_COLUMNS,
    ISSUER_COLUMNS,
    ITEM_COLUMNS,
    ORGANIZATION_COLUMNS,
    PAYMENT_METHOD_COLUMNS,
    SUBSCRIPTION_COLUMNS,
)
from resolvers.hot_statements import Statement, builder, listed

_ORGANIZATIONS = Statement(
    f'SELECT {listed(ORGANIZATION_COLUMNS, "o")} FROM "organization" o WHERE o.id {{ids}}'
)


async def organizations(ids: Sequence[UUID]) -> list[Organization]:
    rows = await _ORGANIZATIONS.rows([list(ids)])
    build = builder(Organization, ORGANIZATION_COLUMNS)
    return [build(row) for row in rows]


_SUBSCRIPTIONS = Statement(
    f'SELECT {listed(SUBSCRIPTION_COLUMNS, "s")} FROM "subscription" s'
    " WHERE s.organization_id {ids}"
)


async def subscriptions(organization_ids: Sequence[UUID]) -> list[Subscription]:
    rows = await _SUBSCRIPTIONS.rows([list(organization_ids)])
    build = builder(Subscription, SUBSCRIPTION_COLUMNS)
    return [build(row) for row in rows]


_ITEMS = Statement(
    f'SELECT {listed(ITEM_COLUMNS, "i")} FROM "subscription_item" i'
    " WHERE i.subscription_id {ids} ORDER BY i.id"
)


async def items(subscription_ids: Sequence[UUID]) -> list[SubscriptionItem]:
    """In id order, as the page's DataLoader read them."""
    rows = await _ITEMS.rows([list(subscription_ids)])
    build = builder(SubscriptionItem, ITEM_COLUMNS)
    return [build(row) for row in rows]


_ADD_ONS = Statement(
    f'SELECT {listed(ADD_ON_COLUMNS, "a")} FROM "subscription_item_add_on" a'
    " WHERE a.item_id {ids} ORDER BY a.id"
)


async def add_ons(item_ids: Sequence[UUID]) -> list[SubscriptionItemAddOn]:
    rows = await _ADD_ONS.rows([list(item_ids)])
    build = builder(SubscriptionItemAddOn, ADD_ON_COLUMNS)
    return [build(row) for row in rows]


_S, _I, _A = len(SUBSCRIPTION_COLUMNS), len(ITEM_COLUMNS), len(ADD_ON_COLUMNS)
_SUBSCRIPTION_AND_ITEMS = Statement(
    f"SELECT {listed(SUBSCRIPTION_COLUMNS, 's')}, {listed(ITEM_COLUMNS, 'i')}"
    ' FROM "subscription" s LEFT JOIN "subscription_item" i ON i.subscription_id = s.id'
    " WHERE s.organization_id = $1 ORDER BY i.product_id"
)
_SUBSCRIPTION_ITEMS_AND_ADD_ONS = Statement(
    f"SELECT {listed(SUBSCRIPTION_COLUMNS, 's')}, {listed(ITEM_COLUMNS, 'i')},"
    f" {listed(ADD_ON_COLUMNS, 'a')}"
    ' FROM "subscription" s LEFT JOIN "subscription_item" i ON i.subscription_id = s.id'
    ' LEFT JOIN "subscription_item_add_on" a ON a.item_id = i.id'
    " WHERE s.organization_id = $1 ORDER BY i.product_id, a.id"
)


async def subscription_and_items(
    organization_id: UUID,
) -> tuple[Subscription, list[SubscriptionItem]] | None:
    """The organization's subscription and its items in product order, in one statement; None
    when it has no subscription. Each item's `subscription` is that row."""
    rows = await _SUBSCRIPTION_AND_ITEMS.rows([organization_id])
    if not rows:
        return None
    subscription = builder(Subscription, SUBSCRIPTION_COLUMNS)(tuple(rows[0])[:_S])
    build_item = builder(SubscriptionItem, ITEM_COLUMNS)
    found = []
    for row in rows:
        values = tuple(row)
        if values[_S] is not None:
            found.append(_item_of(subscription, build_item(values[_S : _S + _I])))
    return subscription, found


# Ingestion's batch, under the shared lock (PostgreSQL): the organization's row, its live
# workspaces (PRV-1) and its subscription with the items, one round trip instead of three.
_USAGE_BATCH = (
    "SELECT o.clock_offset_seconds, o.automatic_charges_paused, ARRAY(SELECT w.slug FROM"
    ' "workspace" w WHERE w.archived_at IS NULL AND w.organization_id = o.id),'
    f" {listed(SUBSCRIPTION_COLUMNS, 's')}, {listed(ITEM_COLUMNS, 'i')}"
    ' FROM "organization" o LEFT JOIN "subscription" s ON s.organization_id = o.id'
    ' LEFT JOIN "subscription_item" i ON i.subscription_id = s.id'
    " WHERE o.id = $1 ORDER BY i.product_id"
)


@dataclass(frozen=True)
class UsageBatchRows:
    clock_offset_seconds: int
    automatic_charges_paused: bool
    workspaces: set[str]
    subscription: Subscription | None
    items: list[SubscriptionItem]  # in product order, as `subscription_and_items` reads them


async def usage_batch(
    connection: BaseDBAsyncClient, organization_id: UUID
) -> UsageBatchRows | None:
    """PostgreSQL only; None for an unknown organization."""
    _, rows = await connection.execute_query(_USAGE_BATCH, [organization_id])
    if not rows:
        return None
    first = tuple(rows[0])
    offset, paused, workspaces = first[:3]
    if first[3] is None:  # no subscription: its id is null
        return UsageBatchRows(int(offset), bool(paused), {str(w) for w in workspaces}, None, [])
    subscription = builder(Subscription, SUBSCRIPTION_COLUMNS)(first[3 : 3 + _S])
    build_item = builder(SubscriptionItem, ITEM_COLUMNS)
    found = []
    for row in rows:
        values = tuple(row)
        if values[3 + _S] is not None:
            found.append(_item_of(subscription, build_item(values[3 + _S : 3 + _S + _I])))
    return UsageBatchRows(
        int(offset), bool(paused), {str(w) for w in workspaces}, subscription, found
    )


async def subscription_items_and_add_ons(
    organization_id: UUID,
) -> tuple[Subscription, list[SubscriptionItem], list[SubscriptionItemAddOn]] | None:
    """As `subscription_and_items`, with the items' add-ons, still one statement."""
    rows = await _SUBSCRIPTION_ITEMS_AND_ADD_ONS.rows([organization_id])
    if not rows:
        return None
    values = [tuple(row) for row in rows]
    subscription = builder(Subscription, SUBSCRIPTION_COLUMNS)(values[0][:_S])
    return subscription, *_items_and_add_ons(subscription, values, _S)


def _items_and_add_ons(
    subscription: Subscription, rows: list[tuple[Any, ...]], start: int
) -> tuple[list[SubscriptionItem], list[SubscriptionItemAddOn]]:
    """The items (each once, in the rows' order) and add-ons of rows whose item columns begin at
    `start`, the add-on's after them; a row without an item (no items) is skipped."""
    build_item = builder(SubscriptionItem, ITEM_COLUMNS)
    build_add_on = builder(SubscriptionItemAddOn, ADD_ON_COLUMNS)
    found: dict[Any, SubscriptionItem] = {}
    found_add_ons = []
    for values in rows:
        item_id = values[start]
        if item_id is None:
            continue
        if item_id not in found:
            found[item_id] = _item_of(subscription, build_item(values[start : start + _I]))
        if values[start + _I] is not None:
            found_add_ons.append(build_add_on(values[start + _I :]))
    return list(found.values()), found_add_ons


_O = len(ORGANIZATION_COLUMNS)
# The organization's row on every row, then as `subscription_items_and_add_ons` reads them.
_ORGANIZATION_AND_SUBSCRIPTION = Statement(
    f"SELECT {listed(ORGANIZATION_COLUMNS, 'o')}, {listed(SUBSCRIPTION_COLUMNS, 's')},"
    f" {listed(ITEM_COLUMNS, 'i')}, {listed(ADD_ON_COLUMNS, 'a')}"
    ' FROM "organization" o LEFT JOIN "subscription" s ON s.organization_id = o.id'
    ' LEFT JOIN "subscription_item" i ON i.subscription_id = s.id'
    ' LEFT JOIN "subscription_item_add_on" a ON a.item_id = i.id'
    " WHERE o.id = $1 ORDER BY i.product_id, a.id"
)


@dataclass(frozen=True)
class OrganizationRows:
    """An organization with its subscription (None: it has none), the items in product order
    (each one's `subscription` is that row) and their add-ons."""

    organization: Organization
    subscription: Subscription | None
    items: list[SubscriptionItem]
    add_ons: list[SubscriptionItemAddOn]


async def organization_and_subscription(organization_id: UUID) -> OrganizationRows | None:
    """`organizations([id])` and `subscription_items_and_add_ons(id)` in one statement; None for
    an unknown organization."""
    rows = [tuple(row) for row in await _ORGANIZATION_AND_SUBSCRIPTION.rows([organization_id])]
    if not rows:
        return None
    organization = builder(Organization, ORGANIZATION_COLUMNS)(rows[0][:_O])
    if rows[0][_O] is None:  # no subscription: its id is null
        return OrganizationRows(organization, None, [], [])
    subscription = builder(Subscription, SUBSCRIPTION_COLUMNS)(rows[0][_O : _O + _S])
    items, add_ons = _items_and_add_ons(subscription, rows, _O + _S)
    return OrganizationRows(organization, subscription, items, add_ons)


def _item_of(subscription: Subscription, item: SubscriptionItem) -> SubscriptionItem:
    item.__dict__["_subscription"] = subscription  # as select_related sets it
    return item


async def first_invoices(
    organization_id: UUID, status: InvoiceStatus | None, limit: int
) -> tuple[list[Invoice], int]:
    """The newest `limit` invoices (of that status), and how many there are in all."""
    rows, total = await first_invoice_columns(organization_id, status, limit, INVOICE_COLUMNS)
    count = len(INVOICE_COLUMNS)
    build = builder(Invoice, INVOICE_COLUMNS)
    return [build(tuple(row)[:count]) for row in rows], total


async def first_invoice_columns(
    organization_id: UUID, status: InvoiceStatus | None, limit: int, columns: tuple[str, ...]
) -> tuple[list[Any], int]:
    """The newest `limit` invoices' `columns` (of that status), one statement per set of
    columns: the rows as the driver gives them (each with the count after the columns;
    `column_conversions` makes them what the model would hold), and how many there are in all."""
    statement = _COLUMN_PAGES.get((columns, status is None))
    if statement is None:
        if not set(columns) <= set(INVOICE_COLUMNS):
            raise ValueError(f"not invoice columns: {columns!r}")
        where = "v.organization_id = $1" + (" AND v.status = $2" if status is not None else "")
        limit_parameter = "$2" if status is None else "$3"
        statement = Statement(
            f'SELECT {listed(columns, "v")}, COUNT(*) OVER () FROM "invoice" v WHERE {where}'
            f" ORDER BY v.sequence DESC LIMIT {limit_parameter}"
        )
        if len(_COLUMN_PAGES) >= 256:  # selections choose the columns: a bounded table
            _COLUMN_PAGES.clear()
        _COLUMN_PAGES[(columns, status is None)] = statement
    parameters: list[Any] = [organization_id, limit]
    if status is not None:
        parameters.insert(1, status.value)
    rows = await statement.rows(parameters)
    return rows, int(rows[0][len(columns)]) if rows else 0


_COLUMN_PAGES: dict[tuple[tuple[str, ...], bool], Statement] = {}


_PAYMENT_METHODS = Statement(
    f'SELECT {listed(PAYMENT_METHOD_COLUMNS, "p")} FROM "payment_method" p'
    " WHERE p.organization_id = $1 ORDER BY p.created_at"
)


async def payment_methods(organization_id: UUID) -> list[PaymentMethod]:
    rows = await _PAYMENT_METHODS.rows([organization_id])
    build = builder(PaymentMethod, PAYMENT_METHOD_COLUMNS)
    return [build(row) for row in rows]


_USED = Statement(
    'SELECT c.product_id, c.metric, c.value FROM "usage_counter" c'
    " WHERE c.organization_id = $1 AND c.period_start = $2 AND c.workspace = $3"
)


async def used_in_period(
    organization_id: UUID, period_start: datetime, workspace: str | None
) -> dict[tuple[int, str], int]:
    """(product id, metric) -> used, for all workspaces or one (no model: three columns)."""
    rows = await _USED.rows([organization_id, period_start, workspace or ALL_WORKSPACES])
    return {(int(row[0]), str(row[1])): int(row[2]) for row in rows}


_DEFAULT_CARD = Statement(
    f'SELECT {listed(PAYMENT_METHOD_COLUMNS, "p")} FROM "payment_method" p'
    " WHERE p.organization_id = $1 AND p.is_default = $2 LIMIT 1"
)


async def default_payment_method(organization_id: UUID) -> PaymentMethod | None:
    rows = await _DEFAULT_CARD.rows([organization_id, True])
    return builder(PaymentMethod, PAYMENT_METHOD_COLUMNS)(rows[0]) if rows else None


_TAX_DETAILS = Statement(
    'SELECT b.country, b.region, b.tax_id FROM "billing_info" b WHERE b.organization_id = $1'
)


async def tax_details(organization_id: UUID) -> tuple[str, str, str] | None:
    """The billing information's country, region and VAT number; None without billing info."""
    rows = await _TAX_DETAILS.rows([organization_id])
    return (str(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None


_LATEST_CHARGE_RATE = Statement(
    'SELECT l.tax_rate FROM "invoice_line" l JOIN "invoice" v ON v.id = l.invoice_id'
    " WHERE v.organization_id = $1 AND l.amount > 0 AND l.period_start <= $2"
    " AND l.period_end > $3 AND v.status <> $4 ORDER BY v.sequence DESC, l.position DESC LIMIT 1"
)
_TAX_RATE = InvoiceLine._meta.fields_map["tax_rate"]


async def latest_charge_rate(organization_id: UUID, now: datetime) -> tuple[bool, Any]:
    """Whether a charge (a positive line of an invoice not void) covers `now`, and the latest
    one's `tax_rate` JSON as the ORM reads it."""
    values = [organization_id, now, now, InvoiceStatus.VOID.value]
    rows = await _LATEST_CHARGE_RATE.rows(values)
    return (True, _TAX_RATE.to_python_value(rows[0][0])) if rows else (False, None)


_DISCOUNT = Statement(
    f'SELECT {listed(DISCOUNT_COLUMNS, "d")} FROM "subscription_discount" d'
    " WHERE d.organization_id = $1 LIMIT 1"
)


async def subscription_discount(organization_id: UUID) -> SubscriptionDiscount | None:
    rows = await _DISCOUNT.rows([organization_id])
    return builder(SubscriptionDiscount, DISCOUNT_COLUMNS)(rows[0]) if rows else None


@dataclass(frozen=True)
class Issuing:
    """What a charged change's invoice is issued with, read together: the issuer (the tax
    table, INV-3), the customer's billing information (TAX-1, INV-3), the discount in force
    (DSC-1) and the rate of the latest charge for the period running (a credit reverses it)."""

    issuer: Issuer | None
    billing_info: BillingInfo | None
    discount: SubscriptionDiscount | None
    charge_found: bool  # a charge covers `now` (its rate may still be None)
    charge_rate: Any


@dataclass(frozen=True)
class ChangeFacts:
    """What a plan change and its preview read of the organization besides its subscription:
    the default card, its open invoices (DUN-2, CHG-5) and what an invoice would be
    issued with."""

    card: PaymentMethod | None
    overdue: int  # open invoices due at `now` that no change waits on (DUN-2)
    payment_waiting: bool  # a change waits for its payment's authentication (CHG-5)
    issuing: Issuing


_B, _D, _X = len(BILLING_INFO_COLUMNS), len(DISCOUNT_COLUMNS), len(ISSUER_COLUMNS)
_P = len(PAYMENT_METHOD_COLUMNS)
# One row: the organization's, with at most one of each (billing information and discount are
# one-to-one with it, the issuer is row 1, the charge subquery is LIMIT 1, the default card is
# the first one found as `default_payment_method` finds it, the invoices an aggregate).
_CHANGE_FACTS = Statement(
    f"SELECT {listed(BILLING_INFO_COLUMNS, 'b')}, {listed(DISCOUNT_COLUMNS, 'd')},"
    f" {listed(ISSUER_COLUMNS, 'x')}, r.found, r.tax_rate,"
    f" {listed(PAYMENT_METHOD_COLUMNS, 'p')}, w.overdue, w.waiting"
    ' FROM "organization" o'
    ' LEFT JOIN "billing_info" b ON b.organization_id = o.id'
    ' LEFT JOIN "subscription_discount" d ON d.organization_id = o.id'
    ' LEFT JOIN "issuer" x ON x.id = 1'
    ' LEFT JOIN (SELECT 1 AS found, l.tax_rate FROM "invoice_line" l'
    ' JOIN "invoice" v ON v.id = l.invoice_id'
    " WHERE v.organization_id = $1 AND l.amount > 0 AND l.period_start <= $2"
    " AND l.period_end > $3 AND v.status <> $4 ORDER BY v.sequence DESC, l.position DESC"
    " LIMIT 1) r ON 1 = 1"
    ' LEFT JOIN "payment_method" p ON p.id = (SELECT c.id FROM "payment_method" c'
    " WHERE c.organization_id = o.id AND c.is_default LIMIT 1)"
    " LEFT JOIN (SELECT COUNT(*) - COUNT(v.pending_change) AS overdue,"
    ' COUNT(v.pending_change) AS waiting FROM "invoice" v WHERE v.organization_id = $5'
    " AND v.status = $6 AND (v.pending_change IS NOT NULL OR v.due_at <= $7)) w ON 1 = 1"
    " WHERE o.id = $8"
)


async def change_facts(organization_id: UUID, now: datetime) -> ChangeFacts:
    """As `default_payment_method`, the open invoices overdue at `now` or waiting for their
    payment to apply a change (CHG-5), `tax_details` (the whole row), `subscription_discount`,
    `Issuer.get_or_none(id=1)` and `latest_charge_rate`, in one statement."""
    open_ = InvoiceStatus.OPEN.value
    values = [organization_id, now, now, InvoiceStatus.VOID.value, organization_id, open_, now]
    rows = await _CHANGE_FACTS.rows([*values, organization_id])
    if not rows:
        return ChangeFacts(None, 0, False, Issuing(None, None, None, False, None))
    row = tuple(rows[0])
    info, discount = row[:_B], row[_B : _B + _D]
    at = _B + _D + _X
    issuer, (found, rate) = row[_B + _D : at], row[at : at + 2]
    card, (overdue, waiting) = row[at + 2 : at + 2 + _P], row[at + 2 + _P :]
    issuing = Issuing(
        builder(Issuer, ISSUER_COLUMNS)(issuer) if issuer[0] is not None else None,
        builder(BillingInfo, BILLING_INFO_COLUMNS)(info) if info[0] is not None else None,
        builder(SubscriptionDiscount, DISCOUNT_COLUMNS)(discount)
        if discount[0] is not None
        else None,
        found is not None,
        _TAX_RATE.to_python_value(rate) if found is not None else None,
    )
    return ChangeFacts(
        builder(PaymentMethod, PAYMENT_METHOD_COLUMNS)(card) if card[0] is not None else None,
        int(overdue),
        int(waiting) > 0,
        issuing,
    )


_USER_AND_ROLES = Statement(
    'SELECT u.id, u.email, u.name, m.organization_id, m.role FROM "app_user" u'
    ' LEFT JOIN "membership" m ON m.user_id = u.id WHERE u.id = $1 ORDER BY m.created_at, m.id'
)


@dataclass(frozen=True)
class UserAndRoles:
    user_id: UUID
    email: str
    name: str
    roles: dict[UUID, Role]  # organization id -> role, in the order the user joined them


async def user_and_roles(user_id: UUID) -> UserAndRoles | None:
    """The user's row and their memberships (ordered by `created_at`, `id`) in one statement;
    None for an unknown user."""
    rows = [tuple(row) for row in await _USER_AND_ROLES.rows([user_id])]
    if not rows:
        return None
    found_id, email, name = rows[0][:3]
    roles = {_uuid(org): Role(role) for *_, org, role in rows if org is not None}
    return UserAndRoles(_uuid(found_id), str(email), str(name), roles)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
