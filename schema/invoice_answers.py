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
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    is_leaf_type,
)

from billing import money
from billing.invoices import InvoiceStatus
from resolvers.hot_statements import keeps_utc
from resolvers.invoices import first_page_columns
from schema.answered import Answered, selected_fields
from schema.context import Info
from schema.invoice import encode_cursor
from schema.plain_selections import output_coercer, unchanged_test
from schema.selection_plans import PLANS as SELECTIONS
from schema.utc_text import utc_isoformat

# How `Invoice.of` sets an invoice field from its row's attribute of that column; None: as is.
_COLUMN_FIELDS: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "id": ("id", str),
    "number": ("number", None),
    "kind": ("kind", None),
    "status": ("status", None),
    "issuedAt": ("issued_at", None),
    "dueAt": ("due_at", None),
    "paidAt": ("paid_at", None),
    "periodStart": ("period_start", None),
    "periodEnd": ("period_end", None),
    "pdfUrl": ("id", lambda value: f"/invoices/{value}.pdf"),
}
# `Invoice.of`'s Money fields: `Money.of(row.<column>, row.currency)`.
_MONEY_FIELDS = {
    "total": "total",
    "discountTotal": "discount_total",
    "creditApplied": "credit_applied",
    "amountDue": "amount_due",
}
_INT_RANGE = range(-(2**31), 2**31)  # GraphQL's Int, which Money.amount is

Conversions = Sequence[Callable[[Any], Any] | None]


class Unusual(Exception):
    """A value the ordinary way must complete (and perhaps refuse) itself."""


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    columns: tuple[str, ...]
    _answer: Callable[[Sequence[Any], int, int, Conversions], dict[str, Any]]

    def answer(
        self, rows: Sequence[Any], first: int, total: int, conversions: Conversions
    ) -> dict[str, Any]:
        """The connection's answer from up to `first + 1` rows of `columns` as the driver reads
        them, each column's value made the model's by its conversion (raises Unusual)."""
        try:
            return self._answer(rows, first, total, conversions)
        except Unusual:
            raise
        except Exception:  # a value a conversion or a scalar refuses
            raise Unusual from None


class _Plans:
    """Plans by the identity of the field's nodes (a parsed document is kept and reused by the
    parser cache), each kept with its nodes so that no id is reused while it is known, in a
    table bounded as the selections' own (schema/selection_plans.py)."""

    def __init__(self) -> None:
        self._known: dict[Any, tuple[Any, ConnectionPlan | None]] = {}

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
        SELECTIONS.keep(self._known, key, tuple(nodes), plan)
        return plan


PLANS = _Plans()


async def first_page_answered(
    info: Info, organization_id: UUID, first: int, status: InvoiceStatus | None
) -> Answered | None:
    """The first page of invoices answered from its rows, or None: the ordinary way answers."""
    raw = info._raw_info
    plan = PLANS.plan(raw.field_nodes, raw.fragments, raw.schema)
    if plan is None:
        return None
    rows, total, conversions = await first_page_columns(
        organization_id, first, status, plan.columns
    )
    try:
        return Answered(plan.answer(rows, first, total, conversions))
    except Unusual:
        return None


class _Source:
    """The answer's function, written line by line; values the lines use are named here."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.names: dict[str, Any] = {
            "Unusual": Unusual,
            "encode_cursor": encode_cursor,
            "keeps_utc": keeps_utc,
            "enum_names": enum_names,
            "datetime": datetime,
            "UTC": UTC,
            "utc_isoformat": utc_isoformat,
        }
        self.call_lines: list[str] = []  # once a call, before the rows
        self.row_lines: list[str] = []  # per row: conversions and checks
        self.read: dict[int, str] = {}  # column index -> its local variable, converted

    def name(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def column(self, column: str) -> str:
        """The local variable holding the column's value as the model holds it."""
        at = self._listed(column)
        if at not in self.read:
            variable = f"c{at}"
            self.row_lines += [
                f"        {variable} = row[{at}]",
                f"        if k{at} is not None:",
                f"            {variable} = k{at}({variable})",
            ]
            self.read[at] = variable
        return self.read[at]

    def leaf(
        self,
        column: str,
        attribute: Callable[[Any], Any] | None,
        leaf_type: GraphQLLeafType,
        nullable: bool,
    ) -> str:
        """The local variable holding the field's completed value."""
        coerce = output_coercer(leaf_type)
        if attribute is None and _writes_isoformat(leaf_type, coerce):
            return self._datetime(column, coerce, nullable)
        if attribute is None and isinstance(leaf_type, GraphQLEnumType):
            return self._enum(column, coerce, nullable, leaf_type)
        value = self.column(column)
        variable = f"f{len(self.row_lines)}"
        self.row_lines += self._completed(variable, value, attribute, coerce, nullable, 8)
        return variable

    def _datetime(self, column: str, coerce: Any, nullable: bool) -> str:
        """A UTC datetime's ISO text straight from the driver's value when its conversion keeps
        it in UTC (`keeps_utc`, tested once a call): what converting, then coercing, writes."""
        at = self._listed(column)
        if f"    u{at} = keeps_utc(k{at})" not in self.call_lines:
            self.call_lines.append(f"    u{at} = keeps_utc(k{at})")
        return self._shortcut(
            at,
            coerce,
            nullable,
            lambda raw, variable: [
                f"        if u{at} and type({raw}) is datetime and {raw}.tzinfo is UTC:",
                f"            {variable} = utc_isoformat({raw})",
                "        else:",
            ],
        )

    def _enum(self, column: str, coerce: Any, nullable: bool, enum: GraphQLEnumType) -> str:
        """An enum's name found by the driver's value in a table of what converting, then
        coercing, makes of each of the enum's values (`enum_names`, once a call); any other
        value (a null too) goes the whole way."""
        at = self._listed(column)
        values = self.name("values", tuple(value.value for value in enum.values.values()))
        table = f"t{len(self.row_lines)}"  # a local of the call, numbered as the field's lines
        self.call_lines.append(
            f"    {table} = enum_names(k{at}, {self.name('coerce', coerce)}, {values})"
        )
        return self._shortcut(
            at,
            coerce,
            nullable,
            lambda raw, variable: [
                f"        {variable} = {table}.get({raw})",
                f"        if {variable} is None:",
            ],
        )

    def _shortcut(
        self,
        at: int,
        coerce: Any,
        nullable: bool,
        shortcut: Callable[[str, str], list[str]],
    ) -> str:
        """The field's value by `shortcut`'s lines on the driver's value, which end in the
        branch that converts and completes it the whole way (as `leaf` does)."""
        variable, raw = f"f{len(self.row_lines)}", f"r{len(self.row_lines)}"
        self.row_lines += [
            f"        {raw} = row[{at}]",
            *shortcut(raw, variable),
            *self._converted(raw, at, 12),
            *self._completed(variable, raw, None, coerce, nullable, 12),
        ]
        return variable

    def _listed(self, column: str) -> int:
        if column not in self.columns:
            self.columns.append(column)
        return self.columns.index(column)

    @staticmethod
    def _converted(variable: str, at: int, indent: int) -> list[str]:
        pad = " " * indent
        return [f"{pad}if k{at} is not None:", f"{pad}    {variable} = k{at}({variable})"]

    def _completed(
        self,
        variable: str,
        value: str,
        attribute: Callable[[Any], Any] | None,
        coerce: Any,
        nullable: bool,
        indent: int,
    ) -> list[str]:
        """Lines setting `variable` to the completed value of the converted `value`."""
        if attribute is not None:
            attributed = f"{self.name('attribute', attribute)}({value})"
        else:
            attributed = value
        # A string, an integer or a boolean its scalar answers unchanged is taken as it is.
        test = unchanged_test(coerce, variable)
        call = f"{self.name('coerce', coerce)}({variable})"
        completed = f"{variable} if {test} else {call}" if test else call
        pad = " " * indent
        if nullable:
            lines = [f"{pad}if {value} is None:", f"{pad}    {variable} = None", f"{pad}else:"]
            pad += "    "
        else:
            lines = [f"{pad}if {value} is None:", f"{pad}    raise Unusual"]
        return [
            *lines,
            f"{pad}{variable} = {attributed}",
            f"{pad}{variable} = {completed}",
            f"{pad}if {variable} is None:",
            f"{pad}    raise Unusual",
        ]

    def amount(self, column: str) -> tuple[str, str]:
        value, currency = self.column(column), self.column("currency")
        accepted = self.name("accepted", money.accepted)
        self.row_lines += [
            f"        if not {accepted}({value}, {currency}) or {value} not in INT_RANGE:",
            "            raise Unusual",
        ]
        self.names["INT_RANGE"] = _INT_RANGE
        return value, currency


def plan_connection(
    nodes: Sequence[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    schema: GraphQLSchema,
) -> ConnectionPlan | None:
    """The plan for an `InvoiceConnection` selection, or None when it asks for anything but
    the invoices' columns."""
    selected = selected_fields(nodes, "InvoiceConnection", fragments)
    invoice_type = schema.type_map.get("Invoice")
    if selected is None or not isinstance(invoice_type, GraphQLObjectType):
        return None
    source = _Source(["sequence"])  # first: the cursors are made of it
    entries: list[str] = []
    edges: list[str] = []  # per `edges` asked (under one name or several), its edge's display
    for name, fields in selected.items():
        field = fields[0].name.value
        if field == "__typename":
            entries.append(f"{name!r}: 'InvoiceConnection'")
        elif field == "totalCount":
            entries.append(f"{name!r}: total")
        elif field == "pageInfo":
            page_info = _page_info(fields, fragments)
            if page_info is None:
                return None
            entries.append(f"{name!r}: {page_info}")
        elif field == "edges":
            edge = _edge(fields, fragments, invoice_type, source)
            if edge is None:
                return None
            entries.append(f"{name!r}: edges{len(edges)}")
            edges.append(edge)
        else:
            return None
    count = len(source.columns)
    lines = [
        "def answer(rows, first, total, conversions):",
        "    more = len(rows) > first",
        "    rows = rows[:first]",
        f"    ({''.join(f'k{i}, ' for i in range(count))}) = conversions",
    ]
    lines += source.call_lines
    lines += [f"    edges{number} = []" for number in range(len(edges))]
    if edges:
        lines.append("    for row in rows:")
        lines += source.row_lines
        lines += [f"        edges{number}.append({edge})" for number, edge in enumerate(edges)]
    lines.append(f"    return {{{', '.join(entries)}}}")
    exec(
        "\n".join(lines), source.names
    )  # written above from the schema's names and the selection's
    return ConnectionPlan(tuple(source.columns), source.names["answer"])


# Two instants in UTC, as asyncpg reads them and as Tortoise's zone holds them.
_ISO_PROBES = (
    datetime(2026, 3, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 12, 30, 5, 120, tzinfo=ZoneInfo("UTC")),
)


def _writes_isoformat(leaf_type: GraphQLLeafType, coerce: Any) -> bool:
    """Whether the scalar writes an aware datetime as its `isoformat` (Strawberry's DateTime)."""
    if leaf_type.name != "DateTime":
        return False
    try:
        return all(coerce(probe) == probe.isoformat() for probe in _ISO_PROBES)
    except Exception:
        return False


_ENUM_NAMES: dict[tuple[Any, Any], dict[Any, str]] = {}


def enum_names(
    conversion: Callable[[Any], Any] | None, coerce: Callable[[Any], Any], values: Sequence[Any]
) -> dict[Any, str]:
    """For each of an enum's values as a column holds it, the name converting it (the model's
    field) and then coercing it (the enum's scalar) answers; values either refuses are left out.
    Kept per conversion and coercion, in a bounded table."""
    key = (conversion, coerce)
    names = _ENUM_NAMES.get(key)
    if names is None:
        names = {}
        for value in values:
            try:
                completed = coerce(value if conversion is None else conversion(value))
            except Exception:  # refused: that value goes the whole way
                continue
            if type(completed) is str:
                names[value] = completed
        if len(_ENUM_NAMES) >= 256:
            _ENUM_NAMES.clear()
        _ENUM_NAMES[key] = names
    return names


def _written_object(
    nodes: list[FieldNode],
    type_name: str,
    fragments: Mapping[str, FragmentDefinitionNode],
    entry: Callable[[str, list[FieldNode]], str | None],
) -> str | None:
    """The dict display answering the object's selection: `__typename` and each field's value
    as `entry` writes it; None when it writes none (a field not answered from the row)."""
    selected = selected_fields(nodes, type_name, fragments)
    if selected is None:
        return None
    entries = []
    for name, fields in selected.items():
        field = fields[0].name.value
        value = repr(type_name) if field == "__typename" else entry(field, fields)
        if value is None:
            return None
        entries.append(f"{name!r}: {value}")
    return "{" + ", ".join(entries) + "}"


_PAGE_INFO = {
    "hasNextPage": "more",
    "endCursor": "encode_cursor(k0(rows[-1][0]) if k0 else rows[-1][0]) if rows else None",
}


def _page_info(
    nodes: list[FieldNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> str | None:
    return _written_object(nodes, "PageInfo", fragments, lambda field, _: _PAGE_INFO.get(field))


def _edge(
    nodes: list[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    invoice_type: GraphQLObjectType,
    source: _Source,
) -> str | None:
    def entry(field: str, fields: list[FieldNode]) -> str | None:
        if field == "cursor":
            return f"encode_cursor({source.column('sequence')})"
        if field == "node":
            return _invoice(fields, fragments, invoice_type, source)
        return None

    return _written_object(nodes, "InvoiceEdge", fragments, entry)


def _invoice(
    nodes: list[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    invoice_type: GraphQLObjectType,
    source: _Source,
) -> str | None:
    def entry(field: str, fields: list[FieldNode]) -> str | None:
        if field in _MONEY_FIELDS:
            return _money(fields, fragments, source, _MONEY_FIELDS[field])
        if field not in _COLUMN_FIELDS:
            return None
        column, attribute = _COLUMN_FIELDS[field]
        field_type = invoice_type.fields[field].type
        nullable = not isinstance(field_type, GraphQLNonNull)
        leaf = field_type if nullable else field_type.of_type
        if not is_leaf_type(leaf):
            return None
        return source.leaf(column, attribute, leaf, nullable)

    return _written_object(nodes, "Invoice", fragments, entry)


def _money(
    nodes: list[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    source: _Source,
    column: str,
) -> str | None:
    # Money.of's check, whatever the selection asks of the amount (its __typename alone too).
    amount, currency = source.amount(column)
    values = {"amount": amount, "currency": currency}
    return _written_object(nodes, "Money", fragments, lambda field, _: values.get(field))
