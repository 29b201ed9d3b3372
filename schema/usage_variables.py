"""The trusted RecordUsage document's variables read straight into EventInput (USE-1), for
ingestion's hot path (gateway/usage_ingest.py): graphql-core's generic variable coercion and
Strawberry's argument conversion cost about half of a batch's CPU (bench/README.md).

Only input that the general path would accept as it is gets read here: every field known, the
three required ones strings, `quantity` an integer within GraphQL's 32 bits, strings within
their MAX_LENGTHS and without NUL, `occurredAt` read by the schema's own DateTime parser. For
anything else `events_of` answers None, and the request takes the general path, which refuses it
with the same error as ever (BAD_USER_INPUT naming the field) before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

from resolvers.usage import EventInput
from schema.input_limits import MAX_LENGTHS

GRAPHQL_MAX_INT = 2**31 - 1
GRAPHQL_MIN_INT = -(2**31)

# Input field -> its limit, for the string fields of UsageEventInput.
_TEXT_LIMITS = {
    name: MAX_LENGTHS[f"UsageEventInput.{name}"]
    for name in ("id", "product", "metric", "contactId", "workspace")
}
FIELDS = frozenset({*_TEXT_LIMITS, "quantity", "occurredAt"})
_ID, _PRODUCT, _METRIC = _TEXT_LIMITS["id"], _TEXT_LIMITS["product"], _TEXT_LIMITS["metric"]
_CONTACT_ID, _WORKSPACE = _TEXT_LIMITS["contactId"], _TEXT_LIMITS["workspace"]

ParseDateTime = Callable[[object], object]


def events_of(variables: object, parse_datetime: ParseDateTime) -> list[EventInput] | None:
    """The events of `{"events": [...]}`, or None when the general path must read them."""
    if type(variables) is not dict or len(variables) != 1:
        return None
    events = variables.get("events")
    if type(events) is not list:
        return None  # GraphQL's coercion makes one object a list of one: left to it
    out: list[EventInput] = []
    append = out.append
    for value in events:
        event = _event(value, parse_datetime)
        if event is None:
            return None
        append(event)
    return out


def _event(value: object, parse_datetime: ParseDateTime) -> EventInput | None:
    if type(value) is not dict or not value.keys() <= FIELDS:
        return None
    get = value.get
    event_id, product, metric = get("id"), get("product"), get("metric")
    if not (_is_text(event_id, _ID) and _is_text(product, _PRODUCT) and _is_text(metric, _METRIC)):
        return None
    contact_id, workspace = get("contactId"), get("workspace")
    if (contact_id is not None and not _is_text(contact_id, _CONTACT_ID)) or (
        workspace is not None and not _is_text(workspace, _WORKSPACE)
    ):
        return None
    quantity = get("quantity")
    if quantity is not None and (
        type(quantity) is not int or not GRAPHQL_MIN_INT <= quantity <= GRAPHQL_MAX_INT
    ):
        return None
    occurred_at: Any = get("occurredAt")
    if occurred_at is not None:
        if type(occurred_at) is not str:
            return None
        try:
            occurred_at = parse_datetime(occurred_at)
        except Exception:  # the general path words the refusal
            return None
    return EventInput(event_id, product, metric, quantity, contact_id, workspace, occurred_at)


def _is_text(value: object, limit: int) -> TypeGuard[str]:
    return type(value) is str and len(value) <= limit and "\x00" not in value
