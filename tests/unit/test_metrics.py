"""Metric kinds, table-driven (rules USE-1, USE-6, CHG-1): how each metric is counted and what its
events must carry."""

from __future__ import annotations

import pytest

from billing.metrics import STOCK_METRICS, MetricKind, event_problem, metric_kind

K = MetricKind

# (rule, metric, kind)
KINDS = [
    ("USE-6", "mac", K.DISTINCT_CONTACTS),
    ("CHG-1", "profiles", K.STOCK),
    ("CHG-1", "contacts", K.STOCK),
    ("USE-1", "emails", K.EVENTS),
    ("USE-1", "tickets", K.EVENTS),
    ("USE-1", "requests", K.EVENTS),
]


@pytest.mark.parametrize(("rule", "metric", "kind"), KINDS, ids=[f"{r[0]}: {r[1]}" for r in KINDS])
def test_metric_kind(rule: str, metric: str, kind: MetricKind) -> None:
    assert metric_kind(metric) is kind
    assert (metric in STOCK_METRICS) is (kind is K.STOCK)


# (rule, case, metric, quantity, contact id, refused field or None)
# fmt: off
EVENTS = [
    ("USE-6", "a contact reached", "mac", None, "c-1", None),
    ("USE-6", "a contact reached, quantity ignored", "mac", 7, "c-1", None),
    ("USE-6", "no contact id", "mac", 1, None, "contactId"),
    ("USE-6", "an empty contact id", "mac", None, "", "contactId"),
    ("USE-1", "a quantity of emails", "emails", 3, None, None),
    ("USE-1", "zero is a whole number", "emails", 0, None, None),
    ("USE-1", "no quantity", "emails", None, None, "quantity"),
    ("USE-1", "a negative quantity", "tickets", -1, None, "quantity"),
    ("CHG-1", "a stock report", "profiles", 1_200, None, None),
    ("CHG-1", "a stock report without its amount", "contacts", None, "c-1", "quantity"),
]
# fmt: on


@pytest.mark.parametrize(
    ("rule", "case", "metric", "quantity", "contact_id", "field"),
    EVENTS,
    ids=[f"{r[0]}: {r[1]}" for r in EVENTS],
)
def test_event_carries_what_its_metric_counts(
    rule: str,
    case: str,
    metric: str,
    quantity: int | None,
    contact_id: str | None,
    field: str | None,
) -> None:
    problem = event_problem(metric, quantity, contact_id)
    assert (problem[0] if problem else None) == field
