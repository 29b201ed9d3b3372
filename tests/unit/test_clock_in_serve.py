"""Where the billing clock runs: inside `serve` only on the embedded default (one process on
SQLite, so `make serve` works alone); everywhere else in `billing-gateway worker` processes."""

from __future__ import annotations

import pytest

from gateway.worker import clock_in_serve

ROWS = [
    ("the embedded default", "sqlite://var/billing-gateway.sqlite3", 1, True),
    ("SQLite, two serve processes", "sqlite://var/billing-gateway.sqlite3", 2, False),
    ("PostgreSQL, one serve process", "postgres://gateway@db:5432/billing", 1, False),
    ("PostgreSQL, four serve processes", "postgres://gateway@db:5432/billing", 4, False),
]


@pytest.mark.parametrize(("case", "url", "processes", "inside"), ROWS, ids=[r[0] for r in ROWS])
def test_the_clock_runs_inside_serve_only_on_the_embedded_default(
    case: str, url: str, processes: int, inside: bool
) -> None:
    assert clock_in_serve(url, processes) is inside
