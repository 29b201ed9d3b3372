"""The migrations in models/migrations describe the models exactly (no change left undetected)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

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


def _migration_0018() -> ModuleType:
    return importlib.import_module("models.migrations.0018_item_scheduled_changes")


def test_a_scheduled_change_moves_to_its_lines_rule_chg_6() -> None:
    """Migration 0018 moves a subscription-level scheduled change onto the lines it is for, so a
    downgrade or an interval switch scheduled before the upgrade still happens."""
    split = _migration_0018().split_subscription_change
    terms = {"product_id": 2, "plan_id": 5}
    assert split({"kind": "downgrade", "product_id": 2, "terms": terms}) == [
        (2, {"kind": "downgrade", "terms": terms})
    ]
    both = [{"product_id": 1, "plan_id": 3}, {"product_id": 5, "plan_id": 14}]
    assert split({"kind": "interval", "interval": "ANNUAL", "terms": both}) == [
        (1, {"kind": "interval", "terms": both[0], "interval": "ANNUAL"}),
        (5, {"kind": "interval", "terms": both[1], "interval": "ANNUAL"}),
    ]
    assert split({}) == []
