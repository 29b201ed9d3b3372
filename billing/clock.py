"""The one source of time (rule MNY-4); everything that needs "now" is handed a Clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def offset(now: datetime, seconds: int) -> datetime:
    """An organization's billing time: the gateway's clock plus its test-clock offset, in whole
    seconds (proration counts seconds, MNY-2)."""
    return (now + timedelta(seconds=seconds)).replace(microsecond=0)


class FixedClock:
    """A clock that moves only when told to: for tests and sandbox test clocks."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at
