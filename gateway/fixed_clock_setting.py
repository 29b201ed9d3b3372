"""GATEWAY_FIXED_CLOCK (sandbox only): the gateway's clock stands still at one instant.

Screenshots and browser tests need the same dates on every run, so `serve`, its billing clock and
the demo seed read this instant instead of the system's time. Organizations' test clocks still move
their own billing time forward from it (advanceTestClock). Production refuses it: real billing
never runs on a clock that does not move.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from billing.clock import Clock, FixedClock, SystemClock
from gateway.settings_error import SettingsError

VARIABLE = "GATEWAY_FIXED_CLOCK"


def load_fixed_clock(env: Mapping[str, str], *, sandbox: bool) -> datetime | None:
    text = (env.get(VARIABLE) or "").strip()
    if not text:
        return None
    if not sandbox:
        raise SettingsError(f"{VARIABLE}: only allowed with GATEWAY_MODE=sandbox")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise SettingsError(
            f"{VARIABLE}: expected an ISO 8601 instant with its offset, e.g. "
            f"2026-03-01T09:00:00Z, got {text!r}"
        )
    return at.astimezone(UTC)


def gateway_clock(fixed_at: datetime | None) -> Clock:
    """The clock `serve`, `tick` and `seed-demo` run on."""
    return SystemClock() if fixed_at is None else FixedClock(fixed_at)
