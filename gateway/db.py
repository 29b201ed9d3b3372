"""Database connection and migrations (Tortoise ORM, its built-in migration engine)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate

from gateway.settings import DEFAULT_DATABASE_URL
from models import MODEL_MODULES

APP_LABEL = "gateway"


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
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
    await Tortoise.close_connections()


async def apply_migrations(database_url: str) -> None:
    """Apply every pending migration; the connections are closed again afterwards."""
    _ensure_sqlite_directory(database_url)
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()
