"""How long a process keeps callers and the catalog (README "Caches and staleness"): defaults,
overrides, 0 turning a cache off, and bad values stopping the start naming the variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.cache_settings import CacheSettings, load_cache_settings
from gateway.settings import SettingsError, load_settings


def test_defaults_apply_without_configuration() -> None:
    settings = load_settings({"GATEWAY_JWT_SECRET": "s" * 40})
    assert settings.caches == CacheSettings() == load_cache_settings({})
    assert settings.caches.caller_ttl == timedelta(seconds=5)
    assert settings.caches.catalog_check == timedelta(seconds=1)


def test_each_is_read_from_its_variable_and_zero_turns_it_off() -> None:
    caches = load_cache_settings(
        {"GATEWAY_CALLER_CACHE_SECONDS": "0", "GATEWAY_CATALOG_CHECK_SECONDS": "2.5"}
    )
    assert caches == CacheSettings(catalog_check_seconds=2.5, caller_cache_seconds=0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEWAY_CALLER_CACHE_SECONDS", "-1"),
        ("GATEWAY_CALLER_CACHE_SECONDS", "301"),
        ("GATEWAY_CALLER_CACHE_SECONDS", "soon"),
        ("GATEWAY_CATALOG_CHECK_SECONDS", "nan"),
        ("GATEWAY_CATALOG_CHECK_SECONDS", "inf"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({"GATEWAY_JWT_SECRET": "s" * 40, variable: value})
