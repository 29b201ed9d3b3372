"""How stale a process may serve what it keeps between requests (README "Configuration",
"Security"): the catalog's revision and the callers it has authenticated. Read from the
environment with the other settings; a bad value stops the start naming its variable."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from gateway.settings_error import SettingsError

_LONGEST = 300.0  # a revocation must not wait longer than this to be seen by every process


@dataclass(frozen=True)
class CacheSettings:
    # GATEWAY_CATALOG_CHECK_SECONDS: the catalog revision is read at most once per interval.
    catalog_check_seconds: float = 1.0
    # GATEWAY_CALLER_CACHE_SECONDS: an API key or a user's roles are kept this long.
    caller_cache_seconds: float = 5.0

    @property
    def catalog_check(self) -> timedelta:
        return timedelta(seconds=self.catalog_check_seconds)

    @property
    def caller_ttl(self) -> timedelta:
        return timedelta(seconds=self.caller_cache_seconds)


def load_cache_settings(env: Mapping[str, str]) -> CacheSettings:
    defaults = CacheSettings()
    return CacheSettings(
        catalog_check_seconds=_seconds(
            env, "GATEWAY_CATALOG_CHECK_SECONDS", defaults.catalog_check_seconds
        ),
        caller_cache_seconds=_seconds(
            env, "GATEWAY_CALLER_CACHE_SECONDS", defaults.caller_cache_seconds
        ),
    )


def _seconds(env: Mapping[str, str], variable: str, default: float) -> float:
    """0 turns the cache off (every request reads the database)."""
    text = (env.get(variable) or "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= _LONGEST:  # also refuses nan
        raise SettingsError(
            f"{variable}: expected a number of seconds from 0 (no cache) to {_LONGEST:g}, "
            f"got {text!r}"
        )
    return seconds
