"""The settings of the rate limits and of Redis: defaults, and errors that name the variable."""

from __future__ import annotations

import re
from ipaddress import ip_network

import pytest

from gateway.settings import Settings, SettingsError, load_settings

BASE = {"GATEWAY_JWT_SECRET": "s" * 40}


def settings(**env: str) -> Settings:
    return load_settings({**BASE, **env})


def test_defaults() -> None:
    defaults = settings()
    assert defaults.rate_limit == "600/minute"
    assert defaults.rate_limit_anonymous == "120/minute"
    assert defaults.auth_failure_limit == "20/minute"
    assert defaults.trusted_proxies == ()
    assert defaults.redis_url is None
    assert defaults.redis_key_prefix == "billing-gateway"


def test_budgets_are_read_and_normalised() -> None:
    read = settings(
        GATEWAY_RATE_LIMIT="5000 per Hour",
        GATEWAY_RATE_LIMIT_ANONYMOUS="30/minute",
        GATEWAY_AUTH_FAILURE_LIMIT="100/day",
        GATEWAY_TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.7",
        REDIS_URL="redis://127.0.0.1:6379/2",
        GATEWAY_REDIS_KEY_PREFIX="gw-eu",
    )
    assert (read.rate_limit, read.rate_limit_anonymous, read.auth_failure_limit) == (
        "5000/hour",
        "30/minute",
        "100/day",
    )
    assert read.trusted_proxies == (ip_network("10.0.0.0/8"), ip_network("192.168.1.7/32"))
    assert read.redis_url == "redis://127.0.0.1:6379/2"
    assert read.redis_key_prefix == "gw-eu"


@pytest.mark.parametrize("value", ["0/minute", "600", "600/fortnight", "-5/second", "1.5/minute"])
def test_a_bad_budget_is_named(value: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings(GATEWAY_RATE_LIMIT_ANONYMOUS=value)
    assert str(error.value) == (
        "GATEWAY_RATE_LIMIT_ANONYMOUS: expected a budget such as 600/minute (a whole number "
        f"from 1, then /second, /minute, /hour or /day), got {value!r}"
    )


def test_a_bad_trusted_proxy_is_named() -> None:
    with pytest.raises(
        SettingsError, match=re.escape("GATEWAY_TRUSTED_PROXIES: 'lb.internal' is not an IP")
    ):
        settings(GATEWAY_TRUSTED_PROXIES="10.0.0.1,lb.internal")


def test_a_bad_redis_url_is_named() -> None:
    with pytest.raises(
        SettingsError, match=re.escape("REDIS_URL: expected a URL starting with redis://")
    ):
        settings(REDIS_URL="127.0.0.1:6379")
