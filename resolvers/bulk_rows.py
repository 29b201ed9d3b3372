"""Set-based writes for both dialects: one multi-row INSERT of model instances, one UPDATE of
many rows from a VALUES list. Values go through each field's own conversion (`to_db_value`),
as Tortoise's own inserts do, so the rows read back the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

# Below both dialects' limit on bound parameters per statement (PostgreSQL 32,767; SQLite 32,766).
MAX_PARAMETERS = 30_000


def _connection() -> BaseDBAsyncClient:
    connection: BaseDBAsyncClient = connections.get("default")
    return connection  # inside in_transaction(): the transaction's connection


async def insert_rows(model: type[Model], instances: Sequence[Model]) -> None:
    """Every instance in one INSERT (several only past MAX_PARAMETERS); columns the database
    generates (serial ids) are left to it, in the instances' order."""
    if not instances:
        return
    connection = _connection()
    postgres = connection.capabilities.dialect == "postgres"
    meta = model._meta
    names = [n for n in meta.fields_db_projection if not meta.fields_map[n].generated]
    columns = ", ".join(f'"{meta.fields_db_projection[n]}"' for n in names)
    per_statement = max(1, MAX_PARAMETERS // len(names))
    for first in range(0, len(instances), per_statement):
        values: list[Any] = []
        rows = []
        for instance in instances[first : first + per_statement]:
            marks = []
            for name in names:
                values.append(meta.fields_map[name].to_db_value(getattr(instance, name), instance))
                marks.append(f"${len(values)}" if postgres else "?")
            rows.append(f"({', '.join(marks)})")
        sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES {", ".join(rows)}'
        await connection.execute_query(sql, values)


async def update_rows(model: type[Model], names: Sequence[str], instances: Sequence[Model]) -> None:
    """UPDATE the instances' rows (by primary key), setting the fields `names` to the instances'
    values, in one statement (several only past MAX_PARAMETERS). An `auto_now` field among
    `names` gets the time now, as save() gives it."""
    if not instances:
        return
    connection = _connection()
    postgres = connection.capabilities.dialect == "postgres"
    meta = model._meta
    fields = [meta.fields_map[n] for n in [meta.pk_attr, *names]]
    columns = [meta.fields_db_projection[f.model_field_name] for f in fields]
    key = columns[0]
    assignments = ", ".join(f'"{c}" = v."{c}"' for c in columns[1:])
    aliases = ", ".join(f'column{n} AS "{c}"' for n, c in enumerate(columns, 1))
    per_statement = max(1, MAX_PARAMETERS // len(fields))
    for first in range(0, len(instances), per_statement):
        values: list[Any] = []
        rows: list[str] = []
        for instance in instances[first : first + per_statement]:
            marks = []
            for field in fields:
                values.append(
                    field.to_db_value(getattr(instance, field.model_field_name), instance)
                )
                # PostgreSQL types a VALUES list's columns from their casts.
                cast = f"::{field.get_for_dialect('postgres', 'SQL_TYPE')}" if not rows else ""
                marks.append(f"${len(values)}{cast}" if postgres else "?")
            rows.append(f"({', '.join(marks)})")
        # Both dialects name a VALUES list's columns column1, column2, ...
        sql = (
            f'UPDATE "{meta.db_table}" SET {assignments} FROM (SELECT {aliases} FROM '
            f"(VALUES {', '.join(rows)}) AS listed) AS v "
            f'WHERE "{meta.db_table}"."{key}" = v."{key}"'
        )
        await connection.execute_query(sql, values)
