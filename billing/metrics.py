"""Metric kinds (USE-1, USE-6, CHG-1): how a metric is counted, and what its events must carry."""

from __future__ import annotations

from enum import StrEnum


class MetricKind(StrEnum):
    # What happened this billing month: each event adds its quantity (emails, tickets, requests).
    EVENTS = "EVENTS"
    # USE-6: contacts reached this billing month, each once however often it is reached.
    DISTINCT_CONTACTS = "DISTINCT_CONTACTS"
    # What is stored now: the latest report wins, and it does not reset with the month, so a
    # change that takes effect later is still blocked by it (CHG-1).
    STOCK = "STOCK"


DISTINCT_CONTACT_METRIC = "mac"
_KINDS = {
    DISTINCT_CONTACT_METRIC: MetricKind.DISTINCT_CONTACTS,
    "profiles": MetricKind.STOCK,
    "contacts": MetricKind.STOCK,
}
STOCK_METRICS = frozenset(m for m, kind in _KINDS.items() if kind is MetricKind.STOCK)


def metric_kind(metric: str) -> MetricKind:
    return _KINDS.get(metric, MetricKind.EVENTS)


def event_problem(
    metric: str, quantity: int | None, contact_id: str | None
) -> tuple[str, str] | None:
    """USE-1: (field, message) where an event does not carry what its metric counts: a distinct
    contact needs the contact's id; every other metric a whole quantity of 0 or more."""
    if metric_kind(metric) is MetricKind.DISTINCT_CONTACTS:
        if not contact_id:
            return "contactId", f"{metric} counts distinct contacts: give the contact's id"
        return None
    if quantity is None or quantity < 0:
        return "quantity", f"expected a whole number of 0 or more, got {quantity}"
    return None
