"""Set-based writes for both dialects: one INSERT of many model instances, one UPDATE of many
rows. On PostgreSQL the values travel as one array per column (`unnest`), so the statement's
text is the same whatever the number of rows (prepared once, planned cheaply); on SQLite as a
multi-row VALUES list. Values go through each field's own conversion (`to_db_value`), as
Tortoise's own inserts do, so the rows read back the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.base import Field
from tortoise.models import Model

# SQLite's limit on bound parameters per statement is 32,766: a VALUES list stays below it.
MAX_PARAMETERS = 30_000


def _connection() -> BaseDBAsyncClient:
    connection: BaseDBAsyncClient = connections.get("default")
    return connection  # inside in_transaction(): the transaction's connection


def _columns(fields: Sequence[Field[Any]], instances: Sequence[Model]) -> list[list[Any]]:
    """The instances' values, column by column, as the database stores them."""
    return [
        [field.to_db_value(getattr(i, field.model_field_name), i) for i in instances]
        for field in fields
    ]


def _array_type(field: Field[Any]) -> str:
    return f"{field.get_for_dialect('postgres', 'SQL_TYPE')}[]"


def _values_list(columns: list[list[Any]]) -> tuple[str, list[Any]]:
    """SQLite: `(?, ?), (?, ?)` and the values row by row."""
    rows = list(zip(*columns, strict=True))
    marks = ", ".join(f"({', '.join('?' for _ in row)})" for row in rows)
    return marks, [value for row in rows for value in row]


def _chunks(instances: Sequence[Model], width: int) -> list[Sequence[Model]]:
    size = max(1, MAX_PARAMETERS // width)
    return [instances[first : first + size] for first in range(0, len(instances), size)]


async def insert_rows(model: type[Model], instances: Sequence[Model]) -> None:
    """Every instance in one INSERT (on SQLite several past MAX_PARAMETERS), in their order;
    columns the database generates (serial ids) are left to it."""
    if not instances:
        return
    connection = _connection()
    meta = model._meta
    fields = [
        meta.fields_map[n] for n in meta.fields_db_projection if not meta.fields_map[n].generated
    ]
    names = ", ".join(f'"{meta.fields_db_projection[f.model_field_name]}"' for f in fields)
    table = f'"{meta.db_table}"'
    if connection.capabilities.dialect == "postgres":
        arrays = ", ".join(f"${n}::{_array_type(f)}" for n, f in enumerate(fields, 1))
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"
        await connection.execute_query(sql, _columns(fields, instances))
        return
    for chunk in _chunks(instances, len(fields)):
        marks, values = _values_list(_columns(fields, chunk))
        await connection.execute_query(f"INSERT INTO {table} ({names}) VALUES {marks}", values)


async def update_rows(model: type[Model], names: Sequence[str], instances: Sequence[Model]) -> None:
    """UPDATE the instances' rows (by primary key), setting the fields `names` to the instances'
    values, in one statement (on SQLite several past MAX_PARAMETERS). An `auto_now` field among
    `names` gets the time now, as save() gives it."""
    if not instances:
        return
    connection = _connection()
    meta = model._meta
    fields = [meta.fields_map[n] for n in [meta.pk_attr, *names]]
    columns = [meta.fields_db_projection[f.model_field_name] for f in fields]
    key, table = columns[0], f'"{meta.db_table}"'
    assignments = ", ".join(f'"{c}" = v."{c}"' for c in columns[1:])
    where = f'WHERE {table}."{key}" = v."{key}"'
    if connection.capabilities.dialect == "postgres":
        arrays = ", ".join(f"${n}::{_array_type(f)}" for n, f in enumerate(fields, 1))
        aliases = ", ".join(f'"{c}"' for c in columns)
        sql = f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({aliases}) {where}"
        await connection.execute_query(sql, _columns(fields, instances))
        return
    # SQLite names a VALUES list's columns column1, column2, ...
    aliases = ", ".join(f'column{n} AS "{c}"' for n, c in enumerate(columns, 1))
    for chunk in _chunks(instances, len(fields)):
        marks, values = _values_list(_columns(fields, chunk))
        sql = (
            f"UPDATE {table} SET {assignments} FROM "
            f"(SELECT {aliases} FROM (VALUES {marks}) AS listed) AS v {where}"
        )
        await connection.execute_query(sql, values)
