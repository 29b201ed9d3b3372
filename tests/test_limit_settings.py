"""The request limits' settings (README "Limits"): defaults, overrides, and bad values stopping
the start with a message naming the variable."""

from __future__ import annotations

import pytest

from gateway.limit_settings import RequestLimits, load_request_limits
from gateway.settings import SettingsError, load_settings


def test_defaults_apply_without_configuration() -> None:
    assert load_request_limits({}) == RequestLimits()
    assert load_settings({"GATEWAY_JWT_SECRET": "s" * 40}).limits == RequestLimits()


def test_each_limit_is_read_from_its_variable() -> None:
    limits = load_request_limits(
        {
            "GATEWAY_MAX_BODY_BYTES": "2_000_000",
            "GATEWAY_MAX_QUERY_TOKENS": "8000",
            "GATEWAY_MAX_ALIASES": "50",
            "GATEWAY_MAX_DEPTH": "20",
            "GATEWAY_MAX_COST": "9000",
            "GATEWAY_MAX_COST_ANONYMOUS": "900",
            "GATEWAY_QUERY_TIMEOUT_SECONDS": "2.5",
        }
    )
    assert limits == RequestLimits(2_000_000, 8000, 50, 20, 9000, 900, 2.5)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEWAY_MAX_BODY_BYTES", "10"),
        ("GATEWAY_MAX_QUERY_TOKENS", "lots"),
        ("GATEWAY_MAX_ALIASES", "-1"),
        ("GATEWAY_MAX_DEPTH", "1.5"),
        ("GATEWAY_MAX_COST", "0"),
        ("GATEWAY_QUERY_TIMEOUT_SECONDS", "0"),
        ("GATEWAY_QUERY_TIMEOUT_SECONDS", "nan"),
        ("GATEWAY_QUERY_TIMEOUT_SECONDS", "a minute"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}: expected .*got '{value}'"):
        load_settings({"GATEWAY_JWT_SECRET": "s" * 40, variable: value})


def test_the_anonymous_budget_is_at_most_the_signed_in_one() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_MAX_COST_ANONYMOUS: expected at most"):
        load_request_limits({"GATEWAY_MAX_COST": "500", "GATEWAY_MAX_COST_ANONYMOUS": "600"})
