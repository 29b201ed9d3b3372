"""The executor's floor for the billing page (issue 16): graphql-core alone walking the page's
answer in memory, with no database, no HTTP, no Strawberry and no resolver of the gateway's.

    .venv/bin/python bench/executor_floor.py ANSWER_JSON [--pages 3000]

ANSWER_JSON is the gateway's answer to bench/request_path.py's page (`{"data": ...}`; the
in-process bench leaves it as answer-this.json in its working directory). A schema of the
answer's shape is built (every object a type, every leaf a String, Int or Boolean, default
resolvers reading dicts) and the page's own document is executed against the answer as root
value, then encoded with orjson, as the ceiling encodes. It prints the CPU per page of that, of
orjson's encoding alone, and of graphql-core's parsing and validation (which the gateway caches
per document). The gateway cannot cost less than this while graphql-core executes its pages
field by field; compare it with the ceiling's CPU per page from bench/request_path.py, measured
on the same machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from graphql import build_schema, execute_sync, parse, validate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from request_path import INVOICES, PAGE_QUERY

ARGUMENTS = {("Query", "organization"): "", ("Organization", "invoices"): "(first: Int)"}


def _schema_of(data: dict[str, Any]) -> str:
    types: dict[str, dict[str, str]] = {}

    def type_of(name: str, value: Any) -> str:
        if isinstance(value, dict):
            types[name] = {key: type_of(key[0].upper() + key[1:], v) for key, v in value.items()}
            return name
        if isinstance(value, list):
            return f"[{type_of(name, value[0]) if value else 'String'}]"
        if isinstance(value, bool):
            return "Boolean"
        return "Int" if isinstance(value, int) else "String"

    type_of("Query", data)
    return "\n".join(
        f"type {name} {{ "
        + " ".join(f"{key}{ARGUMENTS.get((name, key), '')}: {kind}" for key, kind in fields.items())
        + " }"
        for name, fields in types.items()
    )


def _cpu_per_call(call: Callable[[], object], times: int) -> float:
    for _ in range(times // 10):
        call()
    started = time.process_time()
    for _ in range(times):
        call()
    return (time.process_time() - started) / times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("answer", type=Path)
    parser.add_argument("--pages", type=int, default=3000)
    args = parser.parse_args()
    data = orjson.loads(args.answer.read_bytes())["data"]
    schema = build_schema(_schema_of(data))
    document = parse(PAGE_QUERY)
    assert not validate(schema, document)

    def page() -> bytes:
        result = execute_sync(
            schema, document, root_value=data, variable_values={"first": INVOICES}
        )
        assert not result.errors, result.errors
        return orjson.dumps({"data": result.data})

    assert orjson.loads(page())["data"] == data
    figures = {
        "graphql-core execute + orjson": _cpu_per_call(page, args.pages),
        "orjson encoding alone": _cpu_per_call(lambda: orjson.dumps({"data": data}), args.pages),
        "parse + validate (cached by the gateway)": _cpu_per_call(
            lambda: validate(schema, parse(PAGE_QUERY)), args.pages // 10
        ),
    }
    for name, seconds in figures.items():
        print(f"{name:<42} {seconds * 1000:7.3f} ms of CPU per page")


if __name__ == "__main__":
    main()
