"""The migrations in models/migrations describe the models exactly (no change left undetected)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHECK = """
import asyncio
from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector
from gateway.db import tortoise_config

async def main():
    config = tortoise_config("sqlite://:memory:")
    async with tortoise_cli_context(config) as ctx:
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
        print(len(writers), [op for w in writers for op in getattr(w, "operations", [])])

asyncio.run(main())
"""


def test_models_and_migrations_agree() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ},
        check=True,
    )
    assert result.stdout.strip() == "0 []", f"run `make migrations`: {result.stdout}{result.stderr}"
