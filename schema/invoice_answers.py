"""An organization's first page of invoices answered straight from the invoice rows (issue 16).

The ordinary way reads every column of 21 rows, builds a Tortoise model of each, an `Invoice`
with its `Money` objects of each model, an edge of each, and reads them all back for the
selection. For a selection of the invoice's own columns (its id, number, kind, status, amounts,
dates and PDF link, `__typename`, the cursors, the count), the plan made once per document
reads only those columns and makes the answer from each row's values: the values `Invoice.of`
would set, coerced by the same scalars and enums. Anything else asked (lines, taxes, parties,
disputes, an amount's `formatted`), a later page, or a value the ordinary way would have to
refuse (a null where the schema says non-null, an amount `Money.of` would have to check)
answers the ordinary way."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    is_leaf_type,
)

from billing import money
from billing.invoices import InvoiceStatus
from resolvers.invoices import first_page_columns
from schema.answered import Answered, selected_fields
from schema.context import Info
from schema.invoice import encode_cursor
from schema.plain_selections import output_coercer

# How `Invoice.of` sets an invoice field from its row's attribute of the same column.
_COLUMN_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "id": ("id", str),
    "number": ("number", lambda value: value),
    "kind": ("kind", lambda value: value),
    "status": ("status", lambda value: value),
    "issuedAt": ("issued_at", lambda value: value),
    "dueAt": ("due_at", lambda value: value),
    "paidAt": ("paid_at", lambda value: value),
    "periodStart": ("period_start", lambda value: value),
    "periodEnd": ("period_end", lambda value: value),
    "pdfUrl": ("id", lambda value: f"/invoices/{value}.pdf"),
}
# `Invoice.of`'s Money fields: `Money.of(row.<column>, row.currency)`.
_MONEY_FIELDS = {
    "total": "total",
    "discountTotal": "discount_total",
    "creditApplied": "credit_applied",
    "amountDue": "amount_due",
}
_SEQUENCE = 0  # every plan reads the sequence first: the cursors are made of it

Values = list[Any]
Step = tuple[str, Callable[[Values], Any]]


class Unusual(Exception):
    """A value the ordinary way must complete (and perhaps refuse) itself."""


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    columns: tuple[str, ...]
    steps: tuple[tuple[str, str, Any], ...]  # (response name, what, how)

    def answer(self, rows: list[Values], first: int, total: int) -> dict[str, Any]:
        """The connection's answer from `first + 1` rows of `columns` (raises Unusual)."""
        more = len(rows) > first
        rows = rows[:first]
        answer: dict[str, Any] = {}
        for name, what, how in self.steps:
            if what == "value":
                answer[name] = how
            elif what == "total":
                answer[name] = total
            elif what == "page_info":
                answer[name] = _page_info(how, more, rows)
            else:
                answer[name] = [_object(how, row) for row in rows]
        return answer


def _page_info(steps: tuple[tuple[str, str], ...], more: bool, rows: list[Values]) -> Any:
    answer: dict[str, Any] = {}
    for name, what in steps:
        if what == "typename":
            answer[name] = "PageInfo"
        elif what == "more":
            answer[name] = more
        else:
            answer[name] = encode_cursor(rows[-1][_SEQUENCE]) if rows else None
    return answer


def _object(steps: tuple[Step, ...], row: Values) -> dict[str, Any]:
    return {name: step(row) for name, step in steps}


class _Plans:
    """Plans by the identity of the field's nodes (a parsed document is kept and reused by the
    parser cache), each kept with its nodes so that no id is reused while it is known."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, ...], tuple[tuple[FieldNode, ...], ConnectionPlan | None]] = {}

    def plan(
        self,
        nodes: Sequence[FieldNode],
        fragments: Mapping[str, FragmentDefinitionNode],
        schema: GraphQLSchema,
    ) -> ConnectionPlan | None:
        key = tuple(map(id, nodes))
        known = self._known.get(key)
        if known is not None:
            return known[1]
        plan = plan_connection(nodes, fragments, schema)
        if len(self._known) >= 256:
            self._known.clear()
        self._known[key] = (tuple(nodes), plan)
        return plan


PLANS = _Plans()


def plan_connection(
    nodes: Sequence[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    schema: GraphQLSchema,
) -> ConnectionPlan | None:
    """The plan for an `InvoiceConnection` selection, or None when it asks for anything but
    the invoices' columns."""
    selected = selected_fields(nodes, "InvoiceConnection", fragments)
    if selected is None:
        return None
    columns = ["sequence"]
    steps: list[tuple[str, str, Any]] = []
    for name, fields in selected.items():
        field = fields[0].name.value
        if field == "__typename":
            steps.append((name, "value", "InvoiceConnection"))
        elif field == "totalCount":
            steps.append((name, "total", None))
        elif field == "pageInfo":
            page_info = _page_info_steps(fields, fragments)
            if page_info is None:
                return None
            steps.append((name, "page_info", page_info))
        elif field == "edges":
            edge = _edge_steps(fields, fragments, schema, columns)
            if edge is None:
                return None
            steps.append((name, "edges", edge))
        else:
            return None
    return ConnectionPlan(tuple(columns), tuple(steps))


def _page_info_steps(
    nodes: list[FieldNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[tuple[str, str], ...] | None:
    selected = selected_fields(nodes, "PageInfo", fragments)
    if selected is None:
        return None
    whats = {"__typename": "typename", "hasNextPage": "more", "endCursor": "cursor"}
    steps = []
    for name, fields in selected.items():
        what = whats.get(fields[0].name.value)
        if what is None:
            return None
        steps.append((name, what))
    return tuple(steps)


def _edge_steps(
    nodes: list[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    schema: GraphQLSchema,
    columns: list[str],
) -> tuple[Step, ...] | None:
    selected = selected_fields(nodes, "InvoiceEdge", fragments)
    if selected is None:
        return None
    steps: list[Step] = []
    for name, fields in selected.items():
        field = fields[0].name.value
        if field == "__typename":
            steps.append((name, _constant("InvoiceEdge")))
        elif field == "cursor":
            steps.append((name, _cursor))
        elif field == "node":
            invoice = _invoice_steps(fields, fragments, schema, columns)
            if invoice is None:
                return None
            steps.append((name, _nested(invoice)))
        else:
            return None
    return tuple(steps)


def _invoice_steps(
    nodes: list[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    schema: GraphQLSchema,
    columns: list[str],
) -> tuple[Step, ...] | None:
    selected = selected_fields(nodes, "Invoice", fragments)
    invoice_type = schema.type_map.get("Invoice")
    if selected is None or not isinstance(invoice_type, GraphQLObjectType):
        return None
    steps: list[Step] = []
    for name, fields in selected.items():
        field = fields[0].name.value
        if field == "__typename":
            steps.append((name, _constant("Invoice")))
        elif field in _COLUMN_FIELDS:
            column, attribute = _COLUMN_FIELDS[field]
            field_type = invoice_type.fields[field].type
            nullable = not isinstance(field_type, GraphQLNonNull)
            leaf = field_type if nullable else field_type.of_type
            if not is_leaf_type(leaf):
                return None
            coerce = output_coercer(leaf)
            steps.append((name, _leaf(_column(columns, column), attribute, coerce, nullable)))
        elif field in _MONEY_FIELDS:
            amount = _money_steps(fields, fragments)
            if amount is None:
                return None
            at = _column(columns, _MONEY_FIELDS[field])
            steps.append((name, _money(at, _column(columns, "currency"), amount)))
        else:
            return None
    return tuple(steps)


def _money_steps(
    nodes: list[FieldNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[tuple[str, str], ...] | None:
    selected = selected_fields(nodes, "Money", fragments)
    if selected is None:
        return None
    steps = []
    for name, fields in selected.items():
        field = fields[0].name.value
        if field not in ("__typename", "amount", "currency"):
            return None
        steps.append((name, field))
    return tuple(steps)


def _column(columns: list[str], column: str) -> int:
    if column not in columns:
        columns.append(column)
    return columns.index(column)


def _constant(value: str) -> Callable[[Values], Any]:
    return lambda _: value


def _cursor(row: Values) -> str:
    return encode_cursor(row[_SEQUENCE])


def _nested(steps: tuple[Step, ...]) -> Callable[[Values], Any]:
    return lambda row: {name: step(row) for name, step in steps}


def _leaf(
    at: int, attribute: Callable[[Any], Any], coerce: Callable[[Any], Any], nullable: bool
) -> Callable[[Values], Any]:
    def leaf(row: Values) -> Any:
        value = row[at]
        if value is None:
            if nullable:
                return None
            raise Unusual
        try:
            coerced = coerce(attribute(value))
        except Exception:
            raise Unusual from None
        if coerced is None:
            raise Unusual
        return coerced

    return leaf


def _money(
    at: int, currency_at: int, steps: tuple[tuple[str, str], ...]
) -> Callable[[Values], Any]:
    def amount(row: Values) -> Any:
        value, currency = row[at], row[currency_at]
        # Money.of's own check; an amount it would convert goes the ordinary way.
        if type(value) is not int or type(currency) is not str:
            raise Unusual
        if not money.accepted(value, currency) or not -(2**31) <= value < 2**31:
            raise Unusual
        answer: dict[str, Any] = {}
        for name, field in steps:
            if field == "amount":
                answer[name] = value
            elif field == "currency":
                answer[name] = currency
            else:
                answer[name] = "Money"
        return answer

    return amount


async def first_page_answered(
    info: Info, organization_id: UUID, first: int, status: InvoiceStatus | None
) -> Answered | None:
    """The first page of invoices answered from its rows, or None: the ordinary way answers."""
    raw = info._raw_info
    plan = PLANS.plan(raw.field_nodes, raw.fragments, raw.schema)
    if plan is None:
        return None
    rows, total = await first_page_columns(organization_id, first, status, plan.columns)
    try:
        return Answered(plan.answer(rows, first, total))
    except Unusual:
        return None
