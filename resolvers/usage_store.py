"""Set-based writes for usage ingestion (USE-1, USE-2). A batch costs a few statements whatever
its size, and the unique indexes decide what is new (a resent event, a contact already counted
this month) instead of a lookup first. PostgreSQL gets a batch's events and contacts as one JSON
text each and its counters as arrays through `unnest`, and counts the new contacts into the
counters in the statement that records them; SQLite gets lists of rows. Both say
`ON CONFLICT ... RETURNING`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from resolvers.locks import is_postgres

# SQLite takes at most 32,766 parameters in one statement; PostgreSQL gets JSON or arrays instead.
_SQLITE_ROWS_PER_STATEMENT = 2000


class EventRow(NamedTuple):
    """A checked event (a named tuple: cheaper to build than a frozen dataclass, one per event)."""

    event_id: str
    product_id: int
    metric: str
    quantity: int
    contact_id: str | None
    workspace: str
    occurred_at: datetime


@dataclass(frozen=True)
class CounterState:
    value: int
    notified_thresholds: list[int]
    limit_notified: bool
    limit_event_sent: bool = False  # EVT-1's USAGE_LIMIT_REACHED, this month


CounterKey = tuple[int, str, str]  # product id, metric, workspace


async def _sqlite_rows(
    connection: BaseDBAsyncClient, head: str, tail: str, rows: Sequence[Sequence[Any]]
) -> list[dict[str, Any]]:
    """`head VALUES (?, ...), (?, ...) tail` in chunks, for SQLite."""
    out: list[dict[str, Any]] = []
    if not rows:
        return out
    width = len(rows[0])
    placeholder = "(" + ", ".join("?" * width) + ")"
    for first in range(0, len(rows), _SQLITE_ROWS_PER_STATEMENT):
        chunk = rows[first : first + _SQLITE_ROWS_PER_STATEMENT]
        sql = f"{head} VALUES {', '.join([placeholder] * len(chunk))} {tail}"
        out += await connection.execute_query_dict(sql, [v for row in chunk for v in row])
    return out


async def insert_new_events(
    connection: BaseDBAsyncClient,
    organization_id: UUID,
    month_start: datetime,
    received_at: datetime,
    events: Sequence[EventRow],
) -> set[str]:
    """Stores the events not stored before; returns their ids (a resent event is not among them)."""
    if not events:
        return set()
    if is_postgres(connection):
        rows = await connection.execute_query_dict(
            _INSERT_EVENTS_POSTGRES,
            [organization_id, month_start, received_at, _events_json(events, received_at)],
        )
        return set(rows[0]["event_ids"] or ())
    organization = str(organization_id)
    rows = await _sqlite_rows(
        connection,
        """INSERT INTO usage_event (organization_id, event_id, product_id, metric, quantity,
               contact_id, workspace, occurred_at, period_start, received_at)""",
        "ON CONFLICT (organization_id, event_id) DO NOTHING RETURNING event_id",
        [
            (
                organization,
                e.event_id,
                e.product_id,
                e.metric,
                e.quantity,
                e.contact_id,
                e.workspace,
                e.occurred_at,
                month_start,
                received_at,
            )
            for e in events
        ],
    )
    return {str(row["event_id"]) for row in rows}


# The batch goes as one JSON text rather than seven arrays: asyncpg checks every array element
# against collections.abc, which cost more than the statement itself at batches of 100
# (bench/README.md). An event that happened when it arrived sends no time of its own.
_INSERT_EVENTS_POSTGRES = """WITH stored AS (
    INSERT INTO usage_event (organization_id, event_id, product_id, metric, quantity, contact_id,
        workspace, occurred_at, period_start, received_at)
    SELECT $1, e->>0, (e->>1)::int, e->>2, (e->>3)::bigint, e->>4, e->>5,
        COALESCE((e->>6)::timestamptz, $3), $2, $3
    FROM json_array_elements($4::json) AS e
    ON CONFLICT (organization_id, event_id) DO NOTHING
    RETURNING event_id)
SELECT array_agg(event_id) AS event_ids FROM stored"""


def _events_json(events: Sequence[EventRow], received_at: datetime) -> str:
    """Each event as the array of its fields, without the last when it is `received_at`."""
    return json.dumps(
        [e[:6] if e.occurred_at == received_at else e for e in events],
        ensure_ascii=False,
        default=datetime.isoformat,
    )


async def count_new(
    connection: BaseDBAsyncClient,
    organization_id: UUID,
    month_start: datetime,
    contacts: Sequence[tuple[int, str, str]],
    deltas: dict[CounterKey, int],
    contact_metric: str,
) -> dict[CounterKey, CounterState]:
    """Records the (product id, workspace, contact id) seen this month (USE-2), adds each new one
    to `contact_metric`'s counter of its product and workspace and `deltas` to theirs, creating
    the missing counters; returns what the counters touched hold now."""
    totals = dict(deltas)
    for product_id, workspace, _ in contacts:
        totals.setdefault((product_id, contact_metric, workspace), 0)
    if not totals:
        return {}
    keys = sorted(totals)  # one order for every batch: two batches never wait on each other's rows
    if is_postgres(connection):
        rows = await connection.execute_query_dict(
            _COUNT_POSTGRES,
            [
                organization_id,
                month_start,
                json.dumps(contacts, ensure_ascii=False),
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [totals[k] for k in keys],
                contact_metric,
            ],
        )
    else:
        fresh = await _insert_new_contacts_sqlite(
            connection, organization_id, month_start, contacts
        )
        for product_id, workspace in fresh:
            totals[(product_id, contact_metric, workspace)] += 1
        rows = await _add_to_counters_sqlite(
            connection, organization_id, month_start, [(*k, totals[k]) for k in keys]
        )
    return {
        (int(row["product_id"]), str(row["metric"]), str(row["workspace"])): CounterState(
            int(row["value"]),
            _thresholds(row["notified_thresholds"]),
            bool(row["limit_notified"]),
            bool(row["limit_event_sent"]),
        )
        for row in rows
    }


# One statement: the contacts go as one JSON text of [product id, workspace, contact id], those
# not seen this month before are counted into the contact metric's deltas (in the keys' order,
# WITH ORDINALITY), and the counters are upserted.
_COUNT_POSTGRES = """WITH fresh AS (
    INSERT INTO active_contact (organization_id, period_start, product_id, workspace, contact_id)
    SELECT $1, $2, (c->>0)::int, c->>1, c->>2 FROM json_array_elements($3::json) AS c
    ON CONFLICT (organization_id, product_id, period_start, workspace, contact_id) DO NOTHING
    RETURNING product_id, workspace),
counted AS (
    SELECT product_id, workspace, count(*) AS fresh FROM fresh GROUP BY product_id, workspace)
INSERT INTO usage_counter (organization_id, period_start, product_id, metric, workspace, value,
    notified_thresholds, limit_notified, limit_event_sent)
SELECT $1, $2, d.product_id, d.metric, d.workspace, d.delta + COALESCE(counted.fresh, 0),
    '[]'::jsonb, false, false
FROM unnest($4::int[], $5::text[], $6::text[], $7::bigint[]) WITH ORDINALITY
    AS d(product_id, metric, workspace, delta, position)
LEFT JOIN counted ON d.metric = $8::text AND counted.product_id = d.product_id
    AND counted.workspace = d.workspace
ORDER BY d.position
ON CONFLICT (organization_id, product_id, metric, period_start, workspace)
    DO UPDATE SET value = usage_counter.value + EXCLUDED.value
RETURNING product_id, metric, workspace, value, notified_thresholds, limit_notified,
    limit_event_sent"""


async def record_and_count(
    connection: BaseDBAsyncClient,
    organization_id: UUID,
    month_start: datetime,
    received_at: datetime,
    events: Sequence[EventRow],
    contact_metric: str,
) -> tuple[int, dict[CounterKey, CounterState]]:
    """PostgreSQL, a batch without stock metrics: `insert_new_events` and `count_new` in one
    statement, PostgreSQL summing the new events per workspace and for "*" as `_count` in
    resolvers/usage.py does. How many events were new, and what the counters touched hold."""
    rows = await connection.execute_query(
        _RECORD_POSTGRES,
        [
            organization_id,
            month_start,
            received_at,
            _events_json(events, received_at),
            contact_metric,
        ],
    )
    found = rows[1]
    return int(found[0][0]), {
        (int(row[1]), str(row[2]), str(row[3])): CounterState(
            int(row[4]), _thresholds(row[5]), bool(row[6]), bool(row[7])
        )
        for row in found
        if row[1] is not None
    }


# Each new event counts in its workspace and in "*" (twice in "*" when that is its workspace,
# as in `_count`); a contact metric's events add 0 and their contacts not seen this month 1.
# Contacts and counters are written in the order `count_new` sorts them (COLLATE "C": code
# points, as Python compares strings), so batches still wait on each other's rows in one order.
_RECORD_POSTGRES = (
    _INSERT_EVENTS_POSTGRES.split("RETURNING event_id)")[0]
    + """RETURNING product_id, metric, quantity, contact_id, workspace),
scoped AS (
    SELECT s.product_id, s.metric, w.workspace, s.quantity, s.contact_id
    FROM stored s CROSS JOIN LATERAL (VALUES (s.workspace), ('*')) AS w(workspace)),
fresh AS (
    INSERT INTO active_contact (organization_id, period_start, product_id, workspace, contact_id)
    SELECT $1, $2, c.product_id, c.workspace, c.contact_id
    FROM (SELECT DISTINCT product_id, workspace, contact_id FROM scoped WHERE metric = $5::text)
        AS c
    ORDER BY c.product_id, c.workspace COLLATE "C", c.contact_id COLLATE "C"
    ON CONFLICT (organization_id, product_id, period_start, workspace, contact_id) DO NOTHING
    RETURNING product_id, workspace),
counted AS (
    SELECT product_id, workspace, count(*) AS fresh FROM fresh GROUP BY product_id, workspace),
deltas AS (
    SELECT product_id, metric, workspace,
        sum(CASE WHEN metric = $5::text THEN 0 ELSE quantity END) AS delta
    FROM scoped GROUP BY product_id, metric, workspace),
counters AS (
    INSERT INTO usage_counter (organization_id, period_start, product_id, metric, workspace,
        value, notified_thresholds, limit_notified, limit_event_sent)
    SELECT $1, $2, d.product_id, d.metric, d.workspace, d.delta + COALESCE(counted.fresh, 0),
        '[]'::jsonb, false, false
    FROM deltas d LEFT JOIN counted ON d.metric = $5::text
        AND counted.product_id = d.product_id AND counted.workspace = d.workspace
    ORDER BY d.product_id, d.metric COLLATE "C", d.workspace COLLATE "C"
    ON CONFLICT (organization_id, product_id, metric, period_start, workspace)
        DO UPDATE SET value = usage_counter.value + EXCLUDED.value
    RETURNING product_id, metric, workspace, value, notified_thresholds, limit_notified,
        limit_event_sent)
SELECT n.accepted, c.product_id, c.metric, c.workspace, c.value, c.notified_thresholds,
    c.limit_notified, c.limit_event_sent
FROM (SELECT count(*) AS accepted FROM stored) AS n LEFT JOIN counters c ON true"""
)


async def _insert_new_contacts_sqlite(
    connection: BaseDBAsyncClient,
    organization_id: UUID,
    month_start: datetime,
    contacts: Sequence[tuple[int, str, str]],
) -> list[tuple[int, str]]:
    """(product id, workspace) of each contact not seen this month before."""
    organization = str(organization_id)
    rows = await _sqlite_rows(
        connection,
        """INSERT INTO active_contact (organization_id, period_start, product_id, workspace,
               contact_id)""",
        """ON CONFLICT (organization_id, product_id, period_start, workspace, contact_id)
               DO NOTHING RETURNING product_id, workspace""",
        [(organization, month_start, *c) for c in contacts],
    )
    return [(int(row["product_id"]), str(row["workspace"])) for row in rows]


async def _add_to_counters_sqlite(
    connection: BaseDBAsyncClient,
    organization_id: UUID,
    month_start: datetime,
    deltas: Sequence[tuple[int, str, str, int]],
) -> list[dict[str, Any]]:
    organization = str(organization_id)
    return await _sqlite_rows(
        connection,
        """INSERT INTO usage_counter (organization_id, period_start, product_id, metric,
               workspace, value, notified_thresholds, limit_notified, limit_event_sent)""",
        """ON CONFLICT (organization_id, product_id, metric, period_start, workspace)
               DO UPDATE SET value = usage_counter.value + excluded.value
           RETURNING product_id, metric, workspace, value, notified_thresholds,
               limit_notified, limit_event_sent""",
        [(organization, month_start, *d, "[]", False, False) for d in deltas],
    )


def _thresholds(stored: Any) -> list[int]:
    values = json.loads(stored) if isinstance(stored, str | bytes) else stored
    return [int(v) for v in values or []]
