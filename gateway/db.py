"""Database connection and migrations (Tortoise ORM, its built-in migration engine)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from gateway.settings import DEFAULT_DATABASE_URL
from models import MODEL_MODULES
from resolvers.read_connections import READS

APP_LABEL = "gateway"


async def _after_use(_: object) -> None:
    """What asyncpg runs when a pooled connection is given back, after rolling back anything
    left open. Its default also sends `RESET ALL`, `CLOSE ALL`, `UNLISTEN *` and
    `pg_advisory_unlock_all()`: one more round trip per transaction and per query outside one.
    The gateway sets no session state, holds no cursors, listens to nothing and takes only
    transaction-level advisory locks, so there is nothing to undo."""


def _connection(database_url: str) -> str | dict[str, Any]:
    if not database_url.startswith(("postgres://", "postgresql://")):
        return database_url
    config = expand_db_url(database_url)
    config["credentials"]["reset"] = _after_use
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For Tortoise's own command line (`tortoise -c gateway.db.TORTOISE_ORM makemigrations`).
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))


def _ensure_sqlite_directory(database_url: str) -> None:
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        path = Path(database_url.removeprefix("sqlite://").split("?", 1)[0])
        path.parent.mkdir(parents=True, exist_ok=True)


async def open_database(database_url: str) -> None:
    _ensure_sqlite_directory(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_database() -> None:
    await READS.close()
    await Tortoise.close_connections()


async def apply_migrations(database_url: str) -> None:
    """Apply every pending migration; the connections are closed again afterwards."""
    _ensure_sqlite_directory(database_url)
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()
