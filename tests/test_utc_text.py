"""schema/utc_text.py: orjson's text of a UTC datetime is isoformat's, whatever the datetime."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from schema.utc_text import utc_isoformat

EDGES = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(999, 3, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 12, 30, 5, 120, tzinfo=UTC),
    datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC),
    datetime(2026, 3, 1, 12, 30, 5, 100_000, tzinfo=UTC, fold=1),
]


def test_the_edges_of_the_range_are_written_as_isoformat_writes_them() -> None:
    assert [utc_isoformat(value) for value in EDGES] == [value.isoformat() for value in EDGES]


@given(st.datetimes(timezones=st.just(UTC)))
def test_any_utc_datetime_is_written_as_isoformat_writes_it(value: datetime) -> None:
    assert utc_isoformat(value) == value.isoformat()
