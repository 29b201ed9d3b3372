"""How a hot read (resolvers/hot_reads.py) runs its statement and builds its rows: the SQL text
per dialect ($1 on PostgreSQL, ? on SQLite), run on the process's own connections outside a
transaction (resolvers/read_connections.py) and on the transaction's inside one, and each row
made the model instance Tortoise itself builds (as `Model._init_from_db` does)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from tortoise import connections, timezone
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import DatetimeField, Field
from tortoise.models import Model

from resolvers.locks import is_postgres
from resolvers.read_connections import READS

M = TypeVar("M", bound=Model)


def listed(columns: tuple[str, ...], table: str) -> str:
    return ", ".join(f'{table}."{c}"' for c in columns)


def builder(model: type[M], columns: tuple[str, ...]) -> Callable[[Sequence[Any]], M]:
    """What `model._init_from_db(**row)` does: the driver's value as it is for the meta's native
    fields, the field type for its default ones (None kept), `to_python_value` for the rest.
    Written out as one function per model, columns and the meta's lists of fields (Tortoise.init
    sets them for the database it opened, so they are checked on every read), with no loop
    over the columns: building the first invoice page's 21 rows was most of its CPU."""
    # The types as text: `Callable[...]` written out is built anew on every call (about 1 µs).
    return cast(
        "Callable[[Sequence[Any]], M]",
        _kept(_BUILDERS, model, columns, lambda: _written_out(model, _column_plan(model, columns))),
    )


def column_conversions(
    model: type[Model], columns: tuple[str, ...]
) -> tuple[Callable[[Any], Any] | None, ...]:
    """What `builder(model, columns)` does to each column's value before setting it, None for
    a value set as it is: for an answer made straight from the rows (schema/answered.py)."""
    return cast(
        "tuple[Callable[[Any], Any] | None, ...]",
        _kept(
            _CONVERSIONS,
            model,
            columns,
            lambda: tuple(
                _null_kept(*conversion[1:]) for conversion in _column_plan(model, columns)
            ),
        ),
    )


def _kept(
    table: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]],
    model: type[Model],
    columns: tuple[str, ...],
    make: Callable[[], Any],
) -> Any:
    """What `make` made for the model's columns, kept while the meta's lists of fields are the
    ones it was made from (Tortoise.init sets them for the database it opened)."""
    meta = model._meta
    # Tortoise keeps its zone (a cached tzinfo) and USE_TZ once read: looked up, not formatted.
    key = (model, columns, timezone.get_use_tz(), timezone.get_default_timezone())
    kept = table.get(key)
    if kept is not None:
        (native, default, complex_), made = kept
        if (
            native is meta.db_native_fields
            and default is meta.db_default_fields
            and complex_ is meta.db_complex_fields
        ):
            return made
    made = make()
    table[key] = ((meta.db_native_fields, meta.db_default_fields, meta.db_complex_fields), made)
    return made


def _null_kept(
    convert: Callable[[Any], Any] | None, convert_none: bool
) -> Callable[[Any], Any] | None:
    if convert is None or convert_none:
        return convert
    return lambda value: None if value is None else convert(value)


def _column_plan(
    model: type[Model], columns: tuple[str, ...]
) -> list[tuple[str, Callable[[Any], Any] | None, bool]]:
    """Per column: its attribute, its conversion or None, whether a null is converted too."""
    meta = model._meta
    conversions: dict[str, tuple[str, Callable[[Any], Any] | None, bool]] = {}
    for column, name, _ in meta.db_native_fields:
        conversions[column] = (name, None, False)
    for column, name, field in meta.db_default_fields:
        conversions[column] = (name, field.field_type, False)
    for column, name, field in meta.db_complex_fields:
        conversions[column] = (name, _conversion(field), True)
    return [conversions[column] for column in columns]


_BUILDERS: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
_CONVERSIONS: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}


def _written_out(
    model: type[M], plan: list[tuple[str, Callable[[Any], Any] | None, bool]]
) -> Callable[[Sequence[Any]], M]:
    """`build(values)` for `plan`, as Python source compiled once: attribute names are the
    model's own identifiers, conversions are passed in by name."""
    names = [f"v{i}" for i in range(len(plan))]
    custom_pk = model._meta.db_pk_column not in model._meta.generated_db_fields
    lines = [
        "def build(values):",
        f"    ({', '.join(names)},) = values",  # a row of another length raises, as zip(strict)
        "    instance = new(model)",
        "    a = instance.__dict__",
        "    a['_partial'] = False",
        "    a['_saved_in_db'] = True",
        f"    a['_custom_generated_pk'] = {custom_pk!r}",
        "    a['_await_when_save'] = {}",
    ]
    namespace: dict[str, Any] = {"new": model.__new__, "model": model}
    for value, (attribute, convert, convert_none) in zip(names, plan, strict=True):
        if not attribute.isidentifier():
            raise ValueError(f"{model.__name__}: {attribute!r} is not an attribute name")
        if convert is None:
            expression = value
        else:
            namespace[f"c_{value}"] = convert
            call = f"c_{value}({value})"
            expression = call if convert_none else f"None if {value} is None else {call}"
        lines.append(f"    a[{attribute!r}] = {expression}")
    lines.append("    return instance")
    exec("\n".join(lines), namespace)  # source made above from the model's meta
    return cast(Callable[[Sequence[Any]], M], namespace["build"])


def _conversion(field: Field[Any]) -> Callable[[Any], Any]:
    """The field's `to_python_value`; for a DatetimeField, asyncpg's aware UTC datetime taken
    straight to what that method makes of it (`astimezone` of Tortoise's zone) without its
    checks, the others (SQLite's text, naive values) through the method."""
    convert = field.to_python_value
    if type(field) is not DatetimeField or not timezone.get_use_tz():
        return convert
    zone = timezone.get_default_timezone()

    def aware(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is UTC:
            return value.astimezone(zone)
        return convert(value)

    if zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC"):
        _UTC_KEPT.add(aware)
    return aware


_UTC_KEPT: weakref.WeakSet[Callable[[Any], Any]] = weakref.WeakSet()


def keeps_utc(conversion: Callable[[Any], Any] | None) -> bool:
    """Whether `conversion` (one of `column_conversions`) makes an aware UTC datetime, as
    asyncpg reads it, the same instant in UTC: Tortoise's zone is UTC, so its `isoformat` is
    the value's own."""
    return conversion is not None and conversion in _UTC_KEPT


class Statement:
    """One statement in both dialects, from PostgreSQL's text ($1 to $9, in order, each once).
    `{ids}` stands for the first parameter, a list of ids: `= ANY($1::uuid[])` on PostgreSQL,
    `IN (?, …)` on SQLite."""

    def __init__(self, postgres: str) -> None:
        self.postgres = postgres.replace("{ids}", "= ANY($1::uuid[])")
        sqlite = postgres
        for number in range(9, 0, -1):
            sqlite = sqlite.replace(f"${number}", "?")
        self._sqlite = sqlite

    async def rows(self, values: list[Any]) -> list[Any]:
        connection: BaseDBAsyncClient = connections.get("default")  # a transaction's, inside one
        if type(connection) is AsyncpgDBClient:  # the pool's: no transaction
            return await READS.fetch(connection, self.postgres, values)
        if is_postgres(connection):
            _, rows = await connection.execute_query(self.postgres, values)
        else:
            values = [str(v) if isinstance(v, UUID) else v for v in values]
            sqlite = self._sqlite
            if "{ids}" in sqlite:
                ids = [str(v) for v in values.pop(0)]
                sqlite = sqlite.replace("{ids}", f"IN ({', '.join('?' * len(ids))})")
                values = ids + values
            _, rows = await connection.execute_query(sqlite, values)
        return list(rows)
