"""schema.graphql is generated from the code (`make schema`) and must not go stale."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8").strip() == print_schema(schema).strip(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )
