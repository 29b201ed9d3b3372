"""What one request may cost (README "Limits"): read from the environment with the other settings,
each a bad value stopping the start with a message naming its variable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.settings_error import SettingsError


@dataclass(frozen=True)
class RequestLimits:
    max_body_bytes: int = 1024 * 1024
    max_query_tokens: int = 2_000
    max_aliases: int = 30
    max_depth: int = 15
    max_cost: int = 3_000
    max_cost_anonymous: int = 300
    query_timeout_seconds: float = 10.0


# variable -> (field, smallest, largest)
_WHOLE_NUMBERS = {
    "GATEWAY_MAX_BODY_BYTES": ("max_body_bytes", 1024, 64 * 1024 * 1024),
    "GATEWAY_MAX_QUERY_TOKENS": ("max_query_tokens", 100, 1_000_000),
    "GATEWAY_MAX_ALIASES": ("max_aliases", 1, 100_000),
    "GATEWAY_MAX_DEPTH": ("max_depth", 2, 1_000),
    "GATEWAY_MAX_COST": ("max_cost", 10, 100_000_000),
    "GATEWAY_MAX_COST_ANONYMOUS": ("max_cost_anonymous", 10, 100_000_000),
}
_TIMEOUT = "GATEWAY_QUERY_TIMEOUT_SECONDS"
_MAX_TIMEOUT = 3_600.0


def load_request_limits(env: Mapping[str, str]) -> RequestLimits:
    values: dict[str, int | float] = {}
    for variable, (name, smallest, largest) in _WHOLE_NUMBERS.items():
        text = (env.get(variable) or "").strip().replace("_", "")
        if not text:
            continue
        if not text.isdigit() or not smallest <= int(text) <= largest:
            raise SettingsError(
                f"{variable}: expected a whole number from {smallest:,} to {largest:,}, "
                f"got {env[variable]!r}"
            )
        values[name] = int(text)
    timeout = (env.get(_TIMEOUT) or "").strip()
    if timeout:
        values["query_timeout_seconds"] = _seconds(timeout)
    limits = RequestLimits(**values)  # type: ignore[arg-type]
    if limits.max_cost_anonymous > limits.max_cost:
        raise SettingsError(
            f"GATEWAY_MAX_COST_ANONYMOUS: expected at most GATEWAY_MAX_COST "
            f"({limits.max_cost:,}), got {limits.max_cost_anonymous:,}"
        )
    return limits


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= _MAX_TIMEOUT:  # also refuses nan
        raise SettingsError(
            f"{_TIMEOUT}: expected a number of seconds above 0 and at most {_MAX_TIMEOUT:g}, "
            f"got {text!r}"
        )
    return seconds
